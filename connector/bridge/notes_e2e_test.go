package bridge_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/connector"
	"github.com/wabridge/b24wa/connector/bridge"
	"github.com/wabridge/b24wa/connector/wa/simulator"
	"github.com/wabridge/b24wa/portal"
	"github.com/wabridge/b24wa/portal/b24fake"
	"github.com/wabridge/b24wa/static"
)

// setLang sets the language of the customer's portal, which the bridge reads
// for every note.
func (e *env) setLang(t *testing.T, lang string) {
	t.Helper()
	if err := e.db.Model(&portal.Portal{}).Where("id = ?", e.portal.ID).Update("lang", lang).Error; err != nil {
		t.Fatal(err)
	}
}

// noteIn waits for the operator note in an open line chat and checks that it
// is one system message with the catalog text of key in lang.
func (e *env) noteIn(t *testing.T, imChatID int, lang, key string, args ...any) b24fake.DialogMessage {
	t.Helper()
	eventually(t, "note in the operator's dialog", func() bool { return len(e.fake.DialogMessagesIn(imChatID)) > 0 })
	notes := e.fake.DialogMessagesIn(imChatID)
	if len(notes) != 1 {
		t.Fatalf("%d notes in chat %d, want 1: %+v", len(notes), imChatID, notes)
	}
	note := notes[0]
	if want := static.MustCatalog().T(lang, key, args...); note.Message != want {
		t.Errorf("note %q, want the %s text %q", note.Message, lang, want)
	}
	other := "en"
	if lang == "en" {
		other = "ru"
	}
	if note.Message == static.MustCatalog().T(other, key, args...) {
		t.Errorf("note %q is in %s, want %s", note.Message, other, lang)
	}
	if !note.System {
		t.Error("note posted without SYSTEM=Y, so it could reach the customer as an operator message")
	}
	if want := fmt.Sprintf("chat%d", imChatID); note.DialogID != want {
		t.Errorf("note went to dialog %q, want %q", note.DialogID, want)
	}
	for _, c := range e.fake.CallsTo("im.message.add") {
		if c.Status != 200 || c.Error != "" {
			t.Errorf("im.message.add returned %d %s", c.Status, c.Error)
		}
	}
	return note
}

func (e *env) waitFailed(t *testing.T) []bridge.FailedDelivery {
	t.Helper()
	var failed []bridge.FailedDelivery
	eventually(t, "delivery failed", func() bool {
		failed, _ = e.bridge.Failed(context.Background(), e.line.ID)
		return len(failed) == 1
	})
	return failed
}

func TestOperatorNotesLandInDialog(t *testing.T) {
	cases := []struct {
		name string
		lang string
		key  string
		// sent is how many WhatsApp messages the scenario sends before the
		// failing one.
		sent int
		run  func(t *testing.T, e *env) *b24fake.SentMessage
	}{
		{"reach-out timelock", "ru", "bridge.note.timelock", 0, func(t *testing.T, e *env) *b24fake.SentMessage {
			if err := e.sim.SetSendFailure(customer, simulator.SendReachoutTimelock); err != nil {
				t.Fatal(err)
			}
			return e.operatorSends(t, "hello")
		}},
		{"not on WhatsApp", "en", "bridge.note.not_on_whatsapp", 0, func(t *testing.T, e *env) *b24fake.SentMessage {
			if err := e.sim.SetSendFailure(customer, simulator.SendNotOnWhatsApp); err != nil {
				t.Fatal(err)
			}
			return e.operatorSends(t, "hello")
		}},
		{"logged-out line", "ru", "bridge.note.line_logged_out", 0, func(t *testing.T, e *env) *b24fake.SentMessage {
			// The session manager drops the session and marks the line when
			// WhatsApp logs the device out.
			e.sessions.mu.Lock()
			delete(e.sessions.m, e.line.ID)
			e.sessions.mu.Unlock()
			if err := e.db.Model(&connector.Line{}).Where("id = ?", e.line.ID).Update("state", connector.StateLoggedOut).Error; err != nil {
				t.Fatal(err)
			}
			return e.operatorSends(t, "hello")
		}},
		{"edit outside the window", "en", "bridge.note.edit_too_old", 1, func(t *testing.T, e *env) *b24fake.SentMessage {
			sent := e.operatorSends(t, "tpyo")
			e.waitOutbound(t, 1)
			eventually(t, "delivery confirmed", func() bool { return len(e.fake.DeliveryStatuses()) == 1 })
			time.Sleep(100 * time.Millisecond) // past the 20ms edit window of this test
			if _, err := e.fake.OperatorEdits(context.Background(), sent.IMMessageID, "typo"); err != nil {
				t.Fatal(err)
			}
			return sent
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			each(t, func(t *testing.T, db *gorm.DB) {
				e := newEnv(t, db, envOptions{tune: func(o *bridge.Options) { o.EditWindow = 20 * time.Millisecond }})
				e.setLang(t, tc.lang)
				withCustomer(t, e)
				sent := tc.run(t, e)

				e.noteIn(t, sent.IMChatID, tc.lang, tc.key)
				e.waitFailed(t)
				if n := len(e.outbound(t)); n != tc.sent {
					t.Errorf("WhatsApp got %d messages, want %d", n, tc.sent)
				}
				time.Sleep(200 * time.Millisecond) // a repeated note would arrive by now
				if n := len(e.fake.DialogMessagesIn(sent.IMChatID)); n != 1 {
					t.Errorf("%d notes after the delivery failed, want exactly 1", n)
				}
			})
		})
	}
}

func TestUnknownChatNoteLands(t *testing.T) {
	each(t, func(t *testing.T, db *gorm.DB) {
		e := newEnv(t, db, envOptions{})
		e.start(t)
		sent, err := e.fake.OperatorSends(context.Background(), b24fake.OperatorMessage{Line: 1, ChatID: "wa:70000000000", Text: "hi"})
		if err != nil {
			t.Fatal(err)
		}
		e.noteIn(t, sent.IMChatID, "en", "bridge.note.chat_unknown")
		e.waitFailed(t)
	})
}
