package connector_test

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/connector"
	"github.com/wabridge/b24wa/internal/dbtest"
	"github.com/wabridge/b24wa/portal"
)

// testClock is a settable clock for the scan link store.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

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

// insertLine stores a portal and one line of it and returns the line's id.
func insertLine(t *testing.T, db *gorm.DB, member string) uint64 {
	t.Helper()
	now := time.Now().UTC()
	p := &portal.Portal{MemberID: member, Domain: member + ".bitrix24.com", State: portal.StateActive, Lang: "en", CreatedAt: now, UpdatedAt: now}
	if err := db.Create(p).Error; err != nil {
		t.Fatal(err)
	}
	l := &connector.Line{PortalID: p.ID, LineID: "3", ConnectorID: "b24wa_whatsapp", State: connector.StateNew, StateSince: now, CreatedAt: now, UpdatedAt: now}
	if err := db.Create(l).Error; err != nil {
		t.Fatal(err)
	}
	return l.ID
}

func newScanLinks(db *gorm.DB) (*connector.ScanLinks, *testClock) {
	clock := &testClock{now: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	return connector.NewScanLinks(db, clock.Now), clock
}

func TestScanLinkToken(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		links, clock := newScanLinks(db)
		lineID := insertLine(t, db, "m1")

		token, link, err := links.Create(ctx, lineID, 7, "ru")
		if err != nil {
			t.Fatal(err)
		}
		if len(token) != 43 {
			t.Errorf("token length = %d, want 43", len(token))
		}
		raw, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil {
			t.Errorf("token is not base64url: %v", err)
		}
		if len(raw) != 32 {
			t.Errorf("token carries %d bytes, want 32", len(raw))
		}
		if link.ExpiresAt.Sub(link.CreatedAt) != 15*time.Minute {
			t.Errorf("lifetime = %v, want 15m", link.ExpiresAt.Sub(link.CreatedAt))
		}
		if !link.CreatedAt.Equal(clock.Now()) {
			t.Errorf("created at %v, want the injected clock %v", link.CreatedAt, clock.Now())
		}

		var stored connector.ScanLink
		if err := db.First(&stored, link.ID).Error; err != nil {
			t.Fatal(err)
		}
		if stored.TokenHash != connector.HashScanLinkToken(token) {
			t.Errorf("stored hash %q does not match the token's SHA-256", stored.TokenHash)
		}
		if strings.Contains(stored.TokenHash, token) || len(stored.TokenHash) != 64 {
			t.Errorf("stored value %q is not a 64-digit hash of the token", stored.TokenHash)
		}
		if stored.CreatedBy != 7 || stored.Lang != "ru" {
			t.Errorf("stored creator %d and language %q, want 7 and ru", stored.CreatedBy, stored.Lang)
		}
	})
}

func TestScanLinkTokensDiffer(t *testing.T) {
	db := dbtest.SQLite(t)
	links, _ := newScanLinks(db)
	lineID := insertLine(t, db, "m1")
	seen := map[string]bool{}
	for range 20 {
		token, _, err := links.Create(context.Background(), lineID, 1, "en")
		if err != nil {
			t.Fatal(err)
		}
		if seen[token] {
			t.Fatalf("token %q issued twice", token)
		}
		seen[token] = true
	}
}

func TestScanLinkExpiry(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		links, clock := newScanLinks(db)
		token, _, err := links.Create(ctx, insertLine(t, db, "m1"), 1, "en")
		if err != nil {
			t.Fatal(err)
		}

		clock.Advance(15*time.Minute - time.Second)
		if _, err := links.Resolve(ctx, token); err != nil {
			t.Errorf("a second before expiry: %v, want valid", err)
		}
		clock.Advance(time.Second)
		link, err := links.Resolve(ctx, token)
		if !errors.Is(err, connector.ErrScanLinkExpired) {
			t.Errorf("at exactly 15 minutes: %v, want ErrScanLinkExpired", err)
		}
		if link == nil {
			t.Error("an expired link should still be returned for its page")
		}
	})
}

func TestScanLinkResolveUnknown(t *testing.T) {
	db := dbtest.SQLite(t)
	links, _ := newScanLinks(db)
	for _, token := range []string{"", "short", strings.Repeat("A", 43), strings.Repeat("A", 44)} {
		if _, err := links.Resolve(context.Background(), token); !errors.Is(err, connector.ErrScanLinkNotFound) {
			t.Errorf("Resolve(%q) = %v, want ErrScanLinkNotFound", token, err)
		}
	}
}

func TestScanLinkRevoke(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		links, _ := newScanLinks(db)
		lineID := insertLine(t, db, "m1")
		token, _, err := links.Create(ctx, lineID, 1, "en")
		if err != nil {
			t.Fatal(err)
		}

		n, err := links.Revoke(ctx, lineID)
		if err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("revoked %d links, want 1", n)
		}
		if _, err := links.Resolve(ctx, token); !errors.Is(err, connector.ErrScanLinkRevoked) {
			t.Errorf("after revoke: %v, want ErrScanLinkRevoked", err)
		}
		open, err := links.Open(ctx, lineID)
		if err != nil {
			t.Fatal(err)
		}
		if open != nil {
			t.Errorf("open link after revoke = %+v, want none", open)
		}
	})
}

func TestScanLinkNewRevokesOld(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		links, _ := newScanLinks(db)
		lineID := insertLine(t, db, "m1")
		otherLine := insertLine(t, db, "m2")
		first, _, err := links.Create(ctx, lineID, 1, "en")
		if err != nil {
			t.Fatal(err)
		}
		other, _, err := links.Create(ctx, otherLine, 1, "en")
		if err != nil {
			t.Fatal(err)
		}

		second, created, err := links.Create(ctx, lineID, 1, "en")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := links.Resolve(ctx, first); !errors.Is(err, connector.ErrScanLinkRevoked) {
			t.Errorf("first link after a second was created: %v, want ErrScanLinkRevoked", err)
		}
		if _, err := links.Resolve(ctx, second); err != nil {
			t.Errorf("second link: %v, want valid", err)
		}
		if _, err := links.Resolve(ctx, other); err != nil {
			t.Errorf("another line's link: %v, want untouched", err)
		}
		open, err := links.Open(ctx, lineID)
		if err != nil {
			t.Fatal(err)
		}
		if open == nil || open.ID != created.ID {
			t.Errorf("open link = %+v, want the second one (%d)", open, created.ID)
		}
	})
}

func TestScanLinkSingleSuccess(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		links, _ := newScanLinks(db)
		token, link, err := links.Create(ctx, insertLine(t, db, "m1"), 1, "en")
		if err != nil {
			t.Fatal(err)
		}

		first, err := links.MarkUsed(ctx, link.ID)
		if err != nil {
			t.Fatal(err)
		}
		second, err := links.MarkUsed(ctx, link.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !first || second {
			t.Errorf("MarkUsed twice = %v, %v; want true, false", first, second)
		}
		if _, err := links.Resolve(ctx, token); !errors.Is(err, connector.ErrScanLinkUsed) {
			t.Errorf("after use: %v, want ErrScanLinkUsed", err)
		}
		if n, err := links.Revoke(ctx, link.LineID); err != nil || n != 0 {
			t.Errorf("Revoke after use ended %d links (%v), want 0", n, err)
		}
	})
}
