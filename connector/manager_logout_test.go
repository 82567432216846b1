package connector

import (
	"context"
	"errors"
	"testing"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/internal/dbtest"
)

func TestLogoutClosesSessionAndDeactivates(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		h, m, line := pairedLine(t, db)
		jid := liveClient(m, line.ID).session.JID()

		if err := m.Logout(ctx, line.ID, "user"); err != nil {
			t.Fatal(err)
		}
		got := h.get(line.ID)
		if got.State != StateLoggedOut || got.StateReason != "user" || got.WaJID != "" || got.B24Active {
			t.Errorf("after logout state %q reason %q jid %q active %v, want logged_out user, no device, inactive",
				got.State, got.StateReason, got.WaJID, got.B24Active)
		}
		rows := h.sessions(line.ID)
		if len(rows) != 1 || rows[0].LogoutReason != "user" || rows[0].LoggedOutAt == nil {
			t.Errorf("device sessions = %+v, want the one closed with reason user", rows)
		}
		if h.hasDevice(jid) {
			t.Error("device keys are still in the store")
		}
		if act := h.activations(); len(act) != 2 || act[0] != "1" || act[1] != "0" {
			t.Errorf("imconnector.activate ACTIVE values = %v, want 1 then 0", act)
		}
		if _, ok := m.Session(line.ID); ok {
			t.Error("Session still offered after logout")
		}
		if st, err := m.PairingStatus(ctx, line.ID); !errors.Is(err, ErrPairingNotRunning) {
			t.Errorf("pairing status after logout = %+v, %v; want ErrPairingNotRunning, not the old success", st, err)
		}
		if err := m.Logout(ctx, line.ID, "user"); !errors.Is(err, ErrNotLinked) {
			t.Errorf("second logout: %v, want ErrNotLinked", err)
		}
	})
}

func TestLogoutForPaymentSuspends(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		h, m, line := pairedLine(t, db)

		if err := m.Logout(ctx, line.ID, ReasonPayment); err != nil {
			t.Fatal(err)
		}
		got := h.get(line.ID)
		if got.State != StateSuspended || got.WaJID != "" {
			t.Errorf("after payment logout state %q jid %q, want suspended without a device", got.State, got.WaJID)
		}
		if rows := h.sessions(line.ID); rows[0].LogoutReason != ReasonPayment {
			t.Errorf("session closed with %q, want %q", rows[0].LogoutReason, ReasonPayment)
		}
	})
}

func TestLogoutOfflineDeletesKeys(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		h := newHarness(t, db)
		line := h.line("1")
		jid, err := h.sim.LinkDevice(testPhone, "Shop")
		if err != nil {
			t.Fatal(err)
		}
		store := NewLineStore(db)
		if err := store.SetLinked(ctx, line.ID, jid.String(), jid.User, "Shop"); err != nil {
			t.Fatal(err)
		}
		m := h.manager("a")

		if err := m.Logout(ctx, line.ID, "user"); err != nil {
			t.Fatal(err)
		}
		if h.hasDevice(jid) {
			t.Error("logout of a line without a session left its keys in the store")
		}
		if got := h.get(line.ID); got.WaJID != "" || got.State != StateLoggedOut {
			t.Errorf("line = jid %q state %q, want no device and logged_out", got.WaJID, got.State)
		}
	})
}

func TestPortalUninstalledClean(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		h := newHarness(t, db)
		m := h.manager("a")
		linked := h.line("1")
		idle := h.line("2")
		jid := h.pair(m, linked.ID, testPhone)
		activations := len(h.activations())

		if err := m.PortalUninstalled(ctx, h.portalID, true); err != nil {
			t.Fatal(err)
		}
		if h.hasDevice(jid) {
			t.Error("uninstall left the device keys in the store")
		}
		for _, id := range []uint64{linked.ID, idle.ID} {
			if _, err := m.Lines().Get(ctx, id); !errors.Is(err, ErrLineNotFound) {
				t.Errorf("line %d after a clean uninstall: %v, want ErrLineNotFound", id, err)
			}
		}
		if got := len(h.activations()); got != activations {
			t.Errorf("uninstall called imconnector.activate %d times, want none", got-activations)
		}
	})
}

func TestPortalUninstalledKeepsRows(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		h, m, line := pairedLine(t, db)

		if err := m.PortalUninstalled(ctx, h.portalID, false); err != nil {
			t.Fatal(err)
		}
		got := h.get(line.ID)
		if got.State != StateLoggedOut || got.StateReason != ReasonUninstalled || got.WaJID != "" {
			t.Errorf("line = state %q reason %q jid %q, want logged_out uninstalled without a device", got.State, got.StateReason, got.WaJID)
		}
		if rows := h.sessions(line.ID); len(rows) != 1 || rows[0].LogoutReason != ReasonUninstalled {
			t.Errorf("device sessions = %+v, want one closed with %q", rows, ReasonUninstalled)
		}
	})
}

