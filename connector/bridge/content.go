package bridge

import (
	"fmt"
	"strings"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
)

// excerptRunes is the length of the text kept for quotes and reactions.
const excerptRunes = 100

// quoteLine delimits a quote block in Bitrix24 chat text.
const quoteLine = "------------------------------------------------------"

// content is a WhatsApp message as Bitrix24 text and re-hosted files.
type content struct {
	text    string
	files   []inFile
	excerpt string
}

// convert renders every content kind the bridge forwards. Media that cannot
// be downloaded or is too large becomes a visible placeholder, as does any
// kind the bridge does not know.
func (in *inbound) convert(msg *waE2E.Message) content {
	var c content
	switch {
	case msg.GetConversation() != "":
		c.text = msg.GetConversation()
	case msg.GetExtendedTextMessage() != nil:
		c.text = msg.GetExtendedTextMessage().GetText()
	case msg.GetImageMessage() != nil:
		m := msg.GetImageMessage()
		c = in.media(m, "image", m.GetMimetype(), "", m.GetCaption(), m.GetFileLength())
	case msg.GetVideoMessage() != nil:
		m := msg.GetVideoMessage()
		c = in.media(m, "video", m.GetMimetype(), "", m.GetCaption(), m.GetFileLength())
	case msg.GetAudioMessage() != nil:
		m := msg.GetAudioMessage()
		kind := "audio"
		if m.GetPTT() {
			kind = "voice"
		}
		c = in.media(m, kind, m.GetMimetype(), "", "", m.GetFileLength())
	case msg.GetDocumentMessage() != nil:
		m := msg.GetDocumentMessage()
		c = in.media(m, "document", m.GetMimetype(), firstOf(m.GetFileName(), m.GetTitle()), m.GetCaption(), m.GetFileLength())
	case msg.GetStickerMessage() != nil:
		m := msg.GetStickerMessage()
		c = in.media(m, "sticker", m.GetMimetype(), "", "", m.GetFileLength())
	case msg.GetLocationMessage() != nil:
		m := msg.GetLocationMessage()
		c.text = in.location(m.GetDegreesLatitude(), m.GetDegreesLongitude(), m.GetName(), m.GetAddress())
	case msg.GetLiveLocationMessage() != nil:
		m := msg.GetLiveLocationMessage()
		c.text = in.location(m.GetDegreesLatitude(), m.GetDegreesLongitude(), m.GetCaption(), "")
	case msg.GetContactMessage() != nil:
		c.text = in.contact(msg.GetContactMessage())
	case msg.GetContactsArrayMessage() != nil:
		var parts []string
		for _, cm := range msg.GetContactsArrayMessage().GetContacts() {
			parts = append(parts, in.contact(cm))
		}
		c.text = strings.Join(parts, "[br][br]")
	default:
		c.text = in.b.text(in.lang, "bridge.unsupported")
	}
	if c.excerpt == "" {
		c.excerpt = excerpt(c.text)
	}
	c.text = in.withQuote(msg, c.text)
	return c
}

// media downloads a media message right away, because WhatsApp keeps media
// only for a limited time, and re-hosts it for the portal.
func (in *inbound) media(m whatsmeow.DownloadableMessage, kind, mimeType, name, caption string, size uint64) content {
	label := in.b.text(in.lang, "bridge.kind."+kind)
	c := content{text: caption, excerpt: excerpt("[" + label + "] " + caption)}
	placeholder := func(key string, args ...any) content {
		c.text = joinText(in.b.text(in.lang, key, args...), caption)
		return c
	}
	if size > uint64(in.b.opts.MaxInboundMedia) {
		return placeholder("bridge.media_too_large", label, megabytes(int64(size)))
	}
	if in.sess == nil {
		return placeholder("bridge.media_unavailable", label)
	}
	data, err := in.sess.Download(in.ctx, m)
	if err == nil && int64(len(data)) > in.b.opts.MaxInboundMedia {
		return placeholder("bridge.media_too_large", label, megabytes(int64(len(data))))
	}
	if err != nil {
		in.b.log.WarnContext(in.ctx, "Media download failed", "line_id", in.line.ID,
			"wa_message_id", in.evt.Info.ID, "kind", kind, "error", err)
		return placeholder("bridge.media_unavailable", label)
	}

	if mimeType == "" {
		mimeType = "application/octet-stream"
	}
	file := fileName(name, kind+"-"+in.evt.Info.ID, mimeType)
	url, err := in.b.rehost(in.ctx, in.line.ID, file, mimeType, data)
	if err != nil {
		in.b.log.ErrorContext(in.ctx, "Re-host media failed", "line_id", in.line.ID,
			"wa_message_id", in.evt.Info.ID, "error", err)
		return placeholder("bridge.media_unavailable", label)
	}
	c.files = []inFile{{URL: url, Name: file, Type: mimeType}}
	return c
}

