package handlers

import (
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// RateLimit is a token bucket: Burst requests at once, then PerSecond.
type RateLimit struct {
	PerSecond float64
	Burst     int
}

// Default limits of the public scan link routes. An open page polls its
// status every 2.5 s and fetches a QR image about every 20 s, about 0.45
// requests per second, so two open tabs stay well under either limit.
var (
	DefaultScanLinkClientLimit = RateLimit{PerSecond: 1, Burst: 20}
	DefaultScanLinkLinkLimit   = RateLimit{PerSecond: 2, Burst: 30}
)

// keyedLimiter keeps one token bucket per key (a client address or a link)
// in a map bounded to maxKeys. Buckets idle for longer than idle are
// dropped first; when the map is still full the oldest-used buckets go,
// which at worst gives an evicted client a fresh bucket.
type keyedLimiter struct {
	mu      sync.Mutex
	limit   RateLimit
	maxKeys int
	idle    time.Duration
	now     func() time.Time
	buckets map[string]*bucket
}

type bucket struct {
	limiter *rate.Limiter
	seen    time.Time
}

func newKeyedLimiter(limit RateLimit, maxKeys int, now func() time.Time) *keyedLimiter {
	// A bucket that has been idle for the time it takes to refill is the same
	// as a new one, so it can be dropped without changing any decision.
	idle := time.Duration(float64(limit.Burst)/limit.PerSecond*float64(time.Second)) + time.Second
	return &keyedLimiter{limit: limit, maxKeys: maxKeys, idle: idle, now: now, buckets: map[string]*bucket{}}
}

// allow takes one token from key's bucket. When it is empty it returns false
// and how long until the next token.
func (k *keyedLimiter) allow(key string) (bool, time.Duration) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.now()
	b, ok := k.buckets[key]
	if !ok {
		if len(k.buckets) >= k.maxKeys {
			k.evict(now)
		}
		b = &bucket{limiter: rate.NewLimiter(rate.Limit(k.limit.PerSecond), k.limit.Burst)}
		k.buckets[key] = b
	}
	b.seen = now
	r := b.limiter.ReserveN(now, 1)
	if delay := r.DelayFrom(now); delay > 0 {
		r.CancelAt(now)
		return false, delay
	}
	return true, 0
}

// evict drops idle buckets and, if none were idle, the oldest tenth.
func (k *keyedLimiter) evict(now time.Time) {
	for key, b := range k.buckets {
		if now.Sub(b.seen) > k.idle {
			delete(k.buckets, key)
		}
	}
	if len(k.buckets) < k.maxKeys {
		return
	}
	type entry struct {
		key  string
		seen time.Time
	}
	entries := make([]entry, 0, len(k.buckets))
	for key, b := range k.buckets {
		entries = append(entries, entry{key, b.seen})
	}
	slices.SortFunc(entries, func(a, b entry) int { return a.seen.Compare(b.seen) })
	for _, e := range entries[:max(1, k.maxKeys/10)] {
		delete(k.buckets, e.key)
	}
}

// size returns the number of buckets kept, for tests.
func (k *keyedLimiter) size() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.buckets)
}
