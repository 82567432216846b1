package billing

import (
	"context"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/connector"
	"github.com/wabridge/b24wa/internal/dbtest"
)

func TestStateAt(t *testing.T) {
	s := &Service{opts: Options{Enabled: true, TrialDays: 7, GraceDays: 3, RemindDays: 5}}
	created := testStart
	trialEnd := created.AddDate(0, 0, 7)
	paidUntil := testStart.AddDate(0, 0, 30)
	paidAt := testStart
	suspendedAt := testStart.AddDate(0, 0, 33)
	cases := []struct {
		name string
		row  lineRow
		at   time.Time
		want string
	}{
		{"line not seen yet", lineRow{CreatedAt: created}, created.Add(day), StateTrial},
		{"line older than billing", lineRow{CreatedAt: created.AddDate(-1, 0, 0)}, created, StateTrial},
		{"trial", lineRow{CreatedAt: created, PaidUntil: &trialEnd}, created.Add(day), StateTrial},
		{"trial within remind days", lineRow{CreatedAt: created, PaidUntil: &trialEnd}, created.Add(3 * day), StateDueSoon},
		{"trial just ended", lineRow{CreatedAt: created, PaidUntil: &trialEnd}, created.Add(7 * day), StateGrace},
		{"trial grace over", lineRow{CreatedAt: created, PaidUntil: &trialEnd}, created.Add(10 * day), StateSuspended},
		{"paid", lineRow{PaidUntil: &paidUntil, LastPaidAt: &paidAt}, testStart.Add(day), StatePaid},
		{"paid due soon", lineRow{PaidUntil: &paidUntil, LastPaidAt: &paidAt}, paidUntil.Add(-5 * day), StateDueSoon},
		{"paid in grace", lineRow{PaidUntil: &paidUntil, LastPaidAt: &paidAt}, paidUntil.Add(time.Second), StateGrace},
		{"last second of grace", lineRow{PaidUntil: &paidUntil, LastPaidAt: &paidAt}, paidUntil.Add(3*day - time.Second), StateGrace},
		{"grace over", lineRow{PaidUntil: &paidUntil, LastPaidAt: &paidAt}, paidUntil.Add(3 * day), StateSuspended},
		{"suspended line", lineRow{PaidUntil: &paidUntil, SuspendedAt: &suspendedAt, State: connector.StateSuspended}, suspendedAt.Add(day), StateSuspended},
		{"paid after suspension", lineRow{PaidUntil: &paidUntil, LastPaidAt: &paidAt, State: connector.StateNeedsScan}, testStart, StateNeedsScan},
		{"paid while logout ran", lineRow{PaidUntil: &paidUntil, LastPaidAt: &paidAt, State: connector.StateSuspended}, testStart, StateNeedsScan},
		{"scanned again", lineRow{PaidUntil: &paidUntil, LastPaidAt: &paidAt, State: connector.StateConnected}, testStart, StatePaid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := s.stateAt(tc.row, tc.at); got != tc.want {
				t.Errorf("state = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestStateAtDisabledIsFree(t *testing.T) {
	s := &Service{opts: Options{TrialDays: 7, GraceDays: 3}}
	long := testStart.AddDate(-2, 0, 0)
	row := lineRow{CreatedAt: long, PaidUntil: &long}
	if got := s.stateAt(row, testStart); got != StateFree {
		t.Errorf("state = %s, want %s", got, StateFree)
	}
}

func TestDaysLeft(t *testing.T) {
	cases := []struct {
		in   time.Duration
		want int
	}{
		{36 * time.Hour, 2},
		{24 * time.Hour, 1},
		{time.Hour, 1},
		{0, 0},
		{-time.Hour, 0},
		{-25 * time.Hour, -1},
	}
	for _, tc := range cases {
		if got := daysLeft(testStart, testStart.Add(tc.in)); got != tc.want {
			t.Errorf("daysLeft(%s) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestFormatMoney(t *testing.T) {
	cases := []struct {
		amount   int64
		currency string
		lang     string
		want     string
	}{
		{150000, "RUB", "en", "1,500.00\u00a0RUB"},
		{150000, "RUB", "ru", "1\u00a0500,00\u00a0RUB"},
		{123456789, "USD", "en", "1,234,567.89\u00a0USD"},
		{5, "EUR", "en", "0.05\u00a0EUR"},
		{1500, "JPY", "en", "1,500\u00a0JPY"},
		{-150000, "RUB", "en", "-1,500.00\u00a0RUB"},
	}
	for _, tc := range cases {
		if got := FormatMoney(tc.amount, tc.currency, tc.lang); got != tc.want {
			t.Errorf("FormatMoney(%d, %s, %s) = %q, want %q", tc.amount, tc.currency, tc.lang, got, tc.want)
		}
	}
}

func TestParseUntil(t *testing.T) {
	got, err := ParseUntil("2026-05-31")
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("date: got %s, want %s", got, want)
	}
	got, err = ParseUntil("2026-05-31T10:00:00+03:00")
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 5, 31, 7, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("RFC 3339: got %s, want %s", got, want)
	}
	if _, err := ParseUntil("31.05.2026"); err == nil {
		t.Error("31.05.2026 was accepted")
	}
}

func TestOptionsValidate(t *testing.T) {
	cases := []struct {
		name string
		opts Options
		ok   bool
	}{
		{"disabled zero value", Options{}, true},
		{"enabled", Options{Enabled: true, PricePerMonth: 100, Currency: "RUB"}, true},
		{"enabled without price", Options{Enabled: true, Currency: "RUB"}, false},
		{"bad currency", Options{Enabled: true, PricePerMonth: 100, Currency: "rubles"}, false},
		{"negative grace", Options{GraceDays: -1}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.opts.validate(); (err == nil) != tc.ok {
				t.Errorf("validate() = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestTrialOfLineOlderThanBilling(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		clock := newTestClock()
		s := newTestService(t, db, nil, nil, testOptions(clock.Now))
		p := mustPortal(t, db)
		recent := mustLine(t, db, p, "Recent", testStart.Add(-2*day))
		old := mustLine(t, db, p, "Old", testStart.AddDate(-1, 0, 0))

		for _, l := range []*connector.Line{recent, old} {
			if _, err := s.View(context.Background(), l); err != nil {
				t.Fatal(err)
			}
		}
		wantTime(t, "trial end of a recent line", mustRow(t, s, recent.ID).PaidUntil, testStart.Add(5*day))
		wantTime(t, "trial end of a line created before billing", mustRow(t, s, old.ID).PaidUntil, testStart.Add(7*day))
	})
}

func TestSellerDetailsEscapedNewlines(t *testing.T) {
	opts := testOptions(newTestClock().Now)
	opts.SellerDetails = `OOO Example\nINN 7700000000`
	s := newTestService(t, nil, nil, nil, opts)
	if got := s.opts.SellerDetails; got != "OOO Example\nINN 7700000000" {
		t.Errorf("seller details = %q, want the \\n turned into a line break", got)
	}
}
