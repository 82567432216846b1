package portal

import (
	"context"
	"strings"
	"sync"

	"golang.org/x/time/rate"
)

// limiterSet contains one token bucket per portal host, created on first use.
// Bitrix24 counts requests per portal in a leaky bucket of size X drained at
// Y per second. A token bucket of burst X refilled at Y admits exactly the
// same sequences. Buckets are keyed by host rather than portal id so that
// CallAs (tokens that are not stored) shares the bucket of the same portal.
//
// Requests reach the portal slightly later and in a slightly different order
// than they leave the limiter, so the limiter keeps a margin: one slot of the
// bucket stays in reserve, which absorbs 1/Y seconds of that jitter at once,
// and it refills at 95% of Y, so under sustained load the portal's bucket
// drains a little faster than the client fills it.
// refillShare is the share of the portal's drain rate the limiter refills at.
const refillShare = 0.95

type limiterSet struct {
	mu       sync.Mutex
	burst    int
	perSec   float64
	limiters map[string]*rate.Limiter
}

func newLimiterSet(burst int, perSec float64) *limiterSet {
	return &limiterSet{burst: burst, perSec: perSec, limiters: make(map[string]*rate.Limiter)}
}

func (s *limiterSet) get(host string) *rate.Limiter {
	key := strings.ToLower(host)
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.limiters[key]
	if !ok {
		burst := max(1, s.burst-1)
		l = rate.NewLimiter(rate.Limit(s.perSec*refillShare), burst)
		s.limiters[key] = l
	}
	return l
}

// wait blocks until host's bucket admits one request or ctx ends.
func (s *limiterSet) wait(ctx context.Context, host string) error {
	return s.get(host).Wait(ctx)
}
