package simulator

import (
	"encoding/base64"
	"errors"
	"testing"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
)

const (
	shopPhone     = "79001234567"
	customerPhone = "79119876543"
)

func TestInboundText(t *testing.T) {
	f := newFixture(t)
	_, rec := f.linked(t, shopPhone)

	id, err := f.sim.Inbound(InboundMessage{To: shopPhone, From: "+7 (911) 987-65-43", PushName: "Anna", Text: "Hello"})
	if err != nil {
		t.Fatalf("inbound: %v", err)
	}
	msg := nextMessage(t, rec)
	customer := types.NewJID(customerPhone, types.DefaultUserServer)
	if msg.Info.ID != id || msg.Info.Chat != customer || msg.Info.Sender != customer {
		t.Errorf("info = %+v, want id %s from %s", msg.Info, id, customer)
	}
	if msg.Info.IsFromMe || msg.Info.AddressingMode != types.AddressingModePN || msg.Info.PushName != "Anna" {
		t.Errorf("source = %+v, want a PN-addressed message from Anna", msg.Info.MessageSource)
	}
	if msg.Message.GetConversation() != "Hello" {
		t.Errorf("text = %q, want Hello", msg.Message.GetConversation())
	}
	if !msg.Info.Timestamp.Equal(testStart) {
		t.Errorf("timestamp = %s, want the fake clock's %s", msg.Info.Timestamp, testStart)
	}
}

func TestInboundByLID(t *testing.T) {
	f := newFixture(t)
	sess, rec := f.linked(t, shopPhone)

	if _, err := f.sim.Inbound(InboundMessage{To: shopPhone, LID: "236523865788507", Text: "hidden"}); err != nil {
		t.Fatal(err)
	}
	msg := nextMessage(t, rec)
	lid := types.NewJID("236523865788507", types.HiddenUserServer)
	if msg.Info.Chat != lid || msg.Info.Sender != lid || !msg.Info.SenderAlt.IsEmpty() {
		t.Errorf("LID-only source = %+v, want chat and sender %s and no SenderAlt", msg.Info.MessageSource, lid)
	}
	if msg.Info.AddressingMode != types.AddressingModeLID {
		t.Errorf("addressing mode = %q, want lid", msg.Info.AddressingMode)
	}
	if pn, _ := sess.PNForLID(t.Context(), lid); !pn.IsEmpty() {
		t.Errorf("PNForLID before any mapping = %s, want empty", pn)
	}

	if _, err := f.sim.Inbound(InboundMessage{To: shopPhone, LID: "236523865788507@lid", From: customerPhone, Text: "now with phone"}); err != nil {
		t.Fatal(err)
	}
	msg = nextMessage(t, rec)
	customer := types.NewJID(customerPhone, types.DefaultUserServer)
	if msg.Info.SenderAlt != customer {
		t.Errorf("SenderAlt = %s, want %s", msg.Info.SenderAlt, customer)
	}
	if pn, _ := sess.PNForLID(t.Context(), lid); pn != customer {
		t.Errorf("PNForLID = %s, want %s", pn, customer)
	}
}

