package billing

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/internal/dbtest"
)

func TestIssueInvoiceTotals(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		clock := newTestClock()
		s := newTestService(t, db, nil, nil, testOptions(clock.Now))
		p := mustPortal(t, db)
		a := mustLine(t, db, p, "Sales", testStart)
		b := mustLine(t, db, p, "Support", testStart)
		c := mustLine(t, db, p, "Delivery", testStart)

		inv, err := s.IssueInvoice(ctx, InvoiceRequest{PortalID: p.ID, LineIDs: []uint64{c.ID, a.ID, b.ID}, Months: 6, IssuedBy: 7, Lang: "ru"})
		if err != nil {
			t.Fatal(err)
		}
		if want := int64(3 * 6 * 150000); inv.Amount != want {
			t.Errorf("amount = %d, want %d", inv.Amount, want)
		}
		if inv.Number != "2026-000001" {
			t.Errorf("number = %q, want 2026-000001", inv.Number)
		}
		if inv.Status != InvoiceIssued || inv.Currency != "RUB" || inv.UnitPrice != 150000 || inv.Months != 6 {
			t.Errorf("invoice = %+v", inv)
		}
		if inv.BuyerDomain != p.Domain || inv.SellerDetails == "" {
			t.Errorf("buyer %q, seller %q: want the portal's domain and the configured seller", inv.BuyerDomain, inv.SellerDetails)
		}

		stored, err := s.Invoice(ctx, inv.ID, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(stored.Lines) != 3 {
			t.Fatalf("stored %d invoice lines, want 3", len(stored.Lines))
		}
		var sum int64
		for i, il := range stored.Lines {
			if il.Amount != 6*150000 || il.Months != 6 {
				t.Errorf("line %d: amount %d for %d months", i, il.Amount, il.Months)
			}
			sum += il.Amount
		}
		if sum != stored.Amount {
			t.Errorf("lines add up to %d, invoice says %d", sum, stored.Amount)
		}
		if stored.Lines[0].LineName != "Sales" {
			t.Errorf("first line %q, want Sales (lines are kept in line id order)", stored.Lines[0].LineName)
		}

		other := mustPortal(t, db)
		if _, err := s.Invoice(ctx, inv.ID, other.ID); !errors.Is(err, ErrInvoiceNotFound) {
			t.Errorf("invoice read by another portal: got %v, want ErrInvoiceNotFound", err)
		}
	})
}

func TestIssueInvoiceRejectsBadRequests(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		s := newTestService(t, db, nil, nil, testOptions(newTestClock().Now))
		p := mustPortal(t, db)
		l := mustLine(t, db, p, "Sales", testStart)
		foreign := mustLine(t, db, mustPortal(t, db), "Theirs", testStart)
		cases := []struct {
			name string
			req  InvoiceRequest
			want error
		}{
			{"no months", InvoiceRequest{PortalID: p.ID, LineIDs: []uint64{l.ID}}, ErrInvalidMonths},
			{"too many months", InvoiceRequest{PortalID: p.ID, LineIDs: []uint64{l.ID}, Months: 37}, ErrInvalidMonths},
			{"no lines", InvoiceRequest{PortalID: p.ID, Months: 1}, ErrInvalidLines},
			{"line twice", InvoiceRequest{PortalID: p.ID, LineIDs: []uint64{l.ID, l.ID}, Months: 1}, ErrInvalidLines},
			{"line of another portal", InvoiceRequest{PortalID: p.ID, LineIDs: []uint64{l.ID, foreign.ID}, Months: 1}, ErrLineNotFound},
			{"unknown line", InvoiceRequest{PortalID: p.ID, LineIDs: []uint64{99999}, Months: 1}, ErrLineNotFound},
		}
		for _, tc := range cases {
			if _, err := s.IssueInvoice(ctx, tc.req); !errors.Is(err, tc.want) {
				t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
			}
		}
		var count int64
		db.Model(&Invoice{}).Count(&count)
		if count != 0 {
			t.Errorf("%d invoices stored after rejected requests", count)
		}

		off := newTestService(t, db, nil, nil, Options{})
		if _, err := off.IssueInvoice(ctx, InvoiceRequest{PortalID: p.ID, LineIDs: []uint64{l.ID}, Months: 1}); !errors.Is(err, ErrDisabled) {
			t.Errorf("billing disabled: got %v, want ErrDisabled", err)
		}
	})
}