func TestConnectorDetachedInBitrixKeepsDevice(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		h, m, line := pairedLine(t, db)

		if err := m.LineRemovedInBitrix(ctx, h.portalID, "1", false); err != nil {
			t.Fatal(err)
		}
		got := h.get(line.ID)
		if got.B24Active || got.B24DetachedAt == nil {
			t.Errorf("after detach active %v detached %v, want inactive and detached", got.B24Active, got.B24DetachedAt)
		}
		if got.WaJID == "" || got.State != StateConnected {
			t.Errorf("detach changed WhatsApp: jid %q state %q, want linked and connected", got.WaJID, got.State)
		}

		calls := len(h.b24.CallsTo(methodActivate))
		m.maintain(ctx)
		if n := len(h.b24.CallsTo(methodActivate)); n != calls {
			t.Errorf("maintenance re-activated a detached line (%d activate calls)", n-calls)
		}

		if err := m.ActivateInBitrix(ctx, line.ID); err != nil {
			t.Fatal(err)
		}
		got = h.get(line.ID)
		if !got.B24Active || got.B24DetachedAt != nil {
			t.Errorf("after ActivateInBitrix active %v detached %v, want active and attached", got.B24Active, got.B24DetachedAt)
		}
		if err := m.LineRemovedInBitrix(ctx, h.portalID, "404", false); !errors.Is(err, ErrLineNotFound) {
			t.Errorf("event for an unknown open line: %v, want ErrLineNotFound", err)
		}
	})
}

func TestOpenLineDeletedInBitrix(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		h, m, line := pairedLine(t, db)
		jid := liveClient(m, line.ID).session.JID()

		if err := m.LineRemovedInBitrix(ctx, h.portalID, "1", true); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Lines().Get(ctx, line.ID); !errors.Is(err, ErrLineNotFound) {
			t.Errorf("line after OnImConnectorLineDelete: %v, want ErrLineNotFound", err)
		}
		if h.hasDevice(jid) {
			t.Error("device of a deleted line is still in the store")
		}
		if m.Owns(line.ID) {
			t.Error("manager still owns a deleted line")
		}
	})
}

func TestRepairActivatesAfterFailure(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		h := newHarness(t, db)
		m := h.manager("a")
		line := h.line("1")
		h.b24.OnError(methodActivate, 1, 403, "ACCESS_DENIED", "Access denied")

		if _, err := m.StartPairing(ctx, line.ID, PairingOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := h.sim.Scan(h.waitQR(m, line.ID), testPhone, "Shop"); err != nil {
			t.Fatal(err)
		}
		h.waitFor("pairing success", func() bool { return peek(m, line.ID).Step == PairingSuccess })
		got := h.waitState(line.ID, StateConnected)
		if got.B24Active || got.WaJID == "" {
			t.Fatalf("after a failed activation active %v jid %q, want inactive but linked", got.B24Active, got.WaJID)
		}

		m.maintain(ctx)
		if !h.get(line.ID).B24Active {
			t.Error("maintenance did not activate the line in Bitrix24")
		}
		if status, ok := h.b24.LineStatus(testConnector, 1); !ok || !status.Status() {
			t.Errorf("portal line status = %+v, want active", status)
		}
	})
}

func TestHealthCheckReactivates(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		h, m, _ := pairedLine(t, db)
		err := h.client.Call(ctx, h.portalID, methodActivate, map[string]any{"CONNECTOR": testConnector, "LINE": 1, "ACTIVE": 0}, nil)
		if err != nil {
			t.Fatal(err)
		}

		m.checkHealth(ctx)
		if status, ok := h.b24.LineStatus(testConnector, 1); !ok || !status.Status() {
			t.Errorf("portal line status after the health check = %+v, want active", status)
		}
		if n := len(h.b24.CallsTo(methodStatus)); n != 1 {
			t.Errorf("%d imconnector.status calls, want 1", n)
		}
	})
}

func TestPortalUninstalledStopsPairing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		h := newHarness(t, db)
		m := h.manager("a")
		line := h.line("1")
		if _, err := m.StartPairing(ctx, line.ID, PairingOptions{}); err != nil {
			t.Fatal(err)
		}
		h.waitQR(m, line.ID)

		if err := m.PortalUninstalled(ctx, h.portalID, false); err != nil {
			t.Fatal(err)
		}
		if got := h.get(line.ID).State; got != StateNew {
			t.Errorf("line state = %q, want the state before pairing, %q", got, StateNew)
		}
		if step := peek(m, line.ID).Step; step != PairingFailed {
			t.Errorf("attempt step = %q, want %q", step, PairingFailed)
		}
		if n := h.sim.State().Pairings; n != 0 {
			t.Errorf("simulator runs %d pairings after uninstall, want 0", n)
		}
	})
}
