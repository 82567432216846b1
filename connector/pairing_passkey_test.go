package connector

import (
	"context"
	"errors"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/connector/wa/simulator"
	"github.com/wabridge/b24wa/internal/dbtest"
)

// scanWithPasskey starts pairing for a line, scans its QR code with a phone
// that must confirm with a passkey and waits for the passkey step.
func (h *harness) scanWithPasskey(m *Manager, lineID uint64, phone string) {
	h.t.Helper()
	if _, err := m.StartPairing(context.Background(), lineID, PairingOptions{}); err != nil {
		h.t.Fatalf("start pairing: %v", err)
	}
	if err := h.sim.ScanWithPasskey(h.waitQR(m, lineID), phone, "Shop "+phone); err != nil {
		h.t.Fatalf("scan with passkey: %v", err)
	}
	h.waitFor("the passkey step", func() bool { return peek(m, lineID).Step == PairingPasskey })
}

// status reads PairingStatus and fails the test on an error.
func (h *harness) status(m *Manager, lineID uint64) *PairingStatus {
	h.t.Helper()
	st, err := m.PairingStatus(context.Background(), lineID)
	if err != nil {
		h.t.Fatalf("pairing status: %v", err)
	}
	return st
}

func TestPairingPasskeyApproved(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		h := newHarness(t, db)
		m := h.manager("a")
		line := h.line("1")

		h.scanWithPasskey(m, line.ID, testPhone)
		st := h.status(m, line.ID)
		if st.QR != "" || !st.QRExpiresAt.IsZero() || st.ErrorKey != "" {
			t.Errorf("passkey status = qr %q expires %v error %q, want no code and no error", st.QR, st.QRExpiresAt, st.ErrorKey)
		}

		// Past the whole QR schedule (160 s) while the page polls, but
		// within the passkey bound: the attempt keeps its device.
		for range 11 {
			h.clock.Advance(10 * time.Second)
			if got := h.status(m, line.ID).Step; got != PairingPasskey {
				t.Fatalf("step after %s = %q, want passkey", h.clock.Now().Sub(testStart), got)
			}
		}
		if got := peek(m, line.ID).Restarts; got != 0 {
			t.Errorf("restarts during the passkey step = %d, want 0", got)
		}
		if n := h.sim.State().Pairings; n != 1 {
			t.Errorf("simulator runs %d pairings, want the one waiting for the passkey", n)
		}

		jid, err := h.sim.ConfirmPasskey(testPhone, true)
		if err != nil {
			t.Fatalf("confirm passkey: %v", err)
		}
		linked := h.waitState(line.ID, StateConnected)
		if linked.WaJID != jid.String() || linked.Phone != testPhone {
			t.Errorf("line = jid %q phone %q, want %s and %s", linked.WaJID, linked.Phone, jid, testPhone)
		}
		done := h.status(m, line.ID)
		if done.Step != PairingSuccess || done.Phone != testPhone {
			t.Errorf("status = step %q phone %q, want success with %s", done.Step, done.Phone, testPhone)
		}
		rows := h.sessions(line.ID)
		if len(rows) != 1 {
			t.Fatalf("%d device sessions, want 1", len(rows))
		}
		if rows[0].WaJID != jid.String() || rows[0].LinkedVia != LinkedViaQR || rows[0].LoggedOutAt != nil {
			t.Errorf("device session = %+v, want an open session of %s linked via qr", rows[0], jid)
		}
		h.waitFor("b24_active set", func() bool { return h.get(line.ID).B24Active })
	})
}

