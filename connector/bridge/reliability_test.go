package bridge_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"
	"gorm.io/gorm"

	"github.com/wabridge/b24wa/connector"
	"github.com/wabridge/b24wa/connector/bridge"
	"github.com/wabridge/b24wa/connector/wa/simulator"
	"github.com/wabridge/b24wa/portal/b24fake"
)

// checkOrder fails for every chat whose messages reached the portal out of
// their numbering, and returns how many distinct messages arrived.
func checkOrder(t *testing.T, got []b24fake.ReceivedMessage) int {
	t.Helper()
	last := map[string]int{}
	seen := map[string]bool{}
	for _, r := range got {
		if seen[r.ExternalID] {
			t.Errorf("message %s reached the portal twice", r.ExternalID)
		}
		seen[r.ExternalID] = true
		var chat, n int
		if _, err := fmt.Sscanf(r.Message["text"].(string), "chat %d msg %d", &chat, &n); err != nil {
			t.Fatalf("unexpected text %q", r.Message["text"])
		}
		key := r.Chat["id"].(string)
		if n <= last[key] && last[key] != 0 {
			t.Errorf("chat %s: message %d arrived after %d", key, n, last[key])
		}
		last[key] = n
	}
	return len(seen)
}

func TestOrderPerChatUnderThrottling(t *testing.T) {
	each(t, func(t *testing.T, db *gorm.DB) {
		e := newEnv(t, db, envOptions{fake: b24fake.Options{RateBurst: 3, RatePerSec: 60}})
		e.start(t)
		const chats, perChat = 10, 20
		var wg sync.WaitGroup
		for c := range chats {
			wg.Add(1)
			go func() {
				defer wg.Done()
				from := strconv.Itoa(79110000000 + c)
				for n := 1; n <= perChat; n++ {
					e.inbound(t, simulator.InboundMessage{From: from, Text: fmt.Sprintf("chat %d msg %d", c, n)})
				}
			}()
		}
		wg.Wait()
		got := e.received(t, chats*perChat)
		if n := checkOrder(t, got); n != chats*perChat {
			t.Errorf("%d distinct messages arrived, want %d", n, chats*perChat)
		}
		if len(e.fake.CallsTo("imconnector.send.messages")) >= chats*perChat {
			t.Errorf("%d send.messages calls for %d messages, want batching", len(e.fake.CallsTo("imconnector.send.messages")), chats*perChat)
		}
	})
}

func TestThrottleAndExpiredTokenMidBurst(t *testing.T) {
	each(t, func(t *testing.T, db *gorm.DB) {
		e := newEnv(t, db, envOptions{})
		e.fake.OnError("imconnector.send.messages", 4, 503, "QUERY_LIMIT_EXCEEDED", "Too many requests")
		e.start(t)
		for n := 1; n <= 15; n++ {
			e.inbound(t, simulator.InboundMessage{From: customer, Text: fmt.Sprintf("chat 1 msg %d", n)})
			if n == 7 {
				e.fake.ExpireAccessTokens()
			}
		}
		got := e.received(t, 15)
		if n := checkOrder(t, got); n != 15 {
			t.Errorf("%d distinct messages arrived, want 15", n)
		}
		if e.fake.RefreshCount() == 0 {
			t.Error("the expired token was never refreshed")
		}
	})
}

func TestNotActiveLineKeepsMessages(t *testing.T) {
	each(t, func(t *testing.T, db *gorm.DB) {
		e := newEnv(t, db, envOptions{})
		e.setActive(t, false)
		e.start(t)
		e.inbound(t, simulator.InboundMessage{From: customer, Text: "chat 1 msg 1"})
		e.inbound(t, simulator.InboundMessage{From: customer, Text: "chat 1 msg 2"})

		var line connector.Line
		eventually(t, "line marked inactive", func() bool {
			db.Where("id = ?", e.line.ID).Take(&line)
			return !line.B24Active
		})
		for _, d := range e.deliveries(t, "in") {
			if d.State == connector.DeliveryFailed || d.State == connector.DeliveryDone {
				t.Fatalf("delivery %d is %s while the line is inactive, want it kept pending", d.ID, d.State)
			}
		}

		e.setActive(t, true)
		got := e.received(t, 2)
		if n := checkOrder(t, got); n != 2 {
			t.Errorf("%d messages arrived after activation, want 2", n)
		}
		eventually(t, "line marked active", func() bool {
			db.Where("id = ?", e.line.ID).Take(&line)
			return line.B24Active
		})
	})
}

