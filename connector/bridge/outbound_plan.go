package bridge

import (
	"context"
	"fmt"
	"strings"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"google.golang.org/protobuf/proto"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/wabridge/b24wa/connector"
	"github.com/wabridge/b24wa/connector/bbcode"
	"github.com/wabridge/b24wa/connector/wa"
)

// plan picks the WhatsApp id of every part and stores the ids, with a
// message link per part, before anything is sent. The links also let the
// inbound side recognise these ids when WhatsApp echoes them back.
func (b *Bridge) plan(ctx context.Context, j *outJob) error {
	if len(j.p.Parts) > 0 {
		return nil
	}
	if strings.TrimSpace(bbcode.ToWhatsApp(j.p.Text)) != "" {
		j.p.Parts = append(j.p.Parts, outPart{File: -1})
	}
	for i := range j.p.Files {
		j.p.Parts = append(j.p.Parts, outPart{File: i})
	}
	for i := range j.p.Parts {
		j.p.Parts[i].WaID = j.sess.NewMessageID()
	}
	payload, err := encodePayload(j.p)
	if err != nil {
		return err
	}

	now := b.now()
	excerptText := excerpt(bbcode.ToPlain(j.p.Text))
	return b.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&connector.Delivery{}).Where("id = ? AND locked_by = ?", j.d.ID, j.d.LockedBy).
			Updates(map[string]any{"payload": payload, "remote_id": firstPartID(j.p), "updated_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errLockLost
		}
		for _, part := range j.p.Parts {
			link := connector.MessageLink{
				LineID: j.line.ID, ChatID: j.chat.ID, Direction: dirOut, WaMessageID: part.WaID,
				B24ChatID: j.p.ImChatID, B24MessageID: j.p.ImMessageID, TextExcerpt: truncate(excerptText, 255), SentAt: now,
			}
			if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&link).Error; err != nil {
				return fmt.Errorf("record message link %s: %w", part.WaID, err)
			}
		}
		j.d.Payload = payload
		return nil
	})
}

func firstPartID(p *outPayload) string {
	if len(p.Parts) == 0 {
		return ""
	}
	return p.Parts[0].WaID
}

// confirmDelivery reports to Bitrix24 that the operator's message reached
// WhatsApp. message.id must be an array and im must hold the event's own ids.
// Bitrix24 stores the ids as the message's external ids for later edits and
// deletes.
func (b *Bridge) confirmDelivery(ctx context.Context, j *outJob, ids []string) error {
	params := map[string]any{
		"CONNECTOR": j.line.ConnectorID,
		"LINE":      j.line.LineID,
		"MESSAGES": []any{map[string]any{
			"im":      map[string]any{"chat_id": j.p.ImChatID, "message_id": j.p.ImMessageID},
			"message": map[string]any{"id": ids, "date": b.now().Unix()},
			"chat":    map[string]any{"id": j.p.ChatExtID},
		}},
	}
	if err := b.opts.Caller.Call(ctx, j.line.PortalID, "imconnector.send.status.delivery", params, nil); err != nil {
		if isPermanent(err) {
			b.log.WarnContext(ctx, "Delivery confirmation rejected", "line_id", j.line.ID,
				"b24_message_id", j.p.ImMessageID, "error", err)
			return nil
		}
		return fmt.Errorf("confirm delivery of %s: %w", j.p.ImMessageID, err)
	}
	return nil
}

// markCustomerRead marks the customer's unread messages in the chat as read
// on WhatsApp, because an operator who replies has read the dialog. Groups
// are skipped, since their receipts need each sender.
func (b *Bridge) markCustomerRead(ctx context.Context, j *outJob) {
	if j.chat.IsGroup {
		return
	}
	var links []connector.MessageLink
	err := b.db.WithContext(ctx).Where("line_id = ? AND chat_id = ? AND direction = ? AND read_at IS NULL",
		j.line.ID, j.chat.ID, dirIn).Order("id").Limit(100).Find(&links).Error
	if err != nil || len(links) == 0 {
		return
	}
	ids := make([]types.MessageID, 0, len(links))
	rowIDs := make([]uint64, 0, len(links))
	for _, l := range links {
		ids = append(ids, l.WaMessageID)
		rowIDs = append(rowIDs, l.ID)
	}
	if err := j.sess.MarkRead(ctx, j.to, j.to, ids, b.now()); err != nil {
		b.log.WarnContext(ctx, "Mark customer messages read failed", "line_id", j.line.ID, "error", err)
		return
	}
	b.db.WithContext(ctx).Model(&connector.MessageLink{}).Where("id IN ?", rowIDs).Update("read_at", b.now())
}

