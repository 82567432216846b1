package simulator

import (
	"fmt"

	"go.mau.fi/whatsmeow/proto/waCommon"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"
)

// buildMessageLocked turns an inbound request into the event whatsmeow
// would emit after decrypting it: the raw message as sent, unwrapped by
// whatsmeow's own UnwrapRaw. The caller holds s.mu.
func (s *Simulator) buildMessageLocked(dev *device, in InboundMessage, party inboundParty, media *mediaUpload) *events.Message {
	byLID := in.LID != ""
	source := messageSource(dev, party, byLID, in.FromMe)

	id := types.MessageID(in.ID)
	if id == "" {
		id = newCustomerMessageID()
	}
	pushName := in.PushName
	if in.FromMe {
		pushName = dev.pushName
	}
	info := types.MessageInfo{
		MessageSource: source,
		ID:            id,
		Type:          "text",
		PushName:      pushName,
		Timestamp:     s.clock.Now(),
	}

	b := contentBuilder{dev: dev, in: in, source: source, nowMS: info.Timestamp.UnixMilli()}
	raw := b.build(&info, media)
	if in.FromMe {
		raw = &waE2E.Message{DeviceSentMessage: &waE2E.DeviceSentMessage{
			DestinationJID: proto.String(source.Chat.String()),
			Message:        raw,
		}}
	}
	evt := &events.Message{Info: info, RawMessage: raw}
	return evt.UnwrapRaw()
}

// messageSource addresses a message by phone number or, when byLID, by the
// customer's LID with the phone in SenderAlt.
func messageSource(dev *device, party inboundParty, byLID, fromMe bool) types.MessageSource {
	customer, customerAlt := party.customerPN, party.customerLID
	own := dev.jid.ToNonAD()
	mode := types.AddressingModePN
	if byLID {
		customer, customerAlt = party.customerLID, party.customerPN
		own = dev.lid.ToNonAD()
		mode = types.AddressingModeLID
	}
	source := types.MessageSource{Chat: customer, AddressingMode: mode}
	if fromMe {
		source.Sender = own
		source.IsFromMe = true
		source.RecipientAlt = customerAlt
		return source
	}
	source.Sender = customer
	source.SenderAlt = customerAlt
	return source
}

// contentBuilder builds the waE2E content of one inbound message.
type contentBuilder struct {
	dev    *device
	in     InboundMessage
	source types.MessageSource
	nowMS  int64
}

func (b contentBuilder) build(info *types.MessageInfo, media *mediaUpload) *waE2E.Message {
	in := b.in
	switch {
	case media != nil:
		info.Type = "media"
		info.MediaType = mediaKinds[media.kind].infoType
		return mediaMessage(media, in.Text, b.replyContext())
	case in.Reaction != nil:
		info.Type = "reaction"
		return &waE2E.Message{ReactionMessage: &waE2E.ReactionMessage{
			Key:               b.keyFor(types.MessageID(in.Reaction.To)),
			Text:              proto.String(in.Reaction.Emoji),
			SenderTimestampMS: proto.Int64(b.nowMS),
		}}
	case in.Edit != "":
		info.Edit = types.EditAttributeMessageEdit
		return &waE2E.Message{EditedMessage: &waE2E.FutureProofMessage{Message: &waE2E.Message{
			ProtocolMessage: &waE2E.ProtocolMessage{
				Key:           b.ownKey(types.MessageID(in.Edit)),
				Type:          waE2E.ProtocolMessage_MESSAGE_EDIT.Enum(),
				EditedMessage: &waE2E.Message{Conversation: proto.String(in.Text)},
				TimestampMS:   proto.Int64(b.nowMS),
			},
		}}}
	case in.Revoke != "":
		info.Edit = types.EditAttributeSenderRevoke
		return &waE2E.Message{ProtocolMessage: &waE2E.ProtocolMessage{
			Key:  b.ownKey(types.MessageID(in.Revoke)),
			Type: waE2E.ProtocolMessage_REVOKE.Enum(),
		}}
	case in.Location != nil:
		info.Type = "media"
		info.MediaType = "location"
		return &waE2E.Message{LocationMessage: &waE2E.LocationMessage{
			DegreesLatitude:  proto.Float64(in.Location.Lat),
			DegreesLongitude: proto.Float64(in.Location.Lng),
			Name:             proto.String(in.Location.Name),
			ContextInfo:      b.replyContext(),
		}}
	case in.Contact != nil:
		info.Type = "media"
		info.MediaType = "vcard"
		return &waE2E.Message{ContactMessage: &waE2E.ContactMessage{
			DisplayName: proto.String(in.Contact.Name),
			Vcard:       proto.String(vcard(in.Contact)),
			ContextInfo: b.replyContext(),
		}}
	case in.ReplyTo != "":
		return &waE2E.Message{ExtendedTextMessage: &waE2E.ExtendedTextMessage{
			Text:        proto.String(in.Text),
			ContextInfo: b.replyContext(),
		}}
	default:
		return &waE2E.Message{Conversation: proto.String(in.Text)}
	}
}

