package bridge_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/connector"
	"github.com/wabridge/b24wa/connector/bridge"
	"github.com/wabridge/b24wa/connector/wa/simulator"
	"github.com/wabridge/b24wa/portal/b24fake"
)

// withCustomer starts the bridge and has the customer write first, so the
// dialog and its chat exist.
func withCustomer(t *testing.T, e *env) string {
	t.Helper()
	e.start(t)
	id := e.inbound(t, simulator.InboundMessage{From: customer, PushName: "Maria", Text: "Hi"})
	e.received(t, 1)
	eventually(t, "inbound link stored", func() bool {
		var n int64
		e.db.Model(&connector.MessageLink{}).Where("wa_message_id = ?", id).Count(&n)
		return n == 1
	})
	return id
}

func (e *env) operatorSends(t *testing.T, text string) *b24fake.SentMessage {
	t.Helper()
	sent, err := e.fake.OperatorSends(context.Background(), b24fake.OperatorMessage{Line: 1, ChatID: "wa:" + customer, Text: text})
	if err != nil {
		t.Fatalf("operator sends: %v", err)
	}
	return sent
}

func (e *env) waitOutbound(t *testing.T, n int) []simulator.OutboundMessage {
	t.Helper()
	eventually(t, "messages sent to WhatsApp", func() bool { return len(e.outbound(t)) >= n })
	return e.outbound(t)
}

func TestOperatorReplyReachesWhatsApp(t *testing.T) {
	each(t, func(t *testing.T, db *gorm.DB) {
		e := newEnv(t, db, envOptions{})
		first := withCustomer(t, e)
		sent := e.operatorSends(t, "[b]Shipped[/b] today, see [url=https://example.com/t]tracking[/url]")

		out := e.waitOutbound(t, 1)[0]
		if out.Kind != "text" || strings.Contains(out.Text, "[") {
			t.Errorf("sent %s %q, want text without BB-code", out.Kind, out.Text)
		}
		if !strings.Contains(out.Text, "*Shipped* today") || !strings.Contains(out.Text, "tracking (https://example.com/t)") {
			t.Errorf("sent text %q lacks the converted markup", out.Text)
		}
		if out.To != customer {
			t.Errorf("sent to %s, want %s", out.To, customer)
		}

		eventually(t, "delivery confirmed", func() bool { return len(e.fake.DeliveryStatuses()) == 1 })
		st := e.fake.DeliveryStatuses()[0]
		if st.IMMessageID != sent.IMMessageID || st.IMChatID != sent.IMChatID || !slices.Equal(st.ExternalIDs, []string{out.ID}) {
			t.Errorf("delivery status = %+v, want im ids of the event and message.id [%s]", st, out.ID)
		}
		eventually(t, "customer message marked read", func() bool {
			marks, _ := e.sim.ReadMarks(shopPhone)
			for _, m := range marks {
				if slices.Contains(m.IDs, first) {
					return true
				}
			}
			return false
		})
	})
}

