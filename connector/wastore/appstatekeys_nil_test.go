package wastore

import (
	"context"
	"testing"

	"go.mau.fi/whatsmeow/store"
	"gorm.io/gorm"

	"github.com/wabridge/b24wa/internal/dbtest"
)

func TestAppStateSyncKeyWithoutFingerprint(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		c := newTestContainer(t, db)
		dev := pairedDevice(t, c, "79001112233", 1)
		if err := c.PutDevice(ctx, dev); err != nil {
			t.Fatal(err)
		}
		id := []byte{1, 2, 3}
		if err := dev.AppStateKeys.PutAppStateSyncKey(ctx, id, store.AppStateSyncKey{Data: []byte("key"), Timestamp: 5}); err != nil {
			t.Fatalf("put key without fingerprint: %v", err)
		}
		got, err := dev.AppStateKeys.GetAppStateSyncKey(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got == nil || string(got.Data) != "key" {
			t.Fatalf("got %+v, want the stored key", got)
		}
		if len(got.Fingerprint) != 0 {
			t.Errorf("fingerprint = %x, want empty", got.Fingerprint)
		}
	})
}
