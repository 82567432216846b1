package bridge

import (
	"context"
	"fmt"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/wabridge/b24wa/connector"
	"github.com/wabridge/b24wa/connector/wa"
)

// inbound is one WhatsApp message being turned into a delivery.
type inbound struct {
	b    *Bridge
	ctx  context.Context
	line *connector.Line
	sess wa.Session // nil when the session is not live here; media then become placeholders
	chat *connector.Chat
	evt  *events.Message
	lang string
}

// store classifies the message and stores the matching delivery: a revoke
// or edit of an earlier message, a reaction note, the decrypted content of a
// placeholder, or a new message.
func (in *inbound) store() error {
	msg, info := in.evt.Message, in.evt.Info
	if pm := msg.GetProtocolMessage(); pm != nil {
		return in.storeProtocol(pm)
	}
	if r := msg.GetReactionMessage(); r != nil {
		return in.storeReaction(r)
	}

	seen, err := in.b.exists(in.ctx, in.line.ID, dirIn, kindMessage, info.ID)
	if err != nil {
		return err
	}
	if seen {
		return in.replacePlaceholder()
	}
	c := in.convert(msg)
	p := in.payload(c)
	p.Picture = in.b.avatar(in.ctx, in.sess, in.line, in.chat)
	return in.b.enqueueIn(in.ctx, in.line, in.chat, kindMessage, info.ID, info.Timestamp, p)
}

func (in *inbound) payload(c content) *inPayload {
	info := in.evt.Info
	text := c.text
	if info.IsGroup && !info.IsFromMe && info.PushName != "" {
		text = "[b]" + cleanBB(info.PushName) + ":[/b][br]" + text
	}
	if info.IsFromMe {
		text = in.b.text(in.lang, "bridge.from_phone") + "[br]" + text
	}
	return &inPayload{
		ChatID: in.chat.ID, WaID: info.ID, Date: info.Timestamp.Unix(), Text: text,
		Files: c.files, FromMe: info.IsFromMe, Excerpt: c.excerpt,
	}
}

// replacePlaceholder stores an update that replaces the placeholder of a
// message that could not be decrypted, once its retry arrives with the same
// id. A replay of an ordinary message is ignored.
func (in *inbound) replacePlaceholder() error {
	info := in.evt.Info
	var orig connector.Delivery
	err := in.b.db.WithContext(in.ctx).Where("line_id = ? AND direction = ? AND kind = ? AND source_id = ?",
		in.line.ID, dirIn, kindMessage, info.ID).Take(&orig).Error
	if err != nil {
		return fmt.Errorf("load delivery of message %s: %w", info.ID, err)
	}
	old, err := decodeIn(&orig)
	if err != nil || !old.Placeholder {
		return err
	}
	p := in.payload(in.convert(in.evt.Message))
	p.TargetID = info.ID
	in.b.log.InfoContext(in.ctx, "Decrypted retry replaces placeholder", "line_id", in.line.ID, "wa_message_id", info.ID)
	return in.b.enqueueIn(in.ctx, in.line, in.chat, kindUpdate, info.ID, in.b.now(), p)
}

// storeProtocol handles revokes and edits. A revoke of a message that never
// reached the bridge is ignored; an edit of one is posted as a new note.
func (in *inbound) storeProtocol(pm *waE2E.ProtocolMessage) error {
	info := in.evt.Info
	target := pm.GetKey().GetID()
	switch pm.GetType() {
	case waE2E.ProtocolMessage_REVOKE:
		known, err := in.b.exists(in.ctx, in.line.ID, dirIn, kindMessage, target)
		if err != nil || !known {
			return err
		}
		p := &inPayload{ChatID: in.chat.ID, WaID: info.ID, TargetID: target, Date: info.Timestamp.Unix()}
		return in.b.enqueueIn(in.ctx, in.line, in.chat, kindDelete, info.ID, info.Timestamp, p)
	case waE2E.ProtocolMessage_MESSAGE_EDIT:
		return in.storeEdit(target, pm.GetEditedMessage())
	}
	return nil
}

func (in *inbound) storeEdit(target string, edited *waE2E.Message) error {
	info := in.evt.Info
	c := in.convert(edited)
	known, err := in.b.exists(in.ctx, in.line.ID, dirIn, kindMessage, target)
	if err != nil {
		return err
	}
	if !known {
		c.text = in.b.text(in.lang, "bridge.edited", c.text)
		p := in.payload(c)
		return in.b.enqueueIn(in.ctx, in.line, in.chat, kindMessage, info.ID, info.Timestamp, p)
	}
	p := in.payload(c)
	p.TargetID = target
	return in.b.enqueueIn(in.ctx, in.line, in.chat, kindUpdate, info.ID, info.Timestamp, p)
}

// storeReaction posts a reaction as a short note quoting the message it
// belongs to; an empty reaction means the customer removed it.
func (in *inbound) storeReaction(r *waE2E.ReactionMessage) error {
	info := in.evt.Info
	excerpt := in.b.excerptOf(in.ctx, in.line.ID, r.GetKey().GetID())
	var text string
	if r.GetText() == "" {
		text = in.b.text(in.lang, "bridge.reaction_removed", excerpt)
	} else {
		text = in.b.text(in.lang, "bridge.reaction", r.GetText(), excerpt)
	}
	p := in.payload(content{text: text})
	return in.b.enqueueIn(in.ctx, in.line, in.chat, kindMessage, info.ID, info.Timestamp, p)
}

// excerptOf returns the stored excerpt of a message of either direction, or
// "…" when the bridge never saw it.
func (b *Bridge) excerptOf(ctx context.Context, lineID uint64, id string) string {
	var links []connector.MessageLink
	b.db.WithContext(ctx).Where("line_id = ? AND wa_message_id = ?", lineID, id).Limit(1).Find(&links)
	if len(links) > 0 && links[0].TextExcerpt != "" {
		return links[0].TextExcerpt
	}
	var ds []connector.Delivery
	b.db.WithContext(ctx).Where("line_id = ? AND direction = ? AND kind = ? AND source_id = ?",
		lineID, dirIn, kindMessage, id).Limit(1).Find(&ds)
	if len(ds) > 0 {
		if p, err := decodeIn(&ds[0]); err == nil && p.Excerpt != "" {
			return p.Excerpt
		}
	}
	return "…"
}