// remoteJID is the chat as the author's phone names it: the customer's
// phone names the business, the business phone names the customer.
func (b contentBuilder) remoteJID() string {
	if b.in.FromMe {
		return b.source.Chat.String()
	}
	if b.source.AddressingMode == types.AddressingModeLID {
		return b.dev.lid.ToNonAD().String()
	}
	return b.dev.jid.ToNonAD().String()
}

// ownKey refers to a message of the author, for edits and revokes.
func (b contentBuilder) ownKey(id types.MessageID) *waCommon.MessageKey {
	return &waCommon.MessageKey{RemoteJID: proto.String(b.remoteJID()), FromMe: proto.Bool(true), ID: proto.String(id)}
}

// keyFor refers to any message of the chat from the author's side: FromMe
// is true when the author wrote it.
func (b contentBuilder) keyFor(id types.MessageID) *waCommon.MessageKey {
	fromMe := !b.dev.sentByBusiness(id)
	if b.in.FromMe {
		fromMe = !fromMe
	}
	return &waCommon.MessageKey{RemoteJID: proto.String(b.remoteJID()), FromMe: proto.Bool(fromMe), ID: proto.String(id)}
}

// replyContext quotes in.ReplyTo, or returns nil when the message is no reply.
func (b contentBuilder) replyContext() *waE2E.ContextInfo {
	if b.in.ReplyTo == "" {
		return nil
	}
	id := types.MessageID(b.in.ReplyTo)
	participant := b.source.Sender
	if b.dev.sentByBusiness(id) {
		participant = b.dev.jid.ToNonAD()
		if b.source.AddressingMode == types.AddressingModeLID {
			participant = b.dev.lid.ToNonAD()
		}
	} else if b.in.FromMe {
		participant = b.source.Chat
	}
	quoted := b.dev.known[id]
	if quoted == nil {
		quoted = &waE2E.Message{Conversation: proto.String("")}
	}
	return &waE2E.ContextInfo{
		StanzaID:      proto.String(id),
		Participant:   proto.String(participant.String()),
		QuotedMessage: proto.Clone(quoted).(*waE2E.Message),
	}
}

// sentByBusiness reports whether id is a message of the business side:
// sent by the app, or typed on the business phone.
func (dev *device) sentByBusiness(id types.MessageID) bool {
	for _, out := range dev.outbound {
		if out.ID == id {
			return true
		}
	}
	return dev.fromMe[id]
}

func vcard(c *InboundContact) string {
	return fmt.Sprintf("BEGIN:VCARD\nVERSION:3.0\nFN:%s\nTEL;type=CELL;waid=%s:+%s\nEND:VCARD", c.Name, c.Phone, c.Phone)
}