func TestElementFailureKeptVisible(t *testing.T) {
	each(t, func(t *testing.T, db *gorm.DB) {
		e := newEnv(t, db, envOptions{tune: func(o *bridge.Options) { o.MaxAttempts = 2 }})
		line := e.line
		ctx := context.Background()
		blank := textEvent("3EB0BLANK", customer, "   ")
		good := textEvent("3EB0GOOD", "79115550000", "fine")
		for _, evt := range []*events.Message{blank, good} {
			if err := e.bridge.HandleWhatsApp(ctx, &line, evt); err != nil {
				t.Fatal(err)
			}
		}
		e.start(t)

		eventually(t, "blank message failed", func() bool {
			failed, _ := e.bridge.Failed(ctx, e.line.ID)
			return len(failed) == 1
		})
		failed, _ := e.bridge.Failed(ctx, e.line.ID)
		if failed[0].Direction != "in" || failed[0].LastError == "" || failed[0].Attempts != 2 {
			t.Errorf("failed delivery = %+v, want an inbound one with its error after 2 attempts", failed[0])
		}
		var ok int
		for _, r := range e.fake.ReceivedMessages() {
			if r.Success && r.ExternalID == "3EB0GOOD" {
				ok++
			}
		}
		if ok != 1 {
			t.Errorf("the good message of the same call arrived %d times, want once", ok)
		}
	})
}

func TestRestartMidQueueDeliversRestOnce(t *testing.T) {
	each(t, func(t *testing.T, db *gorm.DB) {
		e := newEnv(t, db, envOptions{fake: b24fake.Options{Latency: 20 * time.Millisecond}})
		const total = 40
		for n := 1; n <= total; n++ {
			e.inbound(t, simulator.InboundMessage{From: strconv.Itoa(79110000000 + n%4), Text: fmt.Sprintf("chat %d msg %d", n%4, n)})
		}
		e.start(t)
		eventually(t, "part of the queue sent", func() bool { return len(e.fake.ReceivedMessages()) >= 8 })
		e.restart(t)
		e.received(t, total)
		time.Sleep(200 * time.Millisecond)
		got := e.fake.ReceivedMessages()
		if n := checkOrder(t, got); n != total || len(got) != total {
			t.Errorf("%d distinct of %d received, want %d exactly once", n, len(got), total)
		}
	})
}

func TestGroupsIgnoredUnlessEnabled(t *testing.T) {
	each(t, func(t *testing.T, db *gorm.DB) {
		e := newEnv(t, db, envOptions{})
		line := e.line
		evt := textEvent("3EB0GROUP", customer, "in a group")
		evt.Info.Chat = types.NewJID("120363000000000001", types.GroupServer)
		evt.Info.IsGroup = true
		if err := e.bridge.HandleWhatsApp(context.Background(), &line, evt); err != nil {
			t.Fatal(err)
		}
		status := textEvent("3EB0STATUS", customer, "status")
		status.Info.Chat = types.StatusBroadcastJID
		if err := e.bridge.HandleWhatsApp(context.Background(), &line, status); err != nil {
			t.Fatal(err)
		}
		if n := len(e.deliveries(t, "in")); n != 0 {
			t.Errorf("%d deliveries stored for a group and a status update, want none", n)
		}

		line.GroupsEnabled = true
		if err := e.bridge.HandleWhatsApp(context.Background(), &line, evt); err != nil {
			t.Fatal(err)
		}
		if n := len(e.deliveries(t, "in")); n != 1 {
			t.Errorf("%d deliveries on a line with groups enabled, want 1", n)
		}
	})
}

// textEvent builds a customer's text message as whatsmeow delivers it.
func textEvent(id, phone, text string) *events.Message {
	jid := types.NewJID(phone, types.DefaultUserServer)
	return &events.Message{
		Info: types.MessageInfo{
			MessageSource: types.MessageSource{Chat: jid, Sender: jid},
			ID:            id, PushName: "Test", Timestamp: time.Now(),
		},
		Message: &waE2E.Message{Conversation: proto.String(text)},
	}
}

func TestSetSessionsAfterStartRejected(t *testing.T) {
	each(t, func(t *testing.T, db *gorm.DB) {
		e := newEnv(t, db, envOptions{})
		e.start(t)
		if err := e.bridge.SetSessions(e.sessions, nil); !errors.Is(err, bridge.ErrStarted) {
			t.Errorf("SetSessions after Start = %v, want ErrStarted", err)
		}
	})
}
