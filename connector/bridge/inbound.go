package bridge

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/wabridge/b24wa/connector"
	"github.com/wabridge/b24wa/portal"
)

// HandleWhatsApp stores a WhatsApp event of a line as an inbound delivery.
// It returns nil only once the event is stored or deliberately ignored
// (status broadcasts, groups on lines without groups, our own echoes), so an
// error makes whatsmeow skip the ack and WhatsApp deliver the event again.
// Replays are harmless: a delivery is unique on the line and message id.
func (b *Bridge) HandleWhatsApp(ctx context.Context, line *connector.Line, evt any) error {
	var err error
	switch e := evt.(type) {
	case *events.Message:
		err = b.handleMessage(ctx, line, e)
	case *events.UndecryptableMessage:
		err = b.handleUndecryptable(ctx, line, e)
	case *events.Receipt:
		err = b.handleReceipt(ctx, line, e)
	}
	// NOTE: *events.HistorySync and *events.MediaRetry are acknowledged and
	// dropped: history import is not built, and media that failed to download
	// stays a placeholder instead of being re-requested from the phone.
	if err != nil {
		return fmt.Errorf("line %d: %w", line.ID, err)
	}
	return nil
}

// ignored reports chats the bridge does not forward: status updates,
// broadcast lists, channels, and groups unless the line enables them.
func (b *Bridge) ignored(ctx context.Context, line *connector.Line, info types.MessageSource, id string) bool {
	switch info.Chat.Server {
	case types.BroadcastServer, types.NewsletterServer:
		return true
	case types.GroupServer:
		if !line.GroupsEnabled {
			b.log.DebugContext(ctx, "Group message ignored", "line_id", line.ID, "wa_message_id", id)
			return true
		}
	}
	return false
}

func (b *Bridge) handleMessage(ctx context.Context, line *connector.Line, e *events.Message) error {
	info := e.Info
	if e.Message == nil || b.ignored(ctx, line, info.MessageSource, info.ID) {
		return nil
	}
	if info.IsFromMe {
		ours, err := b.isOurMessage(ctx, line.ID, info.ID)
		if err != nil || ours {
			return err
		}
	}

	sess, _ := b.session(line.ID)
	chat, err := b.resolveChat(ctx, sess, line, peerOf(info))
	if err != nil {
		return err
	}
	in := &inbound{b: b, ctx: ctx, line: line, sess: sess, chat: chat, evt: e, lang: b.portalLang(ctx, line.PortalID)}
	return in.store()
}

// peerOf returns the customer side of a message: the chat, and the
// alternative address of the sender, or of the recipient for own messages.
func peerOf(info types.MessageInfo) peer {
	if info.IsFromMe {
		return peer{chat: info.Chat, alt: info.RecipientAlt}
	}
	p := peer{chat: info.Chat, pushName: info.PushName}
	if info.Chat.Server != types.GroupServer {
		p.alt = info.SenderAlt
	}
	return p
}

// isOurMessage reports whether a message id is one this bridge sent, so an
// echo of an operator message is not mirrored back into the dialog.
func (b *Bridge) isOurMessage(ctx context.Context, lineID uint64, id string) (bool, error) {
	var n int64
	err := b.db.WithContext(ctx).Model(&connector.MessageLink{}).
		Where("line_id = ? AND wa_message_id = ? AND direction = ?", lineID, id, dirOut).Count(&n).Error
	if err != nil {
		return false, fmt.Errorf("look up message %s: %w", id, err)
	}
	return n > 0, nil
}

func (b *Bridge) handleUndecryptable(ctx context.Context, line *connector.Line, e *events.UndecryptableMessage) error {
	info := e.Info
	if b.ignored(ctx, line, info.MessageSource, info.ID) || e.UnavailableType == events.UnavailableTypeViewOnce {
		return nil
	}
	sess, _ := b.session(line.ID)
	chat, err := b.resolveChat(ctx, sess, line, peerOf(info))
	if err != nil {
		return err
	}
	lang := b.portalLang(ctx, line.PortalID)
	p := &inPayload{
		ChatID: chat.ID, WaID: info.ID, Date: info.Timestamp.Unix(), FromMe: info.IsFromMe,
		Text: b.text(lang, "bridge.undecryptable"), Placeholder: true,
	}
	b.log.InfoContext(ctx, "Undecryptable message stored as placeholder", "line_id", line.ID, "wa_message_id", info.ID)
	return b.enqueueIn(ctx, line, chat, kindMessage, info.ID, info.Timestamp, p)
}

// handleReceipt forwards the customer's read receipts for operator messages.
func (b *Bridge) handleReceipt(ctx context.Context, line *connector.Line, e *events.Receipt) error {
	if e.Type != types.ReceiptTypeRead || e.IsFromMe || len(e.MessageIDs) == 0 {
		return nil
	}
	if e.Chat.Server == types.GroupServer || e.Chat.Server == types.BroadcastServer {
		return nil
	}
	pn, lid := splitAddresses(e.Chat.ToNonAD(), e.SenderAlt.ToNonAD())
	chat, err := b.findChat(ctx, line.ID, pn, lid)
	if err != nil || chat == nil {
		return err
	}
	source := "read:" + strings.Join(e.MessageIDs, ",")
	p := &inPayload{ChatID: chat.ID, Date: e.Timestamp.Unix(), ReadIDs: e.MessageIDs}
	return b.enqueueIn(ctx, line, chat, kindRead, truncate(source, 191), e.Timestamp, p)
}

// enqueueIn stores an inbound delivery in the chat's queue.
func (b *Bridge) enqueueIn(ctx context.Context, line *connector.Line, chat *connector.Chat, kind, source string,
	at time.Time, p *inPayload) error {
	payload, err := encodePayload(p)
	if err != nil {
		return err
	}
	if at.IsZero() {
		at = b.now()
	}
	_, err = b.enqueue(ctx, &connector.Delivery{
		PortalID: line.PortalID, LineID: line.ID, Direction: dirIn, Kind: kind, SourceID: source,
		ChatKey: chat.PersonID, SeqAt: at, Payload: payload,
	})
	return err
}

// portalLang returns the language of a portal for texts posted into its
// dialogs, English when unknown.
func (b *Bridge) portalLang(ctx context.Context, portalID uint64) string {
	var langs []string
	err := b.db.WithContext(ctx).Model(&portal.Portal{}).Where("id = ?", portalID).Limit(1).Pluck("lang", &langs).Error
	if err != nil || len(langs) == 0 {
		return "en"
	}
	return langs[0]
}

// text returns a translated text, or the key when no Translator is set.
func (b *Bridge) text(lang, key string, args ...any) string {
	if b.opts.Texts == nil {
		return key
	}
	return b.opts.Texts.T(lang, key, args...)
}
