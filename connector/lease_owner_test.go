package connector

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/internal/dbtest"
	"github.com/wabridge/b24wa/portal"
)

func TestTwoManagersNeverBothConnect(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		h := newHarness(t, db)
		a := h.manager("a")
		line := h.line("1")
		h.pair(a, line.ID, testPhone)

		counting := &countingBackend{Backend: h.sim}
		b := h.managerWith(counting, h.options("b"))
		if err := b.Start(ctx); err != nil {
			t.Fatal(err)
		}

		if b.Owns(line.ID) {
			t.Error("second manager owns a line the first one holds")
		}
		if _, ok := b.Session(line.ID); ok {
			t.Error("second manager offers a session of a line it does not own")
		}
		for name, err := range map[string]error{
			"Reconnect": b.Reconnect(ctx, line.ID),
			"Logout":    b.Logout(ctx, line.ID, "user"),
		} {
			if !errors.Is(err, ErrNotOwner) {
				t.Errorf("%s on the second manager: %v, want ErrNotOwner", name, err)
			}
		}
		if _, err := b.StartPairing(ctx, line.ID, PairingOptions{}); !errors.Is(err, ErrNotOwner) {
			t.Errorf("StartPairing on the second manager: %v, want ErrNotOwner", err)
		}
		if _, err := b.PairingStatus(ctx, line.ID); !errors.Is(err, ErrNotOwner) {
			t.Errorf("PairingStatus on the second manager: %v, want ErrNotOwner", err)
		}
		if total, _ := counting.stats(); total != 0 {
			t.Errorf("second manager called Connect %d times, want 0", total)
		}
		if got := h.get(line.ID).State; got != StateConnected {
			t.Errorf("line state = %q, want connected", got)
		}
	})
}

func TestExpiredLeaseTakenOver(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		h := newHarness(t, db)
		a := h.manager("a")
		line := h.line("1")
		h.pair(a, line.ID, testPhone)

		// a stops renewing, as a crashed instance does.
		h.clock.Advance(2 * time.Minute)
		b := h.manager("b")
		if err := b.Start(ctx); err != nil {
			t.Fatal(err)
		}

		h.waitFor("takeover", func() bool { _, ok := b.Session(line.ID); return ok })
		h.waitFor("first manager letting go", func() bool { return !a.Owns(line.ID) })
		if _, ok := a.Session(line.ID); ok {
			t.Error("first manager still offers the session")
		}
		h.waitState(line.ID, StateConnected)
		a.renewLeases(ctx)
		if a.Owns(line.ID) {
			t.Error("first manager took the lease back")
		}
		var lease LineLease
		if err := db.First(&lease, "line_id = ?", line.ID).Error; err != nil {
			t.Fatal(err)
		}
		if lease.Owner != "b" {
			t.Errorf("lease owner = %q, want b", lease.Owner)
		}
	})
}

func TestRestartReconnectsWithBoundedConcurrency(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		h := newHarness(t, db)
		first := h.manager("a")
		paired := h.line("1")
		h.pair(first, paired.ID, testPhone)

		store := NewLineStore(db)
		ids := []uint64{paired.ID}
		for i := 2; i <= 12; i++ {
			line := h.line(fmt.Sprint(i))
			jid, err := h.sim.LinkDevice(fmt.Sprintf("7900111%04d", i), "Shop")
			if err != nil {
				t.Fatal(err)
			}
			if err := store.SetLinked(ctx, line.ID, jid.String(), jid.User, "Shop"); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, line.ID)
		}
		if err := first.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if got := h.get(paired.ID); got.State != StateDisconnected || got.StateReason != ReasonInstanceStopped {
			t.Errorf("after Close state %q reason %q, want disconnected instance_stopped", got.State, got.StateReason)
		}

		counting := &countingBackend{Backend: h.sim, delay: 20 * time.Millisecond}
		opts := h.options("a")
		opts.ReconnectConcurrency = 3
		second := h.managerWith(counting, opts)
		if err := second.Start(ctx); err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			h.waitState(id, StateConnected)
		}

		total, maxInFlight := counting.stats()
		if total != len(ids) {
			t.Errorf("Connect called %d times, want %d", total, len(ids))
		}
		if maxInFlight > 3 || maxInFlight < 2 {
			t.Errorf("at most %d connects ran at once, want 2 or 3 with a limit of 3", maxInFlight)
		}
	})
}

