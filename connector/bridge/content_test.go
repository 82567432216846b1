package bridge_test

import (
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/connector/wa/simulator"
)

func TestInboundContentKinds(t *testing.T) {
	each(t, func(t *testing.T, db *gorm.DB) {
		e := newEnv(t, db, envOptions{})
		e.start(t)
		first := e.inbound(t, simulator.InboundMessage{From: customer, Text: "Where is my order?"})
		e.received(t, 1)

		e.inbound(t, simulator.InboundMessage{From: customer, Location: &simulator.InboundLocation{Lat: 55.75, Lng: 37.61, Name: "Office"}})
		e.inbound(t, simulator.InboundMessage{From: customer, Contact: &simulator.InboundContact{Name: "Ivan", Phone: "+79990001122"}})
		e.inbound(t, simulator.InboundMessage{From: customer, Text: "this one", ReplyTo: first})
		e.inbound(t, simulator.InboundMessage{From: customer, Reaction: &simulator.InboundReaction{To: first, Emoji: "👍"}})
		e.inbound(t, simulator.InboundMessage{From: customer, Reaction: &simulator.InboundReaction{To: first}})
		e.inbound(t, simulator.InboundMessage{From: customer, FromMe: true, Text: "typed on the phone"})
		got := e.received(t, 7)

		checks := []struct{ name, want string }{
			{"location", "https://maps.google.com/?q=55.750000,37.610000"},
			{"contact", "79990001122"},
			{"reply", "Where is my order?"},
			{"reaction", "👍 to: Where is my order?"},
			{"reaction removed", "Reaction removed from: Where is my order?"},
			{"from me", "[b]From WhatsApp phone:[/b]"},
		}
		for i, c := range checks {
			text, _ := got[i+1].Message["text"].(string)
			if !strings.Contains(text, c.want) {
				t.Errorf("%s: text %q does not contain %q", c.name, text, c.want)
			}
		}
		if text := got[3].Message["text"].(string); !strings.Contains(text, "------") || !strings.HasSuffix(text, "this one") {
			t.Errorf("reply text %q lacks the quote block before the answer", text)
		}
		for _, r := range got {
			if r.Chat["id"] != "wa:"+customer {
				t.Errorf("message %s went to chat %v", r.ExternalID, r.Chat["id"])
			}
		}
	})
}

func TestInboundEditAndRevoke(t *testing.T) {
	each(t, func(t *testing.T, db *gorm.DB) {
		e := newEnv(t, db, envOptions{})
		e.start(t)
		id := e.inbound(t, simulator.InboundMessage{From: customer, Text: "teh text"})
		e.received(t, 1)
		e.inbound(t, simulator.InboundMessage{From: customer, Edit: id, Text: "the text"})
		eventually(t, "update at the portal", func() bool { return len(e.fake.UpdatedMessages()) == 1 })
		up := e.fake.UpdatedMessages()[0]
		if up.ExternalID != id || up.Text != "the text" || !up.Found {
			t.Errorf("update = %+v, want the original id %s with the new text", up, id)
		}

		e.inbound(t, simulator.InboundMessage{From: customer, Revoke: id})
		eventually(t, "delete at the portal", func() bool { return len(e.fake.DeletedMessages()) == 1 })
		if del := e.fake.DeletedMessages()[0]; del.ExternalID != id || !del.Found {
			t.Errorf("delete = %+v, want the original id %s", del, id)
		}
	})
}

func TestInboundUndecryptableReplaced(t *testing.T) {
	each(t, func(t *testing.T, db *gorm.DB) {
		e := newEnv(t, db, envOptions{})
		e.start(t)
		id := e.inbound(t, simulator.InboundMessage{From: customer, Text: "secret", Undecryptable: true})
		got := e.received(t, 1)
		if got[0].ExternalID != id || !strings.Contains(got[0].Message["text"].(string), "could not be decrypted") {
			t.Fatalf("first message = %v, want a placeholder for %s", got[0].Message, id)
		}
		eventually(t, "placeholder replaced", func() bool { return len(e.fake.UpdatedMessages()) == 1 })
		up := e.fake.UpdatedMessages()[0]
		if up.ExternalID != id || up.Text != "secret" {
			t.Errorf("update = %+v, want id %s with text secret", up, id)
		}
		if n := len(e.fake.ReceivedMessages()); n != 1 {
			t.Errorf("portal got %d messages, want the placeholder only", n)
		}
	})
}
