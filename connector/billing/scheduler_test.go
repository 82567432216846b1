package billing

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/connector"
	"github.com/wabridge/b24wa/internal/dbtest"
	"github.com/wabridge/b24wa/portal"
)

// checkInParallel runs one Check on each service at the same time.
func checkInParallel(t *testing.T, services ...*Service) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, len(services))
	for _, s := range services {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.Check(context.Background())
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("check: %v", err)
		}
	}
}

func TestReminderSentOncePerDay(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		w := newWorld(t, db)
		m := w.manager("one", w.sim)
		// Two services on one database stand for two processes.
		a, b := w.service(m), w.service(m)
		line := w.line(m, "1", "Sales")
		w.pair(m, line.ID, "79001234567")

		w.clock.Advance(3 * day)
		for range 3 {
			checkInParallel(t, a, b)
		}
		if got := len(w.notes()); got != 1 {
			t.Fatalf("%d notifications after parallel checks, want 1", got)
		}

		w.clock.Advance(23 * time.Hour)
		checkInParallel(t, a, b)
		if got := len(w.notes()); got != 1 {
			t.Fatalf("%d notifications 23 hours later, want still 1", got)
		}

		w.clock.Advance(time.Hour)
		checkInParallel(t, a, b)
		notes := w.notes()
		if len(notes) != 2 {
			t.Fatalf("%d notifications a day later, want 2", len(notes))
		}
		if n := w.b24.Notifications()[1]; n.UserID != 1 {
			t.Errorf("notification went to user %d, want the installer, user 1", n.UserID)
		}
	})
}

func TestNoNotificationForLineNeverLinked(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		w := newWorld(t, db)
		m := w.manager("one", w.sim)
		s := w.service(m)
		line := w.line(m, "1", "Sales")
		check(t, s)

		w.clock.Advance(3 * day)
		check(t, s)
		wantView(t, s, line, StateDueSoon, "billing.banner.trial_due_soon")
		w.clock.Advance(7 * day)
		check(t, s)
		wantView(t, s, line, StateSuspended, "billing.banner.suspended")

		if got := w.get(line.ID).State; got != connector.StateSuspended {
			t.Errorf("line state = %s, want suspended", got)
		}
		if notes := w.notes(); len(notes) != 0 {
			t.Errorf("notifications about a line that never had a number: %q", notes)
		}
	})
}

func TestReminderInPortalLanguage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		w := newWorld(t, db)
		if err := db.Model(&portal.Portal{}).Where("id = ?", w.portalID).Update("lang", "ru").Error; err != nil {
			t.Fatal(err)
		}
		m := w.manager("one", w.sim)
		s := w.service(m)
		line := w.line(m, "1", "Продажи")
		w.pair(m, line.ID, "79001234567")

		w.clock.Advance(3 * day)
		check(t, s)
		notes := w.notes()
		if len(notes) != 1 || !strings.Contains(notes[0], "«Продажи»") || !strings.Contains(notes[0], "пробный период") {
			t.Fatalf("notifications = %q, want one Russian trial reminder naming the line", notes)
		}
	})
}

func TestParallelSchedulersSuspendOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		w := newWorld(t, db)
		m := w.manager("one", w.sim)
		a, b := w.service(m), w.service(m)
		line := w.line(m, "1", "Sales")
		w.pair(m, line.ID, "79001234567")
		jid := w.get(line.ID).WaJID
		checkInParallel(t, a, b)

		w.clock.Advance(10*day + time.Minute)
		checkInParallel(t, a, b)
		checkInParallel(t, a, b)

		wantSuspended(t, w, a, line.ID, jid)
		suspensions := 0
		for _, n := range w.notes() {
			if strings.Contains(n, "is suspended") {
				suspensions++
			}
		}
		if suspensions != 1 {
			t.Errorf("%d suspension notices, want 1: only the process that claims the line logs it out", suspensions)
		}
	})
}

