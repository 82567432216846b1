package wastore

import (
	"context"
	"errors"
	"testing"
	"time"

	"gorm.io/gorm"

	"go.mau.fi/whatsmeow/types"

	"github.com/wabridge/b24wa/internal/dbtest"
)

// TestLIDLookupInsideDecryptionTxn checks that a LID lookup inside a
// decryption transaction does not wait for another goroutine's LID write,
// which itself waits for the database connection the transaction holds (the
// only one, on SQLite).
func TestLIDLookupInsideDecryptionTxn(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		c := newTestContainer(t, db)
		device := pairedDevice(t, c, "79990000071", 1)
		must(t, device.Save(ctx))
		lid := types.NewJID("200000000000071", types.HiddenUserServer)
		pn := types.NewJID("79110000071", types.DefaultUserServer)

		writerDone := make(chan error, 1)
		txnDone := make(chan error, 1)
		go func() {
			txnDone <- device.EventBuffer.DoDecryptionTxn(ctx, func(ctx context.Context) error {
				go func() { writerDone <- c.LIDs().PutLIDMapping(context.Background(), lid, pn) }()
				time.Sleep(50 * time.Millisecond)
				_, err := device.LIDs.GetLIDForPN(ctx, types.NewJID("79110000072", types.DefaultUserServer))
				return err
			})
		}()
		for _, done := range []chan error{txnDone, writerDone} {
			select {
			case err := <-done:
				must(t, err)
			case <-time.After(20 * time.Second):
				t.Fatal("LID lookup and write deadlocked")
			}
		}
		got, err := c.LIDs().GetLIDForPN(ctx, pn)
		must(t, err)
		if got != lid {
			t.Errorf("GetLIDForPN = %s, want %s", got, lid)
		}
	})
}

// TestLIDCacheSeesRemap checks that remapping a LID updates both directions
// of the cache for the users that lost their mapping.
func TestLIDCacheSeesRemap(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		lids := newTestContainer(t, db).LIDs()
		lid := types.NewJID("200000000000073", types.HiddenUserServer)
		oldPN := types.NewJID("79110000073", types.DefaultUserServer)
		newPN := types.NewJID("79110000074", types.DefaultUserServer)
		must(t, lids.PutLIDMapping(ctx, lid, oldPN))
		if got, err := lids.GetLIDForPN(ctx, oldPN); err != nil || got != lid {
			t.Fatalf("GetLIDForPN(old) = %s, %v", got, err)
		}
		must(t, lids.PutLIDMapping(ctx, lid, newPN))
		if got, err := lids.GetLIDForPN(ctx, oldPN); err != nil || !got.IsEmpty() {
			t.Errorf("GetLIDForPN(old) after remap = %s, %v, want empty", got, err)
		}
		// Writing the first mapping again must reach the database.
		must(t, lids.PutLIDMapping(ctx, lid, oldPN))
		var pn string
		must(t, db.Raw("SELECT pn FROM wa_lid_map WHERE lid = ?", lid.User).Row().Scan(&pn))
		if pn != oldPN.User {
			t.Errorf("stored phone number = %s, want %s", pn, oldPN.User)
		}
	})
}

func TestLIDStoreRejectsWrongServers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		lids := newTestContainer(t, db).LIDs()
		lid := types.NewJID("200000000000075", types.HiddenUserServer)
		pn := types.NewJID("79110000075", types.DefaultUserServer)
		if err := lids.PutLIDMapping(ctx, pn, lid); !errors.Is(err, ErrInvalidJID) {
			t.Errorf("PutLIDMapping(pn, lid): got %v, want ErrInvalidJID", err)
		}
		if _, err := lids.GetLIDForPN(ctx, lid); !errors.Is(err, ErrInvalidJID) {
			t.Errorf("GetLIDForPN(lid): got %v, want ErrInvalidJID", err)
		}
		if _, err := lids.GetPNForLID(ctx, pn); !errors.Is(err, ErrInvalidJID) {
			t.Errorf("GetPNForLID(pn): got %v, want ErrInvalidJID", err)
		}
	})
}