func TestInboundMediaDownload(t *testing.T) {
	f := newFixture(t)
	sess, rec := f.linked(t, shopPhone)
	payload := []byte("not really a picture")

	tests := []struct {
		kind      string
		mediaType string
		get       func(*waE2E.Message) whatsmeow.DownloadableMessage
		mime      func(*waE2E.Message) string
	}{
		{"image", "image", func(m *waE2E.Message) whatsmeow.DownloadableMessage { return m.GetImageMessage() }, func(m *waE2E.Message) string { return m.GetImageMessage().GetMimetype() }},
		{"video", "video", func(m *waE2E.Message) whatsmeow.DownloadableMessage { return m.GetVideoMessage() }, func(m *waE2E.Message) string { return m.GetVideoMessage().GetMimetype() }},
		{"audio", "audio", func(m *waE2E.Message) whatsmeow.DownloadableMessage { return m.GetAudioMessage() }, func(m *waE2E.Message) string { return m.GetAudioMessage().GetMimetype() }},
		{"voice", "ptt", func(m *waE2E.Message) whatsmeow.DownloadableMessage { return m.GetAudioMessage() }, func(m *waE2E.Message) string { return m.GetAudioMessage().GetMimetype() }},
		{"document", "document", func(m *waE2E.Message) whatsmeow.DownloadableMessage { return m.GetDocumentMessage() }, func(m *waE2E.Message) string { return m.GetDocumentMessage().GetMimetype() }},
		{"sticker", "sticker", func(m *waE2E.Message) whatsmeow.DownloadableMessage { return m.GetStickerMessage() }, func(m *waE2E.Message) string { return m.GetStickerMessage().GetMimetype() }},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			media := &InboundMedia{Kind: tt.kind, MIME: "application/x-test", Name: "a.bin", Base64: base64.StdEncoding.EncodeToString(payload)}
			if _, err := f.sim.Inbound(InboundMessage{To: shopPhone, From: customerPhone, Text: "caption", Media: media}); err != nil {
				t.Fatal(err)
			}
			msg := nextMessage(t, rec)
			if msg.Info.Type != "media" || msg.Info.MediaType != tt.mediaType {
				t.Errorf("type = %q/%q, want media/%s", msg.Info.Type, msg.Info.MediaType, tt.mediaType)
			}
			att := tt.get(msg.Message)
			if att == nil || att.GetDirectPath() == "" {
				t.Fatalf("message has no %s attachment: %v", tt.kind, msg.Message)
			}
			if got := tt.mime(msg.Message); got != "application/x-test" {
				t.Errorf("mime = %q", got)
			}
			data, err := sess.Download(t.Context(), att)
			if err != nil {
				t.Fatalf("download: %v", err)
			}
			if string(data) != string(payload) {
				t.Errorf("downloaded %q, want %q", data, payload)
			}
			if tt.kind == "voice" && !msg.Message.GetAudioMessage().GetPTT() {
				t.Error("voice message is not marked PTT")
			}
			if tt.kind == "document" && msg.Message.GetDocumentMessage().GetFileName() != "a.bin" {
				t.Errorf("file name = %q", msg.Message.GetDocumentMessage().GetFileName())
			}
			if !f.sim.ExpireMedia(att.GetDirectPath()) {
				t.Fatal("ExpireMedia did not know the path")
			}
			if _, err := sess.Download(t.Context(), att); !errors.Is(err, whatsmeow.ErrMediaDownloadFailedWith404) {
				t.Errorf("download of expired media: err = %v, want 404", err)
			}
		})
	}
}

func TestInboundReplyReactionEditRevoke(t *testing.T) {
	f := newFixture(t)
	sess, rec := f.linked(t, shopPhone)
	customer := types.NewJID(customerPhone, types.DefaultUserServer)
	sent, err := sess.Send(t.Context(), customer, &waE2E.Message{Conversation: strPtr("Your order is ready")}, sendOpts(""))
	if err != nil {
		t.Fatal(err)
	}
	first, err := f.sim.Inbound(InboundMessage{To: shopPhone, From: customerPhone, Text: "thanks"})
	if err != nil {
		t.Fatal(err)
	}
	nextMessage(t, rec)

	if _, err := f.sim.Inbound(InboundMessage{To: shopPhone, From: customerPhone, Text: "when?", ReplyTo: sent.ID}); err != nil {
		t.Fatal(err)
	}
	reply := nextMessage(t, rec)
	ci := reply.Message.GetExtendedTextMessage().GetContextInfo()
	if ci.GetStanzaID() != sent.ID || ci.GetQuotedMessage().GetConversation() != "Your order is ready" {
		t.Errorf("reply context = %v, want a quote of %s", ci, sent.ID)
	}
	if ci.GetParticipant() != types.NewJID(shopPhone, types.DefaultUserServer).String() {
		t.Errorf("quoted participant = %q, want the shop", ci.GetParticipant())
	}

	if _, err := f.sim.Inbound(InboundMessage{To: shopPhone, From: customerPhone, Reaction: &InboundReaction{To: sent.ID, Emoji: "👍"}}); err != nil {
		t.Fatal(err)
	}
	reaction := nextMessage(t, rec).Message.GetReactionMessage()
	if reaction.GetText() != "👍" || reaction.GetKey().GetID() != sent.ID || reaction.GetKey().GetFromMe() {
		t.Errorf("reaction = %v, want 👍 on the shop's %s", reaction, sent.ID)
	}

	if _, err := f.sim.Inbound(InboundMessage{To: shopPhone, From: customerPhone, Edit: first, Text: "thanks a lot"}); err != nil {
		t.Fatal(err)
	}
	edit := nextMessage(t, rec)
	pm := edit.Message.GetProtocolMessage()
	if !edit.IsEdit || edit.Info.Edit != types.EditAttributeMessageEdit {
		t.Errorf("edit flags: IsEdit %v, Edit %q", edit.IsEdit, edit.Info.Edit)
	}
	if pm.GetType() != waE2E.ProtocolMessage_MESSAGE_EDIT || pm.GetKey().GetID() != first || pm.GetEditedMessage().GetConversation() != "thanks a lot" {
		t.Errorf("edit protocol message = %v", pm)
	}

	if _, err := f.sim.Inbound(InboundMessage{To: shopPhone, From: customerPhone, Revoke: first}); err != nil {
		t.Fatal(err)
	}
	revoke := nextMessage(t, rec)
	rpm := revoke.Message.GetProtocolMessage()
	if rpm.GetType() != waE2E.ProtocolMessage_REVOKE || rpm.GetKey().GetID() != first || revoke.Info.Edit != types.EditAttributeSenderRevoke {
		t.Errorf("revoke = %v, edit attribute %q", rpm, revoke.Info.Edit)
	}
}

