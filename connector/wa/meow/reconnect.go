package meow

import (
	"math/rand/v2"
	"time"
)

// reconnectHook replaces whatsmeow's reconnect delay, which grows by 2 s per
// failure without a bound (AutoReconnectErrors*2s in client.go, 2025-12),
// with a capped, jittered exponential one. whatsmeow calls it from its
// reconnect loop after each failed attempt; the first attempt after a drop
// is immediate. It returns false, ending the loop, once Disconnect or Logout
// was called.
func (s *Session) reconnectHook(err error) bool {
	s.mu.Lock()
	attempt := s.reconnectFailures
	s.reconnectFailures++
	s.mu.Unlock()

	opts := s.backend.opts
	delay := backoff(attempt, opts.ReconnectBase, opts.ReconnectMax, rand.Float64())
	s.log.Warn("Reconnect to WhatsApp failed; retrying", "attempt", attempt+1, "delay", delay, "error", err)

	// whatsmeow waits AutoReconnectErrors*2s before the next attempt; zero
	// makes that wait empty so ours is the only one. The hook runs on the
	// goroutine of that loop, so the write does not race with its reads.
	s.client.AutoReconnectErrors = 0

	timer := time.NewTimer(delay)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-s.stopChan():
		return false
	case <-s.backend.ctx.Done():
		return false
	}
}

// backoff returns the delay before the 0-based reconnect attempt: base
// doubled per attempt and capped at max. random, in [0, 1), takes up to
// half of that delay off.
func backoff(attempt int, base, max time.Duration, random float64) time.Duration {
	delay := max
	if attempt < 32 {
		if d := base << attempt; d > 0 && d < max {
			delay = d
		}
	}
	return delay - time.Duration(random*float64(delay/2))
}
