package bridge_test

import (
	"bytes"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/connector"
	"github.com/wabridge/b24wa/connector/wa/simulator"
)

func TestInboundTextReachesOpenLine(t *testing.T) {
	each(t, func(t *testing.T, db *gorm.DB) {
		e := newEnv(t, db, envOptions{})
		e.start(t)
		id := e.inbound(t, simulator.InboundMessage{From: customer, PushName: "Maria 🌸 Lopez2", Text: "Hello"})

		got := e.received(t, 1)[0]
		if !got.Success {
			t.Fatalf("portal rejected the message: %+v", got)
		}
		if got.ExternalID != id || got.Message["text"] != "Hello" {
			t.Errorf("message = %v, want id %s and text Hello", got.Message, id)
		}
		if got.Chat["id"] != "wa:"+customer || got.User["id"] != "wa:"+customer {
			t.Errorf("chat %v user %v, want person id wa:%s", got.Chat, got.User, customer)
		}
		if got.User["name"] != "Maria" || got.User["last_name"] != "Lopez" {
			t.Errorf("user name = %v %v, want Maria Lopez", got.User["name"], got.User["last_name"])
		}
		if got.User["phone"] != "+"+customer || got.User["url"] != "https://wa.me/"+customer {
			t.Errorf("user phone/url = %v %v", got.User["phone"], got.User["url"])
		}
		if got.Message["date"] == nil {
			t.Error("message.date is missing")
		}

		var chat connector.Chat
		eventually(t, "chat ids stored", func() bool {
			db.Where("person_id = ?", "wa:"+customer).Take(&chat)
			return chat.B24ChatID != ""
		})
		if chat.PushName != "Maria 🌸 Lopez2" {
			t.Errorf("push name stored as %q, want the raw WhatsApp name", chat.PushName)
		}
		var link connector.MessageLink
		if err := db.Where("wa_message_id = ?", id).Take(&link).Error; err != nil {
			t.Fatalf("message link: %v", err)
		}
		if link.Direction != "in" || link.B24ChatID != chat.B24ChatID {
			t.Errorf("link = %+v, want direction in and chat %s", link, chat.B24ChatID)
		}
	})
}

func TestInboundReplayStoredOnce(t *testing.T) {
	each(t, func(t *testing.T, db *gorm.DB) {
		e := newEnv(t, db, envOptions{})
		e.start(t)
		e.inbound(t, simulator.InboundMessage{From: customer, Text: "once", ID: "3EB0REPLAY01"})
		e.received(t, 1)
		for range 3 {
			e.inbound(t, simulator.InboundMessage{From: customer, Text: "once", ID: "3EB0REPLAY01"})
		}
		e.inbound(t, simulator.InboundMessage{From: customer, Text: "after"})
		got := e.received(t, 2)
		if len(got) != 2 || got[1].Message["text"] != "after" {
			t.Fatalf("portal got %d messages, want the replayed one once and then 'after'", len(got))
		}
		if n := len(e.deliveries(t, "in")); n != 2 {
			t.Errorf("stored %d inbound deliveries, want 2", n)
		}
	})
}

func TestInboundLIDThenPhoneOneDialog(t *testing.T) {
	each(t, func(t *testing.T, db *gorm.DB) {
		e := newEnv(t, db, envOptions{})
		e.start(t)
		const lid = "236523865788507"
		e.inbound(t, simulator.InboundMessage{LID: lid, PushName: "Hidden", Text: "by lid"})
		first := e.received(t, 1)[0]
		if first.Chat["id"] != "lid:"+lid {
			t.Fatalf("chat.id = %v, want lid:%s", first.Chat["id"], lid)
		}
		if _, ok := first.User["phone"]; ok {
			t.Errorf("user.phone = %v for a hidden number, want none", first.User["phone"])
		}

		e.inbound(t, simulator.InboundMessage{LID: lid, From: customer, Text: "now with phone"})
		second := e.received(t, 2)[1]
		if second.Chat["id"] != first.Chat["id"] || second.User["id"] != first.User["id"] {
			t.Errorf("second message went to chat %v user %v, want the first dialog %v", second.Chat["id"], second.User["id"], first.Chat["id"])
		}
		if second.User["phone"] != "+"+customer {
			t.Errorf("user.phone = %v after the phone became known, want +%s", second.User["phone"], customer)
		}
		if second.ChatID != first.ChatID {
			t.Errorf("portal chat %d, want the same chat %d", second.ChatID, first.ChatID)
		}

		e.inbound(t, simulator.InboundMessage{From: customer, Text: "by phone only"})
		third := e.received(t, 3)[2]
		if third.Chat["id"] != first.Chat["id"] {
			t.Errorf("phone-addressed message went to %v, want %v", third.Chat["id"], first.Chat["id"])
		}
		var n int64
		db.Model(&connector.Chat{}).Count(&n)
		if n != 1 {
			t.Errorf("%d chat rows, want 1", n)
		}
	})
}

func TestInboundMediaRehosted(t *testing.T) {
	each(t, func(t *testing.T, db *gorm.DB) {
		e := newEnv(t, db, envOptions{})
		e.start(t)
		jpeg := append([]byte{0xff, 0xd8, 0xff, 0xe0}, bytes.Repeat([]byte("x"), 2000)...)
		cases := []struct {
			media    simulator.InboundMedia
			wantName string
			wantType string
		}{
			{simulator.InboundMedia{Kind: "image", MIME: "image/jpeg", Data: jpeg}, ".jpg", "image/jpeg"},
			{simulator.InboundMedia{Kind: "document", MIME: "application/pdf", Name: "invoice.pdf", Data: []byte("%PDF-1.4 x")}, "invoice.pdf", "application/pdf"},
			{simulator.InboundMedia{Kind: "voice", MIME: "audio/ogg; codecs=opus", Data: []byte("OggS voice")}, ".ogg", "audio/ogg; codecs=opus"},
			{simulator.InboundMedia{Kind: "video", MIME: "video/mp4", Data: []byte("....ftypmp42")}, ".mp4", "video/mp4"},
			{simulator.InboundMedia{Kind: "sticker", MIME: "image/webp", Data: []byte("RIFF....WEBP")}, ".webp", "image/webp"},
			{simulator.InboundMedia{Kind: "audio", MIME: "audio/mpeg", Data: []byte("ID3 audio")}, ".mp3", "audio/mpeg"},
		}
		for i, tc := range cases {
			media := tc.media
			e.inbound(t, simulator.InboundMessage{From: customer, Media: &media, Text: ""})
			got := e.received(t, i+1)[i]
			if !got.Success || len(got.Files) != 1 {
				t.Fatalf("%s: success %v, %d files (%+v)", tc.media.Kind, got.Success, len(got.Files), got.Files)
			}
			f := got.Files[0]
			if f.Err != "" || !bytes.Equal(f.Body, tc.media.Data) {
				t.Errorf("%s: portal fetched %d bytes (error %q), want the original %d", tc.media.Kind, len(f.Body), f.Err, len(tc.media.Data))
			}
			if !strings.HasSuffix(f.Name, tc.wantName) || f.ContentType != tc.wantType {
				t.Errorf("%s: file %q of type %q, want name ending %q and type %q", tc.media.Kind, f.Name, f.ContentType, tc.wantName, tc.wantType)
			}
			if !strings.HasPrefix(f.URL, e.public.URL+"/media/") {
				t.Errorf("%s: URL %s is not under PUBLIC_URL/media", tc.media.Kind, f.URL)
			}
		}
	})
}
