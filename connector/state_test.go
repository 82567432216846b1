package connector

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/proto/waSyncAction"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"
	"gorm.io/gorm"

	"github.com/wabridge/b24wa/connector/wa/simulator"
	"github.com/wabridge/b24wa/internal/dbtest"
)

const testPhone = "79001112233"

// pairedLine returns a manager with one line paired to testPhone.
func pairedLine(t *testing.T, db *gorm.DB) (*harness, *Manager, *Line) {
	t.Helper()
	h := newHarness(t, db)
	m := h.manager("a")
	line := h.line("1")
	h.pair(m, line.ID, testPhone)
	return h, m, h.get(line.ID)
}

func TestDisconnectReconnects(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		h, m, line := pairedLine(t, db)

		if n := h.sim.DropAll(); n != 1 {
			t.Fatalf("dropped %d connections, want 1", n)
		}
		got := h.waitState(line.ID, StateReconnecting)
		if got.StateReason != "disconnected" || got.WaJID != line.WaJID {
			t.Errorf("after drop reason %q jid %q, want disconnected with the device kept", got.StateReason, got.WaJID)
		}
		if _, ok := m.Session(line.ID); ok {
			t.Error("Session of a disconnected line is offered to senders")
		}

		h.clock.Advance(2 * time.Second)
		h.waitState(line.ID, StateConnected)
		if _, ok := m.Session(line.ID); !ok {
			t.Error("Session missing after the reconnect")
		}
	})
}

func TestKeepAliveTimeoutAndRestore(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		h, m, line := pairedLine(t, db)
		c := liveClient(m, line.ID)

		if err := m.handleEvent(c, &events.KeepAliveTimeout{ErrorCount: 1, LastSuccess: testStart}); err != nil {
			t.Fatal(err)
		}
		if got := h.get(line.ID); got.State != StateReconnecting || got.StateReason != "keepalive_timeout" {
			t.Errorf("after KeepAliveTimeout state %q reason %q, want reconnecting keepalive_timeout", got.State, got.StateReason)
		}
		if err := m.handleEvent(c, &events.KeepAliveRestored{}); err != nil {
			t.Fatal(err)
		}
		if got := h.get(line.ID).State; got != StateConnected {
			t.Errorf("after KeepAliveRestored state %q, want connected", got)
		}
	})
}

func TestConnectedRequiresLoggedInSocket(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		h, m, line := pairedLine(t, db)
		c := liveClient(m, line.ID)
		c.session.Disconnect()

		if err := m.handleEvent(c, &events.Connected{}); err != nil {
			t.Fatal(err)
		}
		if got := h.get(line.ID).State; got == StateConnected {
			t.Error("a Connected event without a live socket marked the line connected")
		}
	})
}

func TestLogoutFromPhoneDeletesKeys(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		h, m, line := pairedLine(t, db)
		jid := liveClient(m, line.ID).session.JID()

		if err := h.sim.LogoutFromPhone(testPhone); err != nil {
			t.Fatal(err)
		}
		got := h.waitState(line.ID, StateLoggedOut)
		if got.StateReason != ReasonPhone || got.WaJID != "" {
			t.Errorf("after phone logout reason %q jid %q, want %q and no device", got.StateReason, got.WaJID, ReasonPhone)
		}
		h.waitFor("deactivation", func() bool { return !h.get(line.ID).B24Active })
		rows := h.sessions(line.ID)
		if len(rows) != 1 || rows[0].LogoutReason != ReasonPhone || rows[0].LoggedOutAt == nil {
			t.Errorf("device sessions = %+v, want the one closed with %q", rows, ReasonPhone)
		}
		if h.hasDevice(jid) {
			t.Error("keys of the logged-out device are still in the store")
		}
		if act := h.activations(); len(act) != 2 || act[1] != "0" {
			t.Errorf("imconnector.activate ACTIVE values = %v, want 1 then 0", act)
		}
		if status, ok := h.b24.LineStatus(testConnector, 1); ok && status.Active {
			t.Error("line still active in Bitrix24 after the phone logged out")
		}
		// The lease is released last, after the Bitrix24 call, so wait for it.
		h.waitFor("lease released after logout", func() bool { return !m.Owns(line.ID) })
		if st, err := m.PairingStatus(context.Background(), line.ID); !errors.Is(err, ErrPairingNotRunning) {
			t.Errorf("pairing status after phone logout = %+v, %v; want ErrPairingNotRunning", st, err)
		}
	})
}

