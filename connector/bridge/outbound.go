package bridge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/wabridge/b24wa/connector"
	"github.com/wabridge/b24wa/portal"
)

// HandleConnectorEvent stores the operator's messages, edits and deletes of
// an imconnector event as outbound deliveries and returns at once, because
// Bitrix24 never sends an event twice and waits for the response. A message is
// stored once per Bitrix24 message id, so a repeated event is harmless.
// Status and line delete events go to Options.Lines; dialog start and
// finish events are ignored. The caller has verified the application token.
func (b *Bridge) HandleConnectorEvent(ctx context.Context, p *portal.Portal, ev *portal.Event) error {
	switch ev.Name {
	case portal.EventMessageAdd, portal.EventMessageUpdate, portal.EventMessageDelete:
		return b.storeOperatorEvent(ctx, p, ev)
	case portal.EventStatusDelete:
		sd, err := ev.StatusDeleted()
		if err != nil {
			return err
		}
		return b.lineRemoved(ctx, p, sd.Line, false)
	case portal.EventLineDelete:
		line, err := ev.DeletedLine()
		if err != nil {
			return err
		}
		return b.lineRemoved(ctx, p, line, true)
	}
	return nil
}

func (b *Bridge) lineRemoved(ctx context.Context, p *portal.Portal, lineID string, deleted bool) error {
	b.log.InfoContext(ctx, "Connector removed from open line in Bitrix24", "portal_id", p.ID,
		"open_line", lineID, "line_deleted", deleted)
	if b.opts.Lines == nil {
		return nil
	}
	if deleted {
		if err := b.purgeDeletedLineMedia(ctx, p, lineID); err != nil {
			return err
		}
	}
	return b.opts.Lines.LineRemovedInBitrix(ctx, p.ID, lineID, deleted)
}

func (b *Bridge) storeOperatorEvent(ctx context.Context, p *portal.Portal, ev *portal.Event) error {
	msgs, err := ev.Messages()
	if err != nil {
		return err
	}
	var line connector.Line
	err = b.db.WithContext(ctx).Where("portal_id = ? AND line_id = ?", p.ID, msgs.Line).Take(&line).Error
	if isNotFound(err) {
		return fmt.Errorf("portal %d open line %s: %w", p.ID, msgs.Line, connector.ErrLineNotFound)
	}
	if err != nil {
		return fmt.Errorf("load portal %d open line %s: %w", p.ID, msgs.Line, err)
	}
	if msgs.Connector != "" && !strings.EqualFold(msgs.Connector, line.ConnectorID) {
		b.log.WarnContext(ctx, "Event for another connector ignored", "portal_id", p.ID,
			"line_id", line.ID, "connector", msgs.Connector)
		return nil
	}

	var errs []error
	for _, m := range msgs.Messages {
		if err := b.storeOperatorMessage(ctx, &line, ev.Name, m); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (b *Bridge) storeOperatorMessage(ctx context.Context, line *connector.Line, event string, m portal.ConnectorMessage) error {
	p := &outPayload{
		ImChatID: m.BitrixChatID, ImMessageID: m.BitrixMessageID, ChatExtID: m.ExternalChatID,
		UserID: m.UserID, Text: m.Text, TargetIDs: m.ExternalIDs,
	}
	for _, f := range m.Files {
		p.Files = append(p.Files, outFile{Name: f.Name, Type: f.Type, Link: f.Link, Size: f.Size})
	}
	kind, source := kindMessage, m.BitrixMessageID
	switch event {
	case portal.EventMessageUpdate:
		kind, source = kindEdit, m.BitrixMessageID+":"+shortHash(m.Text)
	case portal.EventMessageDelete:
		kind, source = kindRevoke, m.BitrixMessageID+":"+shortHash(strings.Join(m.ExternalIDs, ","))
	}
	if kind != kindMessage && len(m.ExternalIDs) == 0 {
		b.log.WarnContext(ctx, "Edit or delete without message id ignored", "line_id", line.ID,
			"b24_message_id", m.BitrixMessageID)
		return nil
	}

	payload, err := encodePayload(p)
	if err != nil {
		return err
	}
	_, err = b.enqueue(ctx, &connector.Delivery{
		PortalID: line.PortalID, LineID: line.ID, Direction: dirOut, Kind: kind, SourceID: source,
		ChatKey: truncate(m.ExternalChatID, 128), SeqAt: b.now(), Payload: payload,
	})
	return err
}

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}
