package b24fake

import (
	"net/http"
	"strings"
	"time"
)

// bucket is the portal's leaky bucket: every request adds one, the level
// drains at perSec, and a request that would lift the level above burst is
// rejected with QUERY_LIMIT_EXCEEDED without being counted.
type bucket struct {
	level  float64
	last   time.Time
	burst  float64
	perSec float64
}

func (b *bucket) admit(now time.Time) bool {
	if !b.last.IsZero() {
		b.level = max(0, b.level-now.Sub(b.last).Seconds()*b.perSec)
	}
	b.last = now
	if b.level+1 > b.burst+1e-9 {
		return false
	}
	b.level++
	return true
}

// injection is a failure planned for the next calls of a method.
type injection struct {
	method      string // lower case, "*" for any
	remaining   int
	status      int
	code        string
	description string
	resetAfter  time.Duration // OPERATION_TIME_LIMIT: operating_reset_at = now + resetAfter
	delay       time.Duration // after execution: answer this late
	drop        bool          // after execution: close the connection without an answer
}

func takeInjection(list *[]*injection, method string) *injection {
	for i, inj := range *list {
		if inj.method != "*" && inj.method != method {
			continue
		}
		inj.remaining--
		if inj.remaining <= 0 {
			*list = append((*list)[:i:i], (*list)[i+1:]...)
		}
		return inj
	}
	return nil
}

// OnError makes the next times calls of method ("*" for any) fail before
// they run with httpStatus and a {"error","error_description"} body. An empty
// code sends a plain-text body, like a proxy in front of the portal.
func (p *Portal) OnError(method string, times, httpStatus int, code, description string) {
	p.addInjection(&injection{method: lower(method), remaining: times, status: httpStatus, code: code, description: description})
}

// OnOperationTimeLimit makes the next times calls of method fail with 429
// OPERATION_TIME_LIMIT and a time block whose operating_reset_at is
// resetAfter from now.
func (p *Portal) OnOperationTimeLimit(method string, times int, resetAfter time.Duration) {
	p.addInjection(&injection{
		method: lower(method), remaining: times, status: http.StatusTooManyRequests,
		code: "OPERATION_TIME_LIMIT", description: "Method is blocked due to operation time limit.", resetAfter: resetAfter,
	})
}

// OnDelay makes the next times calls of method run normally and answer
// after delay, so a client with a shorter timeout sees an ambiguous failure
// of a call that took effect.
func (p *Portal) OnDelay(method string, times int, delay time.Duration) {
	p.addInjection(&injection{method: lower(method), remaining: times, delay: delay})
}

// OnDrop makes the next times calls of method run normally and then close
// the connection without an answer.
func (p *Portal) OnDrop(method string, times int) {
	p.addInjection(&injection{method: lower(method), remaining: times, drop: true})
}

func (p *Portal) addInjection(inj *injection) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state.injections = append(p.state.injections, inj)
}

// takeBefore returns the injected failure for a call about to run.
func (p *Portal) takeBefore(method string) *injection {
	p.mu.Lock()
	defer p.mu.Unlock()
	var before []*injection
	var rest []*injection
	for _, inj := range p.state.injections {
		if inj.delay == 0 && !inj.drop {
			before = append(before, inj)
		} else {
			rest = append(rest, inj)
		}
	}
	inj := takeInjection(&before, method)
	p.state.injections = append(before, rest...)
	return inj
}

// takeAfter returns the injected delay or drop for a call that ran.
func (p *Portal) takeAfter(method string) *injection {
	p.mu.Lock()
	defer p.mu.Unlock()
	var after []*injection
	var rest []*injection
	for _, inj := range p.state.injections {
		if inj.delay != 0 || inj.drop {
			after = append(after, inj)
		} else {
			rest = append(rest, inj)
		}
	}
	inj := takeInjection(&after, method)
	p.state.injections = append(rest, after...)
	return inj
}

// admit applies the leaky bucket to one request.
func (p *Portal) admit() bool {
	p.bucketMu.Lock()
	defer p.bucketMu.Unlock()
	return p.bucket.admit(p.now())
}

func lower(s string) string { return strings.ToLower(s) }
