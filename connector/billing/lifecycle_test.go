package billing

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/types"
	"gorm.io/gorm"

	"github.com/wabridge/b24wa/connector"
	"github.com/wabridge/b24wa/internal/dbtest"
)

// TestLineLifecycle walks one line through trial, due_soon, grace,
// suspension, payment and a new scan on the real session manager, the
// simulated WhatsApp and the fake portal.
func TestLineLifecycle(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		m := w.manager("one", w.sim)
		s := w.service(m)
		line := w.line(m, "1", "Sales")
		w.pair(m, line.ID, "79001234567")
		jid := w.get(line.ID).WaJID

		check(t, s)
		wantTime(t, "trial paid_until", mustRow(t, s, line.ID).PaidUntil, testStart.AddDate(0, 0, 7))
		wantView(t, s, line, StateTrial, "billing.banner.trial")

		w.clock.Advance(3 * day)
		check(t, s)
		wantView(t, s, line, StateDueSoon, "billing.banner.trial_due_soon")
		if notes := w.notes(); len(notes) != 1 || !strings.Contains(notes[0], `"Sales"`) || !strings.Contains(notes[0], "2026-03-09") {
			t.Fatalf("notifications = %q, want one naming the line and its trial end", notes)
		}

		w.clock.Advance(4*day + time.Hour)
		check(t, s)
		wantView(t, s, line, StateGrace, "billing.banner.grace")
		if notes := w.notes(); len(notes) != 2 || !strings.Contains(notes[1], "2026-03-12") {
			t.Fatalf("notifications = %q, want a grace reminder naming the suspension day", notes)
		}
		if got := w.get(line.ID).State; got != connector.StateConnected {
			t.Fatalf("line state in grace = %s, want it still connected", got)
		}

		w.clock.Advance(3 * day)
		check(t, s)
		wantSuspended(t, w, s, line.ID, jid)
		wantView(t, s, line, StateSuspended, "billing.banner.suspended")
		if err := s.PairingAllowed(ctx, line); !errors.Is(err, ErrLineUnpaid) {
			t.Errorf("pairing a suspended line: got %v, want ErrLineUnpaid", err)
		}

		check(t, s)
		if got := w.deactivations(); got != 1 {
			t.Errorf("a second check deactivated the line again: %d deactivations", got)
		}

		inv, err := s.IssueInvoice(ctx, InvoiceRequest{PortalID: w.portalID, LineIDs: []uint64{line.ID}, Months: 1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.PayInvoice(ctx, inv.Number); err != nil {
			t.Fatal(err)
		}
		wantTime(t, "paid_until after payment", mustRow(t, s, line.ID).PaidUntil, w.clock.Now().UTC().Truncate(time.Second).AddDate(0, 1, 0))
		if got := w.get(line.ID).State; got != connector.StateNeedsScan {
			t.Fatalf("line state after payment = %s, want needs_scan", got)
		}
		wantView(t, s, line, StateNeedsScan, "billing.banner.needs_scan")
		if err := s.PairingAllowed(ctx, line); err != nil {
			t.Errorf("pairing a paid line: %v", err)
		}

		w.pair(m, line.ID, "79001234567")
		check(t, s)
		wantView(t, s, line, StatePaid, "billing.banner.paid")
		if got := mustRow(t, s, line.ID).BillingState; got != StatePaid {
			t.Errorf("stored billing_state = %s, want paid", got)
		}
	})
}

// wantView fails unless the line's view has the state and banner key.
func wantView(t *testing.T, s *Service, line *connector.Line, state, banner string) {
	t.Helper()
	v, err := s.View(context.Background(), line)
	if err != nil {
		t.Fatal(err)
	}
	if v.State != state || v.Banner.Key != banner {
		t.Fatalf("view = %s with %q, want %s with %q", v.State, v.Banner.Key, state, banner)
	}
}

// wantSuspended checks every effect of a suspension: the line is
// suspended, its device is gone from WhatsApp's side, its session row is
// closed with reason payment, the connector is deactivated in Bitrix24 and
// the installer was notified.
func wantSuspended(t *testing.T, w *world, s *Service, lineID uint64, jid string) {
	t.Helper()
	line := w.get(lineID)
	if line.State != connector.StateSuspended || line.WaJID != "" {
		t.Fatalf("line after suspension: state %s, wa_jid %q; want suspended without a device", line.State, line.WaJID)
	}
	if row := mustRow(t, s, lineID); row.SuspendedAt == nil || row.BillingState != StateSuspended {
		t.Fatalf("suspended_at %v, billing_state %s; want both set", row.SuspendedAt, row.BillingState)
	}

	devices, err := w.sim.Devices(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	parsed, _ := types.ParseJID(jid)
	for _, d := range devices {
		if d == parsed {
			t.Errorf("device %s still exists after suspension", jid)
		}
	}

	sessions, err := connector.NewLineStore(w.db).DeviceSessions(context.Background(), lineID)
	if err != nil {
		t.Fatal(err)
	}
	closed := 0
	for _, ds := range sessions {
		if ds.LoggedOutAt != nil && ds.LogoutReason == LogoutReasonPayment {
			closed++
		}
	}
	if closed != 1 {
		t.Errorf("%d device sessions closed with reason payment, want 1", closed)
	}

	if got := w.deactivations(); got != 1 {
		t.Errorf("%d deactivations in Bitrix24, want 1", got)
	}
	notes := w.notes()
	if len(notes) == 0 || !strings.Contains(notes[len(notes)-1], "suspended") {
		t.Errorf("last notification = %q, want the suspension notice", notes)
	}
}
