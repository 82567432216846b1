package simulator

import (
	"sort"
	"sync"
	"time"
)

// Clock is the simulator's source of time: QR rotation, reconnect delays,
// ban expiry and message timestamps all read it, so tests can replace
// minutes of waiting with FakeClock.Advance.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine (or, for FakeClock, in the
	// goroutine that advances the clock) once d has passed.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending AfterFunc call.
type Timer interface {
	// Stop prevents the call and reports whether it was still pending.
	Stop() bool
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

// FakeClock is a Clock that moves only when Advance is called. It is safe for
// concurrent use.
type FakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
	seq    int
}

type fakeTimer struct {
	clock *FakeClock
	when  time.Time
	seq   int
	f     func()
}

// NewFakeClock returns a FakeClock reading start.
func NewFakeClock(start time.Time) *FakeClock {
	return &FakeClock{now: start}
}

// Now returns the clock's current time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc schedules f to run during the Advance that reaches d from now.
func (c *FakeClock) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	t := &fakeTimer{clock: c, when: c.now.Add(d), seq: c.seq, f: f}
	c.timers = append(c.timers, t)
	return t
}

// Advance moves the clock forward by d and runs every timer that falls due,
// in time order, in the calling goroutine. Timers scheduled by those calls
// run too when they fall within d.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	target := c.now.Add(d)
	c.mu.Unlock()

	for {
		c.mu.Lock()
		next := c.popDue(target)
		if next == nil {
			c.now = target
			c.mu.Unlock()
			return
		}
		c.now = next.when
		c.mu.Unlock()
		next.f()
	}
}

// Pending returns the number of scheduled timers, for tests that check that
// nothing is left running.
func (c *FakeClock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// popDue removes and returns the earliest timer due at or before target.
// The caller holds c.mu.
func (c *FakeClock) popDue(target time.Time) *fakeTimer {
	if len(c.timers) == 0 {
		return nil
	}
	sort.Slice(c.timers, func(i, j int) bool {
		if c.timers[i].when.Equal(c.timers[j].when) {
			return c.timers[i].seq < c.timers[j].seq
		}
		return c.timers[i].when.Before(c.timers[j].when)
	})
	first := c.timers[0]
	if first.when.After(target) {
		return nil
	}
	c.timers = c.timers[1:]
	return first
}

func (t *fakeTimer) Stop() bool {
	c := t.clock
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, other := range c.timers {
		if other == t {
			c.timers = append(c.timers[:i], c.timers[i+1:]...)
			return true
		}
	}
	return false
}
