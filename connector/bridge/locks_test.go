package bridge_test

import (
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/connector"
	"github.com/wabridge/b24wa/connector/bridge"
	"github.com/wabridge/b24wa/connector/wa/simulator"
)

// A process killed mid-send leaves its deliveries locked until LockTTL. The
// next run under the same InstanceID takes them back at Start, and locks of
// other instances stay.
func TestStartReleasesOwnStaleLocks(t *testing.T) {
	each(t, func(t *testing.T, db *gorm.DB) {
		e := newEnv(t, db, envOptions{tune: func(o *bridge.Options) {
			o.InstanceID, o.LockTTL = "node-a", time.Hour
		}})
		e.inbound(t, simulator.InboundMessage{From: customer, Text: "left by a dead run"})
		e.inbound(t, simulator.InboundMessage{From: "79110000009", Text: "held by another instance"})
		ds := e.deliveries(t, "in")
		if len(ds) != 2 {
			t.Fatalf("stored %d deliveries, want 2", len(ds))
		}
		until := time.Now().Add(time.Hour).UTC()
		lock := func(d connector.Delivery, by string) {
			err := db.Model(&connector.Delivery{}).Where("id = ?", d.ID).Updates(map[string]any{
				"state": connector.DeliveryInFlight, "locked_by": by, "locked_until": until}).Error
			if err != nil {
				t.Fatal(err)
			}
		}
		lock(ds[0], "node-a/0a1b2c3d4e5f")
		lock(ds[1], "node-b/0a1b2c3d4e5f")

		e.start(t)
		got := e.received(t, 1)
		if got[0].Message["text"] != "left by a dead run" {
			t.Errorf("the portal got %q, want the message the dead run left locked", got[0].Message["text"])
		}
		time.Sleep(300 * time.Millisecond)
		if n := len(e.fake.ReceivedMessages()); n != 1 {
			t.Errorf("the portal got %d messages, want 1: another instance's lock must hold", n)
		}
		var other connector.Delivery
		if err := db.Where("id = ?", ds[1].ID).Take(&other).Error; err != nil {
			t.Fatal(err)
		}
		if other.State != connector.DeliveryInFlight || other.LockedBy != "node-b/0a1b2c3d4e5f" {
			t.Errorf("another instance's delivery is %s locked by %q, want it untouched", other.State, other.LockedBy)
		}
	})
}