// sendEdit edits the operator's WhatsApp message in place while WhatsApp
// allows it (EditWindow after sending); the first id of the message is its
// text part.
func (b *Bridge) sendEdit(ctx context.Context, j *outJob) error {
	target := j.p.TargetIDs[0]
	link, err := b.outLink(ctx, j.line.ID, target)
	if err != nil {
		return err
	}
	if b.now().Sub(link.SentAt) > b.opts.EditWindow {
		return fmt.Errorf("edit %s: %w", target, ErrEditWindow)
	}
	if err := b.planSingle(ctx, j); err != nil {
		return err
	}
	content := &waE2E.Message{Conversation: proto.String(bbcode.ToWhatsApp(j.p.Text))}
	b.pace(j.stop, j.line.ID)
	if _, err := j.sess.Send(ctx, j.to, j.sess.BuildEdit(j.to, target, content), wa.SendOptions{ID: j.p.Parts[0].WaID}); err != nil {
		return fmt.Errorf("send edit of %s: %w", target, err)
	}
	b.db.WithContext(ctx).Model(&connector.MessageLink{}).Where("id = ?", link.ID).
		Update("text_excerpt", truncate(excerpt(bbcode.ToPlain(j.p.Text)), 255))
	if err := b.confirmDelivery(ctx, j, j.p.TargetIDs); err != nil {
		return err
	}
	return b.finish(ctx, &j.d, j.p.Parts[0].WaID)
}

// sendRevoke deletes the operator's WhatsApp messages for everyone while
// WhatsApp allows it (RevokeWindow after sending).
func (b *Bridge) sendRevoke(ctx context.Context, j *outJob) error {
	target := j.p.TargetIDs[0]
	link, err := b.outLink(ctx, j.line.ID, target)
	if err != nil {
		return err
	}
	if b.now().Sub(link.SentAt) > b.opts.RevokeWindow {
		return fmt.Errorf("delete %s: %w", target, ErrRevokeWindow)
	}
	if err := b.planSingle(ctx, j); err != nil {
		return err
	}
	b.pace(j.stop, j.line.ID)
	revoke := j.sess.BuildRevoke(j.to, types.EmptyJID, target)
	if _, err := j.sess.Send(ctx, j.to, revoke, wa.SendOptions{ID: j.p.Parts[0].WaID}); err != nil {
		return fmt.Errorf("send delete of %s: %w", target, err)
	}
	return b.finish(ctx, &j.d, j.p.Parts[0].WaID)
}

// planSingle stores the id of the one protocol message an edit or delete
// sends.
func (b *Bridge) planSingle(ctx context.Context, j *outJob) error {
	if len(j.p.Parts) > 0 {
		return nil
	}
	j.p.Parts = []outPart{{WaID: j.sess.NewMessageID(), File: -1}}
	return b.savePayload(ctx, j)
}

func (b *Bridge) outLink(ctx context.Context, lineID uint64, waID string) (*connector.MessageLink, error) {
	var links []connector.MessageLink
	err := b.db.WithContext(ctx).Where("line_id = ? AND wa_message_id = ? AND direction = ?", lineID, waID, dirOut).
		Limit(1).Find(&links).Error
	if err != nil {
		return nil, fmt.Errorf("look up message %s: %w", waID, err)
	}
	if len(links) == 0 {
		return nil, fmt.Errorf("message %s: %w", waID, ErrUnknownMessage)
	}
	return &links[0], nil
}
