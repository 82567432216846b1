package connector

import (
	"context"
	"errors"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/internal/dbtest"
	"github.com/wabridge/b24wa/portal"
)

// storeFixture is a line store on a fresh database with one portal and a
// settable clock.
type storeFixture struct {
	store    *LineStore
	now      time.Time
	portalID uint64
}

func newStoreFixture(t *testing.T, db *gorm.DB) *storeFixture {
	t.Helper()
	f := &storeFixture{now: testStart}
	f.store = newLineStore(db, func() time.Time { return f.now })
	p := portal.Portal{MemberID: "m1", Domain: "example.bitrix24.com", Lang: "en", State: portal.StateActive}
	if err := db.Create(&p).Error; err != nil {
		t.Fatal(err)
	}
	f.portalID = p.ID
	return f
}

func TestLineStoreEnsureIsIdempotent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		f := newStoreFixture(t, db)

		first, err := f.store.Ensure(ctx, f.portalID, "3", testConnector, "Sales")
		if err != nil {
			t.Fatal(err)
		}
		if first.State != StateNew {
			t.Errorf("new line state = %q, want %q", first.State, StateNew)
		}
		second, err := f.store.Ensure(ctx, f.portalID, "3", testConnector, "")
		if err != nil {
			t.Fatal(err)
		}
		if second.ID != first.ID || second.Name != "Sales" {
			t.Errorf("second Ensure = id %d name %q, want id %d name Sales", second.ID, second.Name, first.ID)
		}
		if _, err := f.store.Ensure(ctx, f.portalID, "3", testConnector, "Support"); err != nil {
			t.Fatal(err)
		}
		got, err := f.store.ByPortalLine(ctx, f.portalID, "3")
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "Support" {
			t.Errorf("renamed line name = %q, want Support", got.Name)
		}
		lines, err := f.store.ListByPortal(ctx, f.portalID)
		if err != nil {
			t.Fatal(err)
		}
		if len(lines) != 1 {
			t.Errorf("ListByPortal returned %d lines, want 1", len(lines))
		}
	})
}

func TestLineStoreMissingLine(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		f := newStoreFixture(t, db)
		if _, err := f.store.Get(ctx, 404); !errors.Is(err, ErrLineNotFound) {
			t.Errorf("Get of a missing line: %v, want ErrLineNotFound", err)
		}
		if _, err := f.store.ByPortalLine(ctx, f.portalID, "404"); !errors.Is(err, ErrLineNotFound) {
			t.Errorf("ByPortalLine of a missing line: %v, want ErrLineNotFound", err)
		}
		if _, err := f.store.ByJID(ctx, "1@s.whatsapp.net"); !errors.Is(err, ErrLineNotFound) {
			t.Errorf("ByJID of an unknown device: %v, want ErrLineNotFound", err)
		}
	})
}

func TestLineStoreStateSinceMovesOnChange(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		f := newStoreFixture(t, db)
		line, err := f.store.Ensure(ctx, f.portalID, "1", testConnector, "")
		if err != nil {
			t.Fatal(err)
		}

		f.now = testStart.Add(time.Minute)
		if err := f.store.SetState(ctx, line.ID, StateConnected, "", nil); err != nil {
			t.Fatal(err)
		}
		f.now = testStart.Add(2 * time.Minute)
		if err := f.store.SetState(ctx, line.ID, StateConnected, "again", nil); err != nil {
			t.Fatal(err)
		}
		got, _ := f.store.Get(ctx, line.ID)
		if !got.StateSince.Equal(testStart.Add(time.Minute)) {
			t.Errorf("state_since after the same state = %v, want %v", got.StateSince, testStart.Add(time.Minute))
		}
		if got.StateReason != "again" {
			t.Errorf("state_reason = %q, want again", got.StateReason)
		}

		until := testStart.Add(time.Hour)
		f.now = testStart.Add(3 * time.Minute)
		if err := f.store.SetState(ctx, line.ID, StateTemporaryBan, "temp_ban_101", &until); err != nil {
			t.Fatal(err)
		}
		got, _ = f.store.Get(ctx, line.ID)
		if !got.StateSince.Equal(f.now) {
			t.Errorf("state_since after a change = %v, want %v", got.StateSince, f.now)
		}
		if got.StateUntil == nil || !got.StateUntil.Equal(until) {
			t.Errorf("state_until = %v, want %v", got.StateUntil, until)
		}
	})
}

