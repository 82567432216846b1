package connector

import (
	"context"
	"errors"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/internal/dbtest"
)

func TestLeaseStoreOwnership(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		f := newStoreFixture(t, db)
		line, _ := f.store.Ensure(ctx, f.portalID, "1", testConnector, "")
		leases := leaseStore{db: db}
		ttl := time.Minute

		steps := []struct {
			name  string
			owner string
			at    time.Time
			want  bool
		}{
			{"free lease is taken", "a", testStart, true},
			{"owner renews", "a", testStart.Add(30 * time.Second), true},
			{"owner renews at the same instant", "a", testStart.Add(30 * time.Second), true},
			{"live lease is refused", "b", testStart.Add(time.Minute), false},
			{"expired lease is taken over", "b", testStart.Add(2 * time.Minute), true},
			{"former owner is refused", "a", testStart.Add(2 * time.Minute), false},
		}
		for _, s := range steps {
			got, err := leases.acquire(ctx, line.ID, s.owner, s.at, s.at.Add(ttl))
			if err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			if got != s.want {
				t.Errorf("%s: acquire by %s = %v, want %v", s.name, s.owner, got, s.want)
			}
		}

		ok, err := leases.renew(ctx, line.ID, "a", testStart.Add(time.Hour))
		if err != nil || ok {
			t.Errorf("renew by the former owner = %v, %v; want false", ok, err)
		}
		if err := leases.release(ctx, line.ID, "a"); err != nil {
			t.Fatal(err)
		}
		lease, _ := leases.get(ctx, line.ID)
		if lease == nil || lease.Owner != "b" {
			t.Errorf("release by a non-owner changed the lease to %+v, want owner b", lease)
		}
		if err := leases.release(ctx, line.ID, "b"); err != nil {
			t.Fatal(err)
		}
		if lease, _ := leases.get(ctx, line.ID); lease != nil {
			t.Errorf("lease after release by its owner = %+v, want none", lease)
		}
	})
}

func TestLeaseStoreMissingLine(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		_, err := leaseStore{db: db}.acquire(context.Background(), 404, "a", testStart, testStart.Add(time.Minute))
		if !errors.Is(err, ErrLineNotFound) {
			t.Errorf("acquire for a missing line: %v, want ErrLineNotFound", err)
		}
	})
}