func TestPairingPasskeyTimesOut(t *testing.T) {
	tests := []struct {
		name  string
		check func(h *harness, m *Manager, lineID uint64)
	}{
		{"status read", func(h *harness, m *Manager, lineID uint64) { h.status(m, lineID) }},
		{"maintenance", func(h *harness, m *Manager, lineID uint64) { m.maintain(context.Background()) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
				h := newHarness(t, db)
				m := h.manager("a")
				line := h.line("1")
				h.scanWithPasskey(m, line.ID, testPhone)

				h.clock.Advance(pairingPasskeyTimeout - time.Second)
				tt.check(h, m, line.ID)
				if got := peek(m, line.ID).Step; got != PairingPasskey {
					t.Fatalf("step a second before the bound = %q, want passkey", got)
				}

				h.clock.Advance(time.Second)
				tt.check(h, m, line.ID)
				st := peek(m, line.ID)
				if st.Step != PairingFailed || st.ErrorKey != PairingErrPasskeyTimeout {
					t.Errorf("status = step %q error %q, want failed with %q", st.Step, st.ErrorKey, PairingErrPasskeyTimeout)
				}
				h.waitState(line.ID, StateNew)
				if m.Owns(line.ID) {
					t.Error("a failed passkey wait kept the lease of a line without a device")
				}
				h.waitFor("the simulated pairing to end", func() bool { return h.sim.State().Pairings == 0 })
				if _, err := h.sim.ConfirmPasskey(testPhone, true); !errors.Is(err, simulator.ErrPasskeyNotRequested) {
					t.Errorf("confirm after the timeout: %v, want ErrPasskeyNotRequested", err)
				}
				if rows := h.sessions(line.ID); len(rows) != 0 {
					t.Errorf("a timed-out passkey wait added %d device sessions", len(rows))
				}
			})
		})
	}
}

func TestPairingPasskeyRefused(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		h := newHarness(t, db)
		m := h.manager("a")
		line := h.line("1")
		h.scanWithPasskey(m, line.ID, testPhone)

		if _, err := h.sim.ConfirmPasskey(testPhone, false); err != nil {
			t.Fatalf("refuse passkey: %v", err)
		}
		h.waitFor("failure", func() bool { return peek(m, line.ID).Step == PairingFailed })
		if key := peek(m, line.ID).ErrorKey; key != PairingErrPasskeyRejected {
			t.Errorf("error key = %q, want %q", key, PairingErrPasskeyRejected)
		}
		if got := h.waitState(line.ID, StateNew); got.WaJID != "" {
			t.Errorf("refused pairing linked the line to %q", got.WaJID)
		}
	})
}

func TestPairingPasskeyConnectionLost(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		h := newHarness(t, db)
		m := h.manager("a")
		line := h.line("1")
		h.scanWithPasskey(m, line.ID, testPhone)
		h.status(m, line.ID)

		if n := h.sim.DropAll(); n != 1 {
			t.Fatalf("dropped %d connections, want the pairing's", n)
		}
		h.waitFor("failure", func() bool { return peek(m, line.ID).Step == PairingFailed })
		st := peek(m, line.ID)
		if st.ErrorKey != PairingErrPasskeyTimeout || st.Restarts != 0 {
			t.Errorf("status = error %q restarts %d, want %q and no restart", st.ErrorKey, st.Restarts, PairingErrPasskeyTimeout)
		}
	})
}

func TestPairingPasskeySwitchToPhoneCode(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		h := newHarness(t, db)
		m := h.manager("a")
		line := h.line("1")
		h.scanWithPasskey(m, line.ID, testPhone)

		st, err := m.PairPhone(ctx, line.ID, testPhone)
		if err != nil {
			t.Fatalf("PairPhone during the passkey step: %v", err)
		}
		if st.Step != PairingCode || len(st.PairCode) != 9 {
			t.Fatalf("status = step %q code %q, want a code like ABCD-EFGH", st.Step, st.PairCode)
		}
		// The passkey bound no longer applies to the code step.
		h.clock.Advance(pairingPasskeyTimeout)
		if got := h.status(m, line.ID).Step; got != PairingCode {
			t.Errorf("step after the passkey bound = %q, want code", got)
		}
		if _, err := h.sim.EnterCode(st.PairCode, testPhone, "Shop"); err != nil {
			t.Fatal(err)
		}
		h.waitState(line.ID, StateConnected)
		if rows := h.sessions(line.ID); len(rows) != 1 || rows[0].LinkedVia != LinkedViaPhoneCode {
			t.Errorf("device sessions = %+v, want one linked via phone_code", rows)
		}
	})
}