func TestLineStoreLinkedLookups(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		f := newStoreFixture(t, db)
		a, _ := f.store.Ensure(ctx, f.portalID, "1", testConnector, "")
		b, _ := f.store.Ensure(ctx, f.portalID, "2", testConnector, "")

		if err := f.store.SetLinked(ctx, a.ID, "79001112233:5@s.whatsapp.net", "79001112233", "Shop"); err != nil {
			t.Fatal(err)
		}
		linked, err := f.store.ListLinked(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(linked) != 1 || linked[0].ID != a.ID {
			t.Fatalf("ListLinked = %v, want only line %d", linked, a.ID)
		}
		byJID, err := f.store.ByJID(ctx, "79001112233:5@s.whatsapp.net")
		if err != nil || byJID.ID != a.ID {
			t.Errorf("ByJID = %v, %v; want line %d", byJID, err, a.ID)
		}
		others, _ := f.store.LinkedByPhone(ctx, "79001112233", b.ID)
		if len(others) != 1 {
			t.Errorf("LinkedByPhone from another line found %d lines, want 1", len(others))
		}
		self, _ := f.store.LinkedByPhone(ctx, "79001112233", a.ID)
		if len(self) != 0 {
			t.Errorf("LinkedByPhone excluding the line itself found %d lines, want 0", len(self))
		}

		if err := f.store.ClearLinked(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		got, _ := f.store.Get(ctx, a.ID)
		if got.WaJID != "" || got.Phone != "79001112233" {
			t.Errorf("after ClearLinked wa_jid = %q phone = %q, want empty and the number kept", got.WaJID, got.Phone)
		}
		others, _ = f.store.LinkedByPhone(ctx, "79001112233", b.ID)
		if len(others) != 0 {
			t.Errorf("LinkedByPhone after logout found %d lines, want 0", len(others))
		}
	})
}

func TestLineStoreDeviceSessions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		f := newStoreFixture(t, db)
		line, _ := f.store.Ensure(ctx, f.portalID, "1", testConnector, "")

		first := &DeviceSession{LineID: line.ID, WaJID: "7900:1@s.whatsapp.net", Phone: "7900", LinkedVia: LinkedViaQR, LinkedAt: testStart}
		if err := f.store.AddDeviceSession(ctx, first); err != nil {
			t.Fatal(err)
		}
		if err := f.store.CloseDeviceSession(ctx, line.ID, ReasonRelinked, testStart.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		second := &DeviceSession{LineID: line.ID, WaJID: "7900:2@s.whatsapp.net", Phone: "7900", LinkedVia: LinkedViaScanLink, LinkedAt: testStart.Add(time.Hour)}
		if err := f.store.AddDeviceSession(ctx, second); err != nil {
			t.Fatal(err)
		}

		rows, err := f.store.DeviceSessions(ctx, line.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 2 || rows[0].ID != second.ID {
			t.Fatalf("DeviceSessions = %+v, want two rows, newest first", rows)
		}
		if rows[0].LoggedOutAt != nil {
			t.Errorf("newest session is closed at %v, want open", rows[0].LoggedOutAt)
		}
		if rows[1].LoggedOutAt == nil || rows[1].LogoutReason != ReasonRelinked {
			t.Errorf("first session = closed %v reason %q, want closed with %q", rows[1].LoggedOutAt, rows[1].LogoutReason, ReasonRelinked)
		}
	})
}

func TestLineStorePhoneSeenNeverMovesBack(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		f := newStoreFixture(t, db)
		line, _ := f.store.Ensure(ctx, f.portalID, "1", testConnector, "")

		later := testStart.Add(time.Hour)
		if err := f.store.TouchPhoneSeen(ctx, line.ID, later); err != nil {
			t.Fatal(err)
		}
		if err := f.store.TouchPhoneSeen(ctx, line.ID, testStart); err != nil {
			t.Fatal(err)
		}
		got, _ := f.store.Get(ctx, line.ID)
		if got.PhoneSeenAt == nil || !got.PhoneSeenAt.Equal(later) {
			t.Errorf("phone_seen_at = %v, want %v", got.PhoneSeenAt, later)
		}
	})
}

func TestLineStoreDeleteByPortalCascades(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		f := newStoreFixture(t, db)
		line, _ := f.store.Ensure(ctx, f.portalID, "1", testConnector, "")
		row := &DeviceSession{LineID: line.ID, WaJID: "7900:1@s.whatsapp.net", LinkedAt: testStart}
		if err := f.store.AddDeviceSession(ctx, row); err != nil {
			t.Fatal(err)
		}

		if err := f.store.DeleteByPortal(ctx, f.portalID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.store.Get(ctx, line.ID); !errors.Is(err, ErrLineNotFound) {
			t.Errorf("Get after DeleteByPortal: %v, want ErrLineNotFound", err)
		}
		var left int64
		db.Model(&DeviceSession{}).Where("line_id = ?", line.ID).Count(&left)
		if left != 0 {
			t.Errorf("%d device sessions left after the line was deleted, want 0", left)
		}
	})
}
