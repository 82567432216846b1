package wastore

import (
	"context"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/internal/dbtest"
)

// TestDeleteOldBufferedHashes ages rows directly and expects the ones past
// 14 days to go, on every device, as in sqlstore.
func TestDeleteOldBufferedHashes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		c := newTestContainer(t, db)
		a := pairedDevice(t, c, "79990000061", 1)
		b := pairedDevice(t, c, "79990000062", 1)
		must(t, a.Save(ctx))
		must(t, b.Save(ctx))
		oldA, recentA, oldB := [32]byte{1}, [32]byte{2}, [32]byte{3}
		must(t, a.EventBuffer.PutBufferedEvent(ctx, oldA, []byte("a1"), time.Now()))
		must(t, a.EventBuffer.PutBufferedEvent(ctx, recentA, []byte("a2"), time.Now()))
		must(t, b.EventBuffer.PutBufferedEvent(ctx, oldB, []byte("b1"), time.Now()))
		aged := time.Now().Add(-15 * 24 * time.Hour).UnixMilli()
		must(t, db.Model(&eventBufferRow{}).Where("ciphertext_hash IN ?", [][]byte{oldA[:], oldB[:]}).Update("insert_timestamp", aged).Error)

		must(t, a.EventBuffer.DeleteOldBufferedHashes(ctx))

		for _, tc := range []struct {
			name   string
			get    func() (bool, error)
			exists bool
		}{
			{"old event of a", func() (bool, error) { e, err := a.EventBuffer.GetBufferedEvent(ctx, oldA); return e != nil, err }, false},
			{"recent event of a", func() (bool, error) { e, err := a.EventBuffer.GetBufferedEvent(ctx, recentA); return e != nil, err }, true},
			{"old event of b", func() (bool, error) { e, err := b.EventBuffer.GetBufferedEvent(ctx, oldB); return e != nil, err }, false},
		} {
			exists, err := tc.get()
			must(t, err)
			if exists != tc.exists {
				t.Errorf("%s: exists = %v, want %v", tc.name, exists, tc.exists)
			}
		}
	})
}

func TestClearedEventKeepsHash(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		c := newTestContainer(t, db)
		device := pairedDevice(t, c, "79990000063", 1)
		must(t, device.Save(ctx))
		hash := [32]byte{9}
		server := time.Unix(1_700_000_123, 0)
		must(t, device.EventBuffer.PutBufferedEvent(ctx, hash, []byte("plain"), server))
		got, err := device.EventBuffer.GetBufferedEvent(ctx, hash)
		must(t, err)
		if got == nil || string(got.Plaintext) != "plain" || !got.ServerTime.Equal(server) {
			t.Fatalf("buffered event = %+v", got)
		}
		if age := time.Since(got.InsertTime); age < 0 || age > time.Minute {
			t.Errorf("insert time %s is not now", got.InsertTime)
		}
		must(t, device.EventBuffer.ClearBufferedEventPlaintext(ctx, hash))
		got, err = device.EventBuffer.GetBufferedEvent(ctx, hash)
		must(t, err)
		if got == nil || got.Plaintext != nil {
			t.Errorf("after clearing: %+v, want an event with nil plaintext", got)
		}
		if err := device.EventBuffer.PutBufferedEvent(ctx, hash, []byte("again"), server); err == nil {
			t.Error("storing the same hash twice succeeded")
		}
	})
}