func TestConnectFailureKeepsKeysUnlessLoggedOut(t *testing.T) {
	cases := []struct {
		reason    events.ConnectFailureReason
		state     string
		keepsKeys bool
	}{
		{events.ConnectFailureServiceUnavailable, StateReconnecting, true},
		{events.ConnectFailureInternalServerError, StateReconnecting, true},
		{events.ConnectFailureBadUserAgent, StateDisconnected, true},
		{events.ConnectFailureClientOutdated, StateClientOutdated, true},
		{events.ConnectFailureLoggedOut, StateLoggedOut, false},
		{events.ConnectFailureMainDeviceGone, StateLoggedOut, false},
		{events.ConnectFailureUnknownLogout, StateLoggedOut, false},
	}
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		h := newHarness(t, db)
		m := h.manager("a")
		for i, tc := range cases {
			t.Run(tc.reason.NumberString(), func(t *testing.T) {
				line := h.line(fmt.Sprint(i + 1))
				h.pair(m, line.ID, fmt.Sprintf("7900222%04d", i))
				c := liveClient(m, line.ID)
				jid := c.session.JID()

				if err := m.handleEvent(c, &events.ConnectFailure{Reason: tc.reason}); err != nil {
					t.Fatal(err)
				}
				got := h.waitState(line.ID, tc.state)
				if tc.keepsKeys {
					if got.WaJID != jid.String() || !h.hasDevice(jid) {
						t.Errorf("failure %d dropped the device: jid %q, in store %v", tc.reason, got.WaJID, h.hasDevice(jid))
					}
					return
				}
				if got.WaJID != "" || h.hasDevice(jid) {
					t.Errorf("logout failure %d kept the device: jid %q, in store %v", tc.reason, got.WaJID, h.hasDevice(jid))
				}
				if want := "connect_failure_" + tc.reason.NumberString(); got.StateReason != want {
					t.Errorf("reason = %q, want %q", got.StateReason, want)
				}
			})
		}
	})
}

func TestStreamReplacedWaitsForReconnect(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		h, m, line := pairedLine(t, db)

		if n, err := h.sim.Replace(testPhone); err != nil || n != 1 {
			t.Fatalf("Replace = %d, %v; want 1 session replaced", n, err)
		}
		h.waitState(line.ID, StateStreamReplaced)
		h.clock.Advance(time.Hour)
		m.maintain(ctx)
		if got := h.get(line.ID); got.State != StateStreamReplaced || got.WaJID == "" {
			t.Errorf("an hour later state %q jid %q, want stream_replaced with the device kept", got.State, got.WaJID)
		}

		if err := m.Reconnect(ctx, line.ID); err != nil {
			t.Fatal(err)
		}
		h.waitState(line.ID, StateConnected)
	})
}

func TestTemporaryBanReconnectsAfterExpiry(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		h, m, line := pairedLine(t, db)

		if err := h.sim.Ban(testPhone, events.TempBanSentToTooManyPeople, time.Hour); err != nil {
			t.Fatal(err)
		}
		got := h.waitState(line.ID, StateTemporaryBan)
		if got.StateUntil == nil || !got.StateUntil.Equal(testStart.Add(time.Hour)) {
			t.Errorf("ban until = %v, want %v", got.StateUntil, testStart.Add(time.Hour))
		}
		if got.StateReason != "temp_ban_101" || got.WaJID == "" {
			t.Errorf("ban reason %q jid %q, want temp_ban_101 with the device kept", got.StateReason, got.WaJID)
		}

		h.clock.Advance(30 * time.Minute)
		m.maintain(ctx)
		if got := h.get(line.ID).State; got != StateTemporaryBan {
			t.Errorf("state during the ban = %q, want %q", got, StateTemporaryBan)
		}
		h.clock.Advance(31 * time.Minute)
		m.maintain(ctx)
		h.waitState(line.ID, StateConnected)
	})
}

func TestClientOutdatedKeepsKeys(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		h, m, line := pairedLine(t, db)
		jid := liveClient(m, line.ID).session.JID()

		h.sim.SetOutdated(true)
		got := h.waitState(line.ID, StateClientOutdated)
		if got.WaJID == "" || !h.hasDevice(jid) {
			t.Errorf("client_outdated dropped the device: jid %q, in store %v", got.WaJID, h.hasDevice(jid))
		}
		if rows := h.sessions(line.ID); rows[0].LoggedOutAt != nil {
			t.Error("client_outdated closed the device session")
		}
	})
}