func (in *inbound) location(lat, lng float64, name, address string) string {
	link := fmt.Sprintf("https://maps.google.com/?q=%.6f,%.6f", lat, lng)
	label := joinText(name, address)
	if label == "" {
		label = in.b.text(in.lang, "bridge.kind.location")
	}
	return "📍 " + label + "[br]" + link
}

// contact renders a shared contact card as its name and phone numbers.
func (in *inbound) contact(m *waE2E.ContactMessage) string {
	lines := []string{"👤 " + firstOf(m.GetDisplayName(), in.b.text(in.lang, "bridge.kind.contact"))}
	for _, l := range strings.Split(strings.ReplaceAll(m.GetVcard(), "\r\n", "\n"), "\n") {
		key, value, ok := strings.Cut(l, ":")
		if !ok || value == "" {
			continue
		}
		key = strings.ToUpper(key)
		if strings.HasPrefix(key, "TEL") || strings.HasPrefix(key, "ITEM1.TEL") || strings.Contains(key, ".TEL") {
			lines = append(lines, strings.TrimSpace(value))
		}
		if strings.HasPrefix(key, "EMAIL") {
			lines = append(lines, strings.TrimSpace(value))
		}
	}
	return strings.Join(lines, "[br]")
}

// withQuote prefixes a reply with a quote of the message it replies to: the
// excerpt the bridge stored, else the quoted text WhatsApp sent along.
func (in *inbound) withQuote(msg *waE2E.Message, text string) string {
	ci := contextInfo(msg)
	if ci.GetStanzaID() == "" {
		return text
	}
	quoted := in.b.excerptOf(in.ctx, in.line.ID, ci.GetStanzaID())
	if quoted == "…" {
		if q := ci.GetQuotedMessage(); q != nil {
			quoted = firstOf(excerpt(firstOf(q.GetConversation(), q.GetExtendedTextMessage().GetText())), "…")
		}
	}
	return quoteLine + "[br]" + quoted + "[br]" + quoteLine + "[br]" + text
}

func contextInfo(msg *waE2E.Message) *waE2E.ContextInfo {
	switch {
	case msg.GetExtendedTextMessage() != nil:
		return msg.GetExtendedTextMessage().GetContextInfo()
	case msg.GetImageMessage() != nil:
		return msg.GetImageMessage().GetContextInfo()
	case msg.GetVideoMessage() != nil:
		return msg.GetVideoMessage().GetContextInfo()
	case msg.GetAudioMessage() != nil:
		return msg.GetAudioMessage().GetContextInfo()
	case msg.GetDocumentMessage() != nil:
		return msg.GetDocumentMessage().GetContextInfo()
	case msg.GetStickerMessage() != nil:
		return msg.GetStickerMessage().GetContextInfo()
	case msg.GetLocationMessage() != nil:
		return msg.GetLocationMessage().GetContextInfo()
	case msg.GetContactMessage() != nil:
		return msg.GetContactMessage().GetContextInfo()
	}
	return nil
}

// excerpt returns the first excerptRunes runes of text on one line.
func excerpt(text string) string {
	text = strings.Join(strings.Fields(strings.ReplaceAll(text, "[br]", " ")), " ")
	return limitRunes(text, excerptRunes)
}

func joinText(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "[br]" + b
}

func firstOf(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// cleanBB removes brackets from a name put inside BB-code.
func cleanBB(s string) string {
	return strings.NewReplacer("[", "(", "]", ")").Replace(s)
}

func megabytes(n int64) string {
	return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
}