func TestOperatorEventReplayedSentOnce(t *testing.T) {
	each(t, func(t *testing.T, db *gorm.DB) {
		e := newEnv(t, db, envOptions{})
		withCustomer(t, e)
		sent := e.operatorSends(t, "only once")
		data := b24fake.MessagesData(b24fake.EventMessageAdd, connectorID, 1, b24fake.EventMessage{
			IMChatID: sent.IMChatID, IMMessageID: sent.IMMessageID, UserID: 1, Text: sent.Text, ChatID: "wa:" + customer,
		})
		for range 2 {
			resp, err := b24fake.PostForm(context.Background(), e.public.URL+"/events", e.fake.EventForm(b24fake.EventMessageAdd, data))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		e.waitOutbound(t, 1)
		time.Sleep(300 * time.Millisecond)
		if out := e.outbound(t); len(out) != 1 || out[0].Attempts != 1 {
			t.Errorf("WhatsApp got %d messages (attempts %v), want one sent once", len(out), out)
		}
		if n := len(e.deliveries(t, "out")); n != 1 {
			t.Errorf("%d outbound deliveries stored, want 1", n)
		}
	})
}

func TestOperatorEditAndDelete(t *testing.T) {
	each(t, func(t *testing.T, db *gorm.DB) {
		e := newEnv(t, db, envOptions{})
		withCustomer(t, e)
		sent := e.operatorSends(t, "tpyo")
		orig := e.waitOutbound(t, 1)[0]
		eventually(t, "delivery confirmed", func() bool { return len(e.fake.DeliveryStatuses()) == 1 })

		if _, err := e.fake.OperatorEdits(context.Background(), sent.IMMessageID, "typo fixed"); err != nil {
			t.Fatal(err)
		}
		edit := e.waitOutbound(t, 2)[1]
		if edit.Kind != "edit" || edit.EditOf != orig.ID || !strings.Contains(edit.Text, "typo fixed") {
			t.Errorf("edit = %+v, want an edit of %s with the new text", edit, orig.ID)
		}

		if _, err := e.fake.OperatorDeletes(context.Background(), sent.IMMessageID); err != nil {
			t.Fatal(err)
		}
		revoke := e.waitOutbound(t, 3)[2]
		if revoke.Kind != "revoke" || revoke.RevokeOf != orig.ID {
			t.Errorf("revoke = %+v, want a revoke of %s", revoke, orig.ID)
		}
	})
}

func TestOperatorSendFailuresReported(t *testing.T) {
	cases := []struct {
		name    string
		failure simulator.SendFailure
		want    string
		note    string
	}{
		{"reach-out timelock", simulator.SendReachoutTimelock, "463", "start chats with new contacts"},
		{"not on WhatsApp", simulator.SendNotOnWhatsApp, "not on WhatsApp", "not on WhatsApp"},
		{"no LID", simulator.SendNoLID, "LID", "could not find this contact"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			each(t, func(t *testing.T, db *gorm.DB) {
				e := newEnv(t, db, envOptions{})
				withCustomer(t, e)
				if err := e.sim.SetSendFailure(customer, tc.failure); err != nil {
					t.Fatal(err)
				}
				sent := e.operatorSends(t, "hello")
				var failed []bridge.FailedDelivery
				eventually(t, "delivery failed", func() bool {
					failed, _ = e.bridge.Failed(context.Background(), e.line.ID)
					return len(failed) == 1
				})
				if failed[0].Direction != "out" || !strings.Contains(failed[0].LastError, tc.want) {
					t.Errorf("failed = %+v, want an outbound failure naming %q", failed[0], tc.want)
				}
				if len(e.outbound(t)) != 0 {
					t.Errorf("WhatsApp recorded %d sent messages, want none", len(e.outbound(t)))
				}
				notes := e.fake.CallsTo("im.message.add")
				if len(notes) != 1 {
					t.Fatalf("%d operator notes posted, want 1", len(notes))
				}
				if d := notes[0].Params["DIALOG_ID"]; d != fmt.Sprintf("chat%d", sent.IMChatID) {
					t.Errorf("note went to dialog %v, want chat%d", d, sent.IMChatID)
				}
				if msg, _ := notes[0].Params["MESSAGE"].(string); !strings.Contains(msg, tc.note) {
					t.Errorf("note %q does not explain %q", msg, tc.note)
				}
				if n := len(e.fake.DeliveryStatuses()); n != 0 {
					t.Errorf("%d delivery confirmations for a failed send, want none", n)
				}
			})
		})
	}
}

func TestOperatorMessageToUnknownChat(t *testing.T) {
	each(t, func(t *testing.T, db *gorm.DB) {
		e := newEnv(t, db, envOptions{})
		e.start(t)
		if _, err := e.fake.OperatorSends(context.Background(), b24fake.OperatorMessage{Line: 1, ChatID: "wa:70000000000", Text: "hi"}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "delivery failed", func() bool {
			failed, _ := e.bridge.Failed(context.Background(), e.line.ID)
			return len(failed) == 1 && strings.Contains(failed[0].LastError, "chat not found")
		})
	})
}

func TestSendsOfOneNumberArePaced(t *testing.T) {
	each(t, func(t *testing.T, db *gorm.DB) {
		const interval = 100 * time.Millisecond
		e := newEnv(t, db, envOptions{tune: func(o *bridge.Options) { o.SendInterval, o.SendBurst = interval, 1 }})
		withCustomer(t, e)
		for range 4 {
			e.operatorSends(t, "burst")
		}
		out := e.waitOutbound(t, 4)
		for i := 1; i < len(out); i++ {
			if gap := out[i].Time.Sub(out[i-1].Time); gap < interval*8/10 {
				t.Errorf("messages %d and %d left %s apart, want at least %s", i-1, i, gap, interval)
			}
		}
	})
}

func TestCustomerReadReceiptForwarded(t *testing.T) {
	each(t, func(t *testing.T, db *gorm.DB) {
		e := newEnv(t, db, envOptions{})
		withCustomer(t, e)
		sent := e.operatorSends(t, "did you get it?")
		out := e.waitOutbound(t, 1)[0]
		eventually(t, "delivery confirmed", func() bool { return len(e.fake.DeliveryStatuses()) == 1 })

		if err := e.sim.Read(simulator.ReadRequest{Phone: shopPhone, From: customer, IDs: []string{out.ID}}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "reading status at the portal", func() bool { return len(e.fake.ReadStatuses()) == 1 })
		st := e.fake.ReadStatuses()[0]
		if st.IMMessageID != sent.IMMessageID || st.IMChatID != sent.IMChatID || !slices.Equal(st.ExternalIDs, []string{out.ID}) {
			t.Errorf("reading status = %+v, want im ids %d/%d and message.id [%s]", st, sent.IMChatID, sent.IMMessageID, out.ID)
		}
	})
}