func TestPairedAgainWithoutPaymentIsLoggedOut(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		w := newWorld(t, db)
		m := w.manager("one", w.sim)
		s := w.service(m)
		line := w.line(m, "1", "Sales")
		check(t, s)
		w.clock.Advance(10*day + time.Minute)
		check(t, s)
		if got := w.get(line.ID).State; got != connector.StateSuspended {
			t.Fatalf("unpaired line past grace: state %s, want suspended", got)
		}

		// Another path, such as a logout from the settings page, may move a
		// suspended line out of the suspended state. Such a line can be
		// paired while unpaid, and the next check logs it out again.
		if err := connector.NewLineStore(db).SetState(context.Background(), line.ID, connector.StateLoggedOut, "user", nil); err != nil {
			t.Fatal(err)
		}
		w.pair(m, line.ID, "79001234567")
		check(t, s)
		if got := w.get(line.ID); got.State != connector.StateSuspended || got.WaJID != "" {
			t.Fatalf("line paired without payment: state %s, wa_jid %q after a check; want suspended", got.State, got.WaJID)
		}
	})
}

func TestBillingDisabledNeverExpires(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		m := w.manager("one", w.sim)
		s := newTestService(t, db, m, w.client, Options{Now: w.clock.Now, CheckInterval: time.Millisecond})
		line := w.line(m, "1", "Sales")
		w.pair(m, line.ID, "79001234567")

		w.clock.Advance(400 * day)
		runCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := s.Run(runCtx); err != nil {
			t.Fatalf("run: %v", err)
		}
		if runCtx.Err() != nil {
			t.Fatal("Run of disabled billing did not return at once")
		}
		check(t, s)

		if got := w.get(line.ID); got.State != connector.StateConnected || got.PaidUntil != nil {
			t.Errorf("line after 400 days: state %s, paid_until %v; want connected and no paid_until", got.State, got.PaidUntil)
		}
		v, err := s.View(ctx, line)
		if err != nil {
			t.Fatal(err)
		}
		if v.State != StateFree || v.Enabled || v.Banner.Key != "" || v.PaidUntil != nil {
			t.Errorf("view = %+v, want free without a banner", v)
		}
		if err := s.PairingAllowed(ctx, line); err != nil {
			t.Errorf("pairing allowed: %v", err)
		}
		if notes := w.notes(); len(notes) != 0 {
			t.Errorf("notifications sent with billing disabled: %q", notes)
		}
	})
}

func TestLicenceBanner(t *testing.T) {
	cases := []struct {
		name    string
		changes map[string]any
		want    string
	}{
		{"licence in order", map[string]any{"licence_payment_expired": false}, ""},
		{"payment expired", map[string]any{"licence_payment_expired": true}, "billing.banner.licence_expired"},
		{"refresh answered PAYMENT_REQUIRED", map[string]any{"state": portal.StateAttention, "attention_reason": portal.AttentionPaymentRequired}, "billing.banner.licence_expired"},
		{"other attention", map[string]any{"state": portal.StateAttention, "attention_reason": portal.AttentionInvalidGrant}, ""},
	}
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		for _, tc := range cases {
			p := mustPortal(t, db)
			if err := db.Model(&portal.Portal{}).Where("id = ?", p.ID).Updates(tc.changes).Error; err != nil {
				t.Fatal(err)
			}
			line := mustLine(t, db, p, "Sales", testStart)
			for _, opts := range []Options{{}, testOptions(newTestClock().Now)} {
				s := newTestService(t, db, nil, nil, opts)
				v, err := s.View(ctx, line)
				if err != nil {
					t.Fatal(err)
				}
				pv, err := s.ViewPortal(ctx, p.ID)
				if err != nil {
					t.Fatal(err)
				}
				if v.Licence.Key != tc.want || pv.Licence.Key != tc.want {
					t.Errorf("%s, billing enabled %v: line %q, portal %q; want %q", tc.name, opts.Enabled, v.Licence.Key, pv.Licence.Key, tc.want)
				}
			}
		}
	})
}
