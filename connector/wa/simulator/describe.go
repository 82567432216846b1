package simulator

import (
	"go.mau.fi/whatsmeow/proto/waE2E"
)

// describeOutgoing reads what the app sent: the kind, text, attachment and
// the message it refers to, for OutboundMessage.
func describeOutgoing(msg *waE2E.Message) *OutboundMessage {
	out := &OutboundMessage{Kind: "other"}
	if inner := msg.GetEditedMessage().GetMessage(); inner != nil {
		msg = inner
	}
	if proto := msg.GetProtocolMessage(); proto != nil {
		switch proto.GetType() {
		case waE2E.ProtocolMessage_MESSAGE_EDIT:
			out.Kind = "edit"
			out.EditOf = proto.GetKey().GetID()
			out.Text = textOf(proto.GetEditedMessage())
		case waE2E.ProtocolMessage_REVOKE:
			out.Kind = "revoke"
			out.RevokeOf = proto.GetKey().GetID()
		}
		return out
	}
	if r := msg.GetReactionMessage(); r != nil {
		out.Kind = "reaction"
		out.Text = r.GetText()
		out.ReactionTo = r.GetKey().GetID()
		return out
	}

	out.Kind, out.Media = mediaOf(msg)
	out.Text = textOf(msg)
	out.ReplyTo = contextOf(msg).GetStanzaID()
	return out
}

// textOf returns the text or caption of a content message.
func textOf(msg *waE2E.Message) string {
	switch {
	case msg.Conversation != nil:
		return msg.GetConversation()
	case msg.ExtendedTextMessage != nil:
		return msg.GetExtendedTextMessage().GetText()
	case msg.ImageMessage != nil:
		return msg.GetImageMessage().GetCaption()
	case msg.VideoMessage != nil:
		return msg.GetVideoMessage().GetCaption()
	case msg.DocumentMessage != nil:
		return msg.GetDocumentMessage().GetCaption()
	case msg.LocationMessage != nil:
		return msg.GetLocationMessage().GetName()
	case msg.ContactMessage != nil:
		return msg.GetContactMessage().GetDisplayName()
	}
	return ""
}

// mediaOf returns the kind of a content message and its attachment, if any.
func mediaOf(msg *waE2E.Message) (string, *OutboundMedia) {
	switch {
	case msg.ImageMessage != nil:
		m := msg.GetImageMessage()
		return "image", &OutboundMedia{MIME: m.GetMimetype(), Size: m.GetFileLength(), DirectPath: m.GetDirectPath()}
	case msg.VideoMessage != nil:
		m := msg.GetVideoMessage()
		return "video", &OutboundMedia{MIME: m.GetMimetype(), Size: m.GetFileLength(), DirectPath: m.GetDirectPath()}
	case msg.AudioMessage != nil:
		m := msg.GetAudioMessage()
		kind := "audio"
		if m.GetPTT() {
			kind = "voice"
		}
		return kind, &OutboundMedia{MIME: m.GetMimetype(), Size: m.GetFileLength(), DirectPath: m.GetDirectPath()}
	case msg.DocumentMessage != nil:
		m := msg.GetDocumentMessage()
		return "document", &OutboundMedia{MIME: m.GetMimetype(), Name: m.GetFileName(), Size: m.GetFileLength(), DirectPath: m.GetDirectPath()}
	case msg.StickerMessage != nil:
		m := msg.GetStickerMessage()
		return "sticker", &OutboundMedia{MIME: m.GetMimetype(), Size: m.GetFileLength(), DirectPath: m.GetDirectPath()}
	case msg.LocationMessage != nil:
		return "location", nil
	case msg.ContactMessage != nil:
		return "contact", nil
	case msg.Conversation != nil, msg.ExtendedTextMessage != nil:
		return "text", nil
	}
	return "other", nil
}

// contextOf returns the ContextInfo of a content message (replies live there).
func contextOf(msg *waE2E.Message) *waE2E.ContextInfo {
	switch {
	case msg.ExtendedTextMessage != nil:
		return msg.GetExtendedTextMessage().GetContextInfo()
	case msg.ImageMessage != nil:
		return msg.GetImageMessage().GetContextInfo()
	case msg.VideoMessage != nil:
		return msg.GetVideoMessage().GetContextInfo()
	case msg.AudioMessage != nil:
		return msg.GetAudioMessage().GetContextInfo()
	case msg.DocumentMessage != nil:
		return msg.GetDocumentMessage().GetContextInfo()
	case msg.StickerMessage != nil:
		return msg.GetStickerMessage().GetContextInfo()
	}
	return nil
}