func TestStartLogsOutLineWithoutKeys(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		h := newHarness(t, db)
		line := h.line("1")
		store := NewLineStore(db)
		if err := store.SetLinked(ctx, line.ID, "79009998877:4@s.whatsapp.net", "79009998877", "Gone"); err != nil {
			t.Fatal(err)
		}
		row := &DeviceSession{LineID: line.ID, WaJID: "79009998877:4@s.whatsapp.net", LinkedAt: testStart}
		if err := store.AddDeviceSession(ctx, row); err != nil {
			t.Fatal(err)
		}

		m := h.manager("a")
		if err := m.Start(ctx); err != nil {
			t.Fatal(err)
		}
		got := h.waitState(line.ID, StateLoggedOut)
		if got.StateReason != ReasonKeysMissing || got.WaJID != "" {
			t.Errorf("line = reason %q jid %q, want %q without a device", got.StateReason, got.WaJID, ReasonKeysMissing)
		}
		if rows := h.sessions(line.ID); rows[0].LogoutReason != ReasonKeysMissing {
			t.Errorf("session closed with %q, want %q", rows[0].LogoutReason, ReasonKeysMissing)
		}
	})
}

func TestDeletedLineLoggedOutByOwner(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		h := newHarness(t, db)
		a := h.manager("a")
		line := h.line("1")
		jid := h.pair(a, line.ID, testPhone)

		b := h.manager("b")
		if err := b.LineRemovedInBitrix(ctx, h.portalID, "1", true); err != nil {
			t.Fatal(err)
		}
		if !h.hasDevice(jid) {
			t.Fatal("the non-owner logged the device out itself")
		}

		a.renewLeases(ctx)
		if h.hasDevice(jid) {
			t.Error("owner kept the device of a deleted line")
		}
		if a.Owns(line.ID) {
			t.Error("owner still owns a deleted line")
		}
	})
}

func TestUninstalledPortalLoggedOutByOwner(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		h := newHarness(t, db)
		a := h.manager("a")
		line := h.line("1")
		jid := h.pair(a, line.ID, testPhone)

		b := h.manager("b")
		if err := b.PortalUninstalled(ctx, h.portalID, false); err != nil {
			t.Fatal(err)
		}
		if !h.hasDevice(jid) {
			t.Fatal("the non-owner logged the device out itself")
		}
		err := db.Model(&portal.Portal{}).Where("id = ?", h.portalID).Update("state", portal.StateUninstalled).Error
		if err != nil {
			t.Fatal(err)
		}

		a.maintain(ctx)
		got := h.get(line.ID)
		if got.State != StateLoggedOut || got.StateReason != ReasonUninstalled || h.hasDevice(jid) {
			t.Errorf("line = state %q reason %q, device in store %v; want logged_out uninstalled and no device",
				got.State, got.StateReason, h.hasDevice(jid))
		}
	})
}

func TestStartResetsInterruptedPairing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		h := newHarness(t, db)
		line := h.line("1")
		if err := NewLineStore(db).SetState(ctx, line.ID, StatePairing, LinkedViaQR, nil); err != nil {
			t.Fatal(err)
		}

		m := h.manager("a")
		if err := m.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if got := h.get(line.ID); got.State != StateNew || got.StateReason != "pairing_interrupted" {
			t.Errorf("line = state %q reason %q, want new pairing_interrupted", got.State, got.StateReason)
		}
	})
}
