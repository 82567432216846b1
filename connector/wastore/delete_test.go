package wastore

import (
	"context"
	"testing"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/internal/dbtest"
)

func countRows(t *testing.T, db *gorm.DB, table, column, value string) int64 {
	t.Helper()
	var n int64
	if err := db.Raw("SELECT COUNT(*) FROM "+table+" WHERE "+column+" = ?", value).Scan(&n).Error; err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

func TestDeleteDeviceRemovesAllRows(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		c := newTestContainer(t, db)
		deleted := populate(t, c, "79990000021")
		remaining := populate(t, c, "79990000022")
		deletedJID, remainingJID := deleted.device.ID.String(), remaining.device.ID.String()

		for _, table := range deviceTables() {
			if n := countRows(t, db, table, "our_jid", deletedJID); n == 0 {
				t.Fatalf("populate left %s empty, so the test would prove nothing", table)
			}
		}
		if err := deleted.device.Delete(ctx); err != nil {
			t.Fatalf("Delete: %v", err)
		}

		if n := countRows(t, db, "wa_device", "jid", deletedJID); n != 0 {
			t.Errorf("wa_device still has %d rows for the deleted device", n)
		}
		for _, table := range deviceTables() {
			if n := countRows(t, db, table, "our_jid", deletedJID); n != 0 {
				t.Errorf("%s still has %d rows for the deleted device", table, n)
			}
			if n := countRows(t, db, table, "our_jid", remainingJID); n == 0 {
				t.Errorf("%s lost the rows of the other device", table)
			}
		}
		var lidRows int64
		must(t, db.Raw("SELECT COUNT(*) FROM wa_lid_map").Scan(&lidRows).Error)
		if lidRows != 2 {
			t.Errorf("wa_lid_map has %d rows after the delete, want the 2 global mappings", lidRows)
		}
		if deleted.device.ID != nil {
			t.Error("Device.Delete left the device JID set")
		}
	})
}

// TestDeleteDeviceClearsCaches checks that a store handle remaining after the
// deletion does not serve the deleted contact from its cache.
func TestDeleteDeviceClearsCaches(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		c := newTestContainer(t, db)
		v := populate(t, c, "79990000023")
		contacts := v.device.Contacts
		jid := *v.device.ID
		must(t, v.device.Delete(ctx))

		again := pairedDevice(t, c, jid.User, jid.Device)
		must(t, c.PutDevice(ctx, again))
		contact, err := contacts.GetContact(ctx, v.peer)
		must(t, err)
		if contact.Found {
			t.Errorf("old handle still returns the deleted contact %s: %+v", v.peer, contact)
		}
	})
}

func TestDeleteDeviceWithoutJID(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		c := newTestContainer(t, db)
		if err := c.DeleteDevice(context.Background(), c.NewDevice()); err != ErrDeviceJIDMissing {
			t.Errorf("DeleteDevice of an unpaired device: got %v, want ErrDeviceJIDMissing", err)
		}
	})
}