func TestInvoiceNumbersUniqueUnderConcurrency(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		clock := newTestClock()
		p := mustPortal(t, db)
		l := mustLine(t, db, p, "Sales", testStart)
		// Two services on one database stand for two processes.
		services := []*Service{
			newTestService(t, db, nil, nil, testOptions(clock.Now)),
			newTestService(t, db, nil, nil, testOptions(clock.Now)),
		}

		const n = 24
		numbers := make(chan string, n)
		errs := make(chan error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				inv, err := services[i%2].IssueInvoice(ctx, InvoiceRequest{PortalID: p.ID, LineIDs: []uint64{l.ID}, Months: 1})
				if err != nil {
					errs <- err
					return
				}
				numbers <- inv.Number
			}()
		}
		wg.Wait()
		close(numbers)
		close(errs)
		for err := range errs {
			t.Errorf("issue: %v", err)
		}
		seen := map[string]bool{}
		for num := range numbers {
			if seen[num] {
				t.Errorf("number %s issued twice", num)
			}
			seen[num] = true
		}
		for i := 1; i <= n; i++ {
			if num := formatNumber(2026, i); !seen[num] {
				t.Errorf("number %s is missing: numbers must be sequential without gaps", num)
			}
		}

		clock.Set(time.Date(2027, 1, 1, 0, 0, 1, 0, time.UTC))
		inv, err := services[0].IssueInvoice(ctx, InvoiceRequest{PortalID: p.ID, LineIDs: []uint64{l.ID}, Months: 1})
		if err != nil {
			t.Fatal(err)
		}
		if inv.Number != "2027-000001" {
			t.Errorf("first number of 2027 = %s, want 2027-000001", inv.Number)
		}
	})
}

func TestPayInvoiceExtendsLines(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		clock := newTestClock()
		s := newTestService(t, db, nil, nil, testOptions(clock.Now))
		p := mustPortal(t, db)
		inTrial := mustLine(t, db, p, "Sales", testStart)
		lapsed := mustLine(t, db, p, "Support", testStart.AddDate(0, 0, -9))
		if err := db.Model(&lineRow{}).Where("id = ?", lapsed.ID).Update("paid_until", testStart.AddDate(0, 0, -2)).Error; err != nil {
			t.Fatal(err)
		}
		inv, err := s.IssueInvoice(ctx, InvoiceRequest{PortalID: p.ID, LineIDs: []uint64{inTrial.ID, lapsed.ID}, Months: 2})
		if err != nil {
			t.Fatal(err)
		}

		clock.Advance(3 * day)
		paid, err := s.PayInvoice(ctx, inv.Number)
		if err != nil {
			t.Fatal(err)
		}
		if paid.Status != InvoicePaid || paid.PaidAt == nil {
			t.Errorf("paid invoice: status %s, paid_at %v", paid.Status, paid.PaidAt)
		}
		// The trial runs until day 7, so the paid months start there; the
		// lapsed line's paid_until passed, so its months start now.
		wantTime(t, "paid_until of the line in trial", mustRow(t, s, inTrial.ID).PaidUntil, testStart.AddDate(0, 2, 7))
		wantTime(t, "paid_until of the lapsed line", mustRow(t, s, lapsed.ID).PaidUntil, clock.Now().AddDate(0, 2, 0))
		if got := s.stateAt(mustRow(t, s, inTrial.ID), clock.Now()); got != StatePaid {
			t.Errorf("state after payment = %s, want paid", got)
		}

		if _, err := s.PayInvoice(ctx, inv.Number); !errors.Is(err, ErrInvoiceNotIssued) {
			t.Errorf("second payment: got %v, want ErrInvoiceNotIssued", err)
		}
		wantTime(t, "paid_until after a second payment", mustRow(t, s, inTrial.ID).PaidUntil, testStart.AddDate(0, 2, 7))
		var extensions []Extension
		db.Where("invoice_id = ?", inv.ID).Find(&extensions)
		if len(extensions) != 2 {
			t.Errorf("%d extensions recorded, want 2", len(extensions))
		}
		if _, err := s.PayInvoice(ctx, "2026-999999"); !errors.Is(err, ErrInvoiceNotFound) {
			t.Errorf("unknown number: got %v, want ErrInvoiceNotFound", err)
		}
	})
}

func TestCancelledInvoiceCannotBePaid(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		clock := newTestClock()
		s := newTestService(t, db, nil, nil, testOptions(clock.Now))
		p := mustPortal(t, db)
		l := mustLine(t, db, p, "Sales", testStart)
		inv, err := s.IssueInvoice(ctx, InvoiceRequest{PortalID: p.ID, LineIDs: []uint64{l.ID}, Months: 1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CancelInvoice(ctx, inv.Number); err != nil {
			t.Fatal(err)
		}
		if _, err := s.PayInvoice(ctx, inv.Number); !errors.Is(err, ErrInvoiceNotIssued) {
			t.Errorf("pay after cancel: got %v, want ErrInvoiceNotIssued", err)
		}
		if row := mustRow(t, s, l.ID); row.PaidUntil != nil {
			t.Errorf("cancelled invoice set paid_until to %s", row.PaidUntil)
		}
	})
}

func TestListInvoicesNewestFirst(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		s := newTestService(t, db, nil, nil, testOptions(newTestClock().Now))
		p := mustPortal(t, db)
		l := mustLine(t, db, p, "Sales", testStart)
		for range 3 {
			if _, err := s.IssueInvoice(ctx, InvoiceRequest{PortalID: p.ID, LineIDs: []uint64{l.ID}, Months: 1}); err != nil {
				t.Fatal(err)
			}
		}
		list, err := s.Invoices(ctx, p.ID, 2)
		if err != nil {
			t.Fatal(err)
		}
		got := fmt.Sprintf("%d %s %s", len(list), list[0].Number, list[1].Number)
		if want := "2 2026-000003 2026-000002"; got != want {
			t.Errorf("invoices = %s, want %s", got, want)
		}
	})
}