func TestPhoneSeenThrottled(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		h, _, line := pairedLine(t, db)
		send := func() {
			t.Helper()
			_, err := h.sim.Inbound(simulator.InboundMessage{To: testPhone, From: "79005556677", Text: "sent from the phone", FromMe: true})
			if err != nil {
				t.Fatal(err)
			}
		}

		send()
		h.waitFor("phone_seen_at", func() bool { return h.get(line.ID).PhoneSeenAt != nil })
		first := *h.get(line.ID).PhoneSeenAt
		if !first.Equal(testStart) {
			t.Errorf("phone_seen_at = %v, want %v", first, testStart)
		}

		h.clock.Advance(30 * time.Second)
		send()
		if got := *h.get(line.ID).PhoneSeenAt; !got.Equal(first) {
			t.Errorf("phone_seen_at moved to %v within a minute", got)
		}
		h.clock.Advance(31 * time.Second)
		send()
		want := testStart.Add(61 * time.Second)
		h.waitFor("a later phone_seen_at", func() bool { return h.get(line.ID).PhoneSeenAt.Equal(want) })
	})
}

func TestCustomerMessageDoesNotTouchPhoneSeen(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		h, _, line := pairedLine(t, db)
		if _, err := h.sim.Inbound(simulator.InboundMessage{To: testPhone, From: "79005556677", Text: "hello"}); err != nil {
			t.Fatal(err)
		}
		if got := h.get(line.ID).PhoneSeenAt; got != nil {
			t.Errorf("a customer's message set phone_seen_at to %v", got)
		}
	})
}

func TestSinkErrorLeavesMessageUnacked(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		h := newHarness(t, db)
		sink := &recordingSink{failNext: 1}
		opts := h.options("a")
		opts.Sink = sink
		m := h.managerWith(h.sim, opts)
		line := h.line("1")
		h.pair(m, line.ID, testPhone)

		id, err := h.sim.Inbound(simulator.InboundMessage{To: testPhone, From: "79005556677", Text: "hello"})
		if err != nil {
			t.Fatal(err)
		}
		if sink.count() != 1 {
			t.Fatalf("sink got %d events, want 1", sink.count())
		}
		h.sim.DropAll()
		h.clock.Advance(2 * time.Second)
		h.waitFor("redelivery", func() bool { return sink.count() == 2 })

		sink.mu.Lock()
		defer sink.mu.Unlock()
		msg, ok := sink.events[1].(*events.Message)
		if !ok || msg.Info.ID != id {
			t.Errorf("redelivered event = %T, want the message %s again", sink.events[1], id)
		}
		if sink.lines[1] != line.ID {
			t.Errorf("sink got line %d, want %d", sink.lines[1], line.ID)
		}
	})
}

func TestPushNameFromAppState(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		h := newHarness(t, db)
		m := h.manager("a")
		line := h.line("1")
		if _, err := m.StartPairing(ctx, line.ID, PairingOptions{}); err != nil {
			t.Fatal(err)
		}
		// whatsmeow reports no push name at pair success.
		if _, err := h.sim.Scan(h.waitQR(m, line.ID), testPhone, ""); err != nil {
			t.Fatal(err)
		}
		h.waitState(line.ID, StateConnected)

		evt := &events.PushNameSetting{
			Timestamp:    testStart,
			Action:       &waSyncAction.PushNameSetting{Name: proto.String("Flower Shop")},
			FromFullSync: true,
		}
		if err := m.handleEvent(liveClient(m, line.ID), evt); err != nil {
			t.Fatal(err)
		}
		got := h.get(line.ID)
		if got.PushName != "Flower Shop" {
			t.Errorf("line push name = %q, want Flower Shop", got.PushName)
		}
		if got.PhoneSeenAt != nil {
			t.Errorf("a full app state sync set phone_seen_at to %v", got.PhoneSeenAt)
		}
		if rows := h.sessions(line.ID); rows[0].PushName != "Flower Shop" {
			t.Errorf("device session push name = %q, want Flower Shop", rows[0].PushName)
		}
	})
}
