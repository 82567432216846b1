package portal_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/internal/dbtest"
	"github.com/wabridge/b24wa/portal"
	"github.com/wabridge/b24wa/portal/b24fake"
)

func TestQueryLimitBacksOffAndRetries(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		e := newEnv(t, db, b24fake.Options{}, nil)
		e.fake.OnError("app.info", 2, http.StatusServiceUnavailable, portal.CodeQueryLimitExceeded, "Too many requests")

		if err := e.client.Call(context.Background(), e.portal.ID, "app.info", nil, nil); err != nil {
			t.Fatal(err)
		}
		calls := e.fake.CallsTo("app.info")
		if len(calls) != 3 {
			t.Fatalf("app.info sent %d times, want 3", len(calls))
		}
		if calls[0].Error != portal.CodeQueryLimitExceeded || calls[2].Status != http.StatusOK {
			t.Errorf("answers = %d %s ... %d, want 503 then 200", calls[0].Status, calls[0].Error, calls[2].Status)
		}
	})
}

func TestQueryLimitGivesUpAfterMaxRetries(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		e := newEnv(t, db, b24fake.Options{}, func(o *portal.ClientOptions) { o.MaxRetries = 2 })
		e.fake.OnError("app.info", 10, http.StatusServiceUnavailable, portal.CodeQueryLimitExceeded, "Too many requests")

		err := e.client.Call(context.Background(), e.portal.ID, "app.info", nil, nil)
		if !portal.IsCode(err, portal.CodeQueryLimitExceeded) {
			t.Fatalf("error = %v, want QUERY_LIMIT_EXCEEDED", err)
		}
		if n := len(e.fake.CallsTo("app.info")); n != 3 {
			t.Errorf("app.info sent %d times, want 3 (one try and two retries)", n)
		}
	})
}

// The client's limiter and the fake's leaky bucket use the same parameters,
// so a burst of calls must never overflow the bucket.
func TestLimiterNeverOverflowsBucket(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		fopts := b24fake.Options{RateBurst: 5, RatePerSec: 50}
		e := newEnv(t, db, fopts, func(o *portal.ClientOptions) {
			o.RateBurst, o.RatePerSec = fopts.RateBurst, fopts.RatePerSec
			o.MaxRetries = 1
		})
		var wg sync.WaitGroup
		for range 120 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := e.client.Call(context.Background(), e.portal.ID, "user.admin", nil, nil); err != nil {
					t.Errorf("call failed: %v", err)
				}
			}()
		}
		wg.Wait()
		rejected := 0
		for _, c := range e.fake.Calls() {
			if c.Error == portal.CodeQueryLimitExceeded {
				rejected++
			}
		}
		if rejected != 0 {
			t.Errorf("%d of %d requests got QUERY_LIMIT_EXCEEDED", rejected, len(e.fake.Calls()))
		}
		if n := len(e.fake.CallsTo("user.admin")); n != 120 {
			t.Errorf("fake saw %d calls, want 120", n)
		}
	})
}

func TestOperationTimeLimitWaitsForReset(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		e := newEnv(t, db, b24fake.Options{}, nil)
		e.fake.OnOperationTimeLimit("imconnector.status", 1, 2*time.Second)
		start := time.Now()

		err := e.client.Call(context.Background(), e.portal.ID, "imconnector.status", map[string]any{"CONNECTOR": "x"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		// operating_reset_at is whole seconds, so now+2s truncates to at least now+1s.
		if elapsed := time.Since(start); elapsed < time.Second {
			t.Errorf("retried after %v, before operating_reset_at", elapsed)
		}
		if n := len(e.fake.CallsTo("imconnector.status")); n != 2 {
			t.Errorf("imconnector.status sent %d times, want 2", n)
		}
	})
}

func TestOperationTimeLimitTooFarFails(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		e := newEnv(t, db, b24fake.Options{}, nil)
		e.fake.OnOperationTimeLimit("imconnector.status", 1, time.Hour)

		err := e.client.Call(context.Background(), e.portal.ID, "imconnector.status", nil, nil)
		if !portal.IsCode(err, portal.CodeOperationTimeLimit) {
			t.Fatalf("error = %v, want OPERATION_TIME_LIMIT", err)
		}
		if n := len(e.fake.CallsTo("imconnector.status")); n != 1 {
			t.Errorf("imconnector.status sent %d times, want 1", n)
		}
	})
}

func TestOverloadPausesPortal(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		e := newEnv(t, db, b24fake.Options{}, nil)
		e.fake.OnError("app.info", 1, http.StatusServiceUnavailable, portal.CodeOverloadLimit, "Portal is overloaded")
		ctx := context.Background()

		err := e.client.Call(ctx, e.portal.ID, "app.info", nil, nil)
		if !errors.Is(err, portal.ErrOverloaded) || !portal.IsCode(err, portal.CodeOverloadLimit) {
			t.Fatalf("error = %v, want ErrOverloaded wrapping OVERLOAD_LIMIT", err)
		}
		if p := e.reload(t); p.AttentionReason != portal.AttentionOverload {
			t.Errorf("attention reason = %q, want overload", p.AttentionReason)
		}
		err = e.client.Call(ctx, e.portal.ID, "user.admin", nil, nil)
		if !errors.Is(err, portal.ErrOverloaded) {
			t.Errorf("call during cool-down: %v, want ErrOverloaded", err)
		}
		if n := len(e.fake.CallsTo("user.admin")); n != 0 {
			t.Errorf("%d requests sent during the cool-down", n)
		}
	})
}