func TestInboundLocationContactFromMe(t *testing.T) {
	f := newFixture(t)
	_, rec := f.linked(t, shopPhone)

	if _, err := f.sim.Inbound(InboundMessage{To: shopPhone, From: customerPhone, Location: &InboundLocation{Lat: 55.75, Lng: 37.61, Name: "Red Square"}}); err != nil {
		t.Fatal(err)
	}
	loc := nextMessage(t, rec).Message.GetLocationMessage()
	if loc.GetDegreesLatitude() != 55.75 || loc.GetDegreesLongitude() != 37.61 || loc.GetName() != "Red Square" {
		t.Errorf("location = %v", loc)
	}

	if _, err := f.sim.Inbound(InboundMessage{To: shopPhone, From: customerPhone, Contact: &InboundContact{Name: "Ivan", Phone: "79005554433"}}); err != nil {
		t.Fatal(err)
	}
	contact := nextMessage(t, rec).Message.GetContactMessage()
	if contact.GetDisplayName() != "Ivan" || contact.GetVcard() == "" {
		t.Errorf("contact = %v", contact)
	}

	if _, err := f.sim.Inbound(InboundMessage{To: shopPhone, From: customerPhone, Text: "typed on the phone", FromMe: true}); err != nil {
		t.Fatal(err)
	}
	mine := nextMessage(t, rec)
	customer := types.NewJID(customerPhone, types.DefaultUserServer)
	if !mine.Info.IsFromMe || mine.Info.Chat != customer || mine.Info.Sender.User != shopPhone {
		t.Errorf("from-me source = %+v", mine.Info.MessageSource)
	}
	if mine.Info.DeviceSentMeta == nil || mine.Info.DeviceSentMeta.DestinationJID != customer.String() {
		t.Errorf("DeviceSentMeta = %+v, want destination %s", mine.Info.DeviceSentMeta, customer)
	}
	if mine.Message.GetConversation() != "typed on the phone" {
		t.Errorf("text = %q", mine.Message.GetConversation())
	}
}

func TestInboundUndecryptableThenRetry(t *testing.T) {
	f := newFixture(t)
	_, rec := f.linked(t, shopPhone)
	id, err := f.sim.Inbound(InboundMessage{To: shopPhone, From: customerPhone, Text: "secret", Undecryptable: true})
	if err != nil {
		t.Fatal(err)
	}
	undecryptable := next[*events.UndecryptableMessage](t, rec)
	if undecryptable.Info.ID != id {
		t.Errorf("UndecryptableMessage id = %s, want %s", undecryptable.Info.ID, id)
	}
	msg := nextMessage(t, rec)
	if msg.Info.ID != id || msg.RetryCount != 1 {
		t.Errorf("retried message id %s retry %d, want %s and 1", msg.Info.ID, msg.RetryCount, id)
	}
}

func TestInboundInvalid(t *testing.T) {
	f := newFixture(t)
	f.linked(t, shopPhone)
	tests := []struct {
		name string
		in   InboundMessage
		want error
	}{
		{"unknown number", InboundMessage{To: "79990000000", From: customerPhone, Text: "hi"}, ErrNotLinked},
		{"no sender", InboundMessage{To: shopPhone, Text: "hi"}, ErrInvalidRequest},
		{"no content", InboundMessage{To: shopPhone, From: customerPhone}, ErrInvalidRequest},
		{"two kinds", InboundMessage{To: shopPhone, From: customerPhone, Revoke: "A", Edit: "B", Text: "x"}, ErrInvalidRequest},
		{"bad media kind", InboundMessage{To: shopPhone, From: customerPhone, Media: &InboundMedia{Kind: "gif", Base64: "AA=="}}, ErrInvalidRequest},
		{"bad base64", InboundMessage{To: shopPhone, From: customerPhone, Media: &InboundMedia{Kind: "image", Base64: "%%%"}}, ErrInvalidRequest},
		{"bad lid", InboundMessage{To: shopPhone, LID: "abc", Text: "x"}, ErrInvalidRequest},
		{"edit without text", InboundMessage{To: shopPhone, From: customerPhone, Edit: "A"}, ErrInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := f.sim.Inbound(tt.in); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func strPtr(s string) *string { return &s }
