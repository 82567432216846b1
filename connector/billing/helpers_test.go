package billing

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/connector"
	"github.com/wabridge/b24wa/internal/dbtest"
	"github.com/wabridge/b24wa/portal"
	"github.com/wabridge/b24wa/static"
)

// testStart is the clock's start in tests: a Monday noon in UTC.
var testStart = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

// testClock is a clock that tests move by hand.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock { return &testClock{now: testStart} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

const day = 24 * time.Hour

// testOptions are billing options with a 7-day trial, 3 days of grace and
// reminders 5 days ahead, at 1500.00 RUB per line and month.
func testOptions(now func() time.Time) Options {
	return Options{
		Enabled: true, TrialDays: 7, GraceDays: 3, RemindDays: 5,
		PricePerMonth: 150000, Currency: "RUB",
		SellerDetails: "OOO Example\nINN 7700000000\nMoscow, Example st. 1\nBank: Example Bank, BIC 044525000",
		CheckInterval: time.Minute, Now: now,
	}
}

// newTestService returns a Service over db with test options, the given
// session manager and REST client, and the real translations.
func newTestService(t *testing.T, db *gorm.DB, sessions Logouter, b24 Caller, opts Options) *Service {
	t.Helper()
	opts.Log = dbtest.Logger(t)
	s, err := New(db, sessions, b24, static.MustCatalog(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var portalSeq atomic.Int64

// mustPortal inserts an installed portal whose installer is user 1.
func mustPortal(t *testing.T, db *gorm.DB) *portal.Portal {
	t.Helper()
	n := portalSeq.Add(1)
	p := &portal.Portal{
		MemberID: fmt.Sprintf("member%d", n), Domain: fmt.Sprintf("b24-%d.example.com", n),
		ClientEndpoint: fmt.Sprintf("https://b24-%d.example.com/rest/", n),
		Lang:           "en", Name: "Example LLC", State: portal.StateActive, InstallerUserID: 1,
	}
	if err := db.Create(p).Error; err != nil {
		t.Fatal(err)
	}
	return p
}

// mustLine inserts a line of p created at created.
func mustLine(t *testing.T, db *gorm.DB, p *portal.Portal, name string, created time.Time) *connector.Line {
	t.Helper()
	var count int64
	db.Model(&connector.Line{}).Where("portal_id = ?", p.ID).Count(&count)
	l := &connector.Line{
		PortalID: p.ID, LineID: fmt.Sprint(count + 1), ConnectorID: "b24wa_whatsapp", Name: name,
		State: connector.StateNew, StateSince: created, CreatedAt: created, UpdatedAt: created,
	}
	if err := db.Create(l).Error; err != nil {
		t.Fatal(err)
	}
	return l
}

// mustRow reads the billing columns of a line.
func mustRow(t *testing.T, s *Service, id uint64) lineRow {
	t.Helper()
	l, err := s.loadLine(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// wantTime fails unless got is set and equal to want.
func wantTime(t *testing.T, name string, got *time.Time, want time.Time) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s is nil, want %s", name, want)
	}
	if !got.Equal(want) {
		t.Fatalf("%s = %s, want %s", name, got.UTC(), want)
	}
}
