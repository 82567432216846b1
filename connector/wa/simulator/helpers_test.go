package simulator

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/wabridge/b24wa/connector/wa"
)

// eventWait bounds how long a test waits for an event delivered by a
// goroutine; events normally arrive within microseconds.
const eventWait = 5 * time.Second

var testStart = time.Date(2025, 12, 1, 10, 0, 0, 0, time.UTC)

// recorder is an EventHandler that keeps every event and can fail on demand.
type recorder struct {
	mu     sync.Mutex
	events []any
	fail   func(evt any) error
	ch     chan any
}

func newRecorder() *recorder {
	return &recorder{ch: make(chan any, 1024)}
}

func (r *recorder) handle(evt any) error {
	r.mu.Lock()
	r.events = append(r.events, evt)
	fail := r.fail
	r.mu.Unlock()
	r.ch <- evt
	if fail != nil {
		return fail(evt)
	}
	return nil
}

func (r *recorder) setFail(fail func(evt any) error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail = fail
}

// next returns the next event of type T, skipping others.
func next[T any](t *testing.T, r *recorder) T {
	t.Helper()
	timeout := time.After(eventWait)
	for {
		select {
		case evt := <-r.ch:
			if v, ok := evt.(T); ok {
				return v
			}
		case <-timeout:
			var zero T
			t.Fatalf("no %T event within %s", zero, eventWait)
			return zero
		}
	}
}

// nextMessage returns the next *events.Message.
func nextMessage(t *testing.T, r *recorder) *events.Message {
	t.Helper()
	return next[*events.Message](t, r)
}

// none checks that no event of type T is pending.
func none[T any](t *testing.T, r *recorder) {
	t.Helper()
	for {
		select {
		case evt := <-r.ch:
			if _, ok := evt.(T); ok {
				t.Fatalf("unexpected %T event: %+v", evt, evt)
			}
		default:
			return
		}
	}
}

type fixture struct {
	sim   *Simulator
	clock *FakeClock
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	clock := NewFakeClock(testStart)
	sim := New(Options{Clock: clock})
	t.Cleanup(func() { _ = sim.Close() })
	return &fixture{sim: sim, clock: clock}
}

// linked returns a connected session of a device linked with phone.
func (f *fixture) linked(t *testing.T, phone string) (wa.Session, *recorder) {
	t.Helper()
	jid, err := f.sim.LinkDevice(phone, "Shop")
	if err != nil {
		t.Fatalf("link device: %v", err)
	}
	rec := newRecorder()
	sess, err := f.sim.Open(context.Background(), jid, rec.handle, wa.OpenOptions{})
	if err != nil {
		t.Fatalf("open %s: %v", jid, err)
	}
	if err := sess.Connect(context.Background()); err != nil {
		t.Fatalf("connect %s: %v", jid, err)
	}
	next[*events.Connected](t, rec)
	return sess, rec
}

// pairing opens an unpaired session and starts QR pairing.
func (f *fixture) pairing(t *testing.T, opts wa.OpenOptions) (wa.Session, *recorder, <-chan wa.PairItem) {
	t.Helper()
	rec := newRecorder()
	sess, err := f.sim.Open(context.Background(), types.EmptyJID, rec.handle, opts)
	if err != nil {
		t.Fatalf("open unpaired: %v", err)
	}
	items, err := sess.PairQR(context.Background())
	if err != nil {
		t.Fatalf("pair QR: %v", err)
	}
	return sess, rec, items
}

func nextItem(t *testing.T, items <-chan wa.PairItem) wa.PairItem {
	t.Helper()
	select {
	case item, ok := <-items:
		if !ok {
			t.Fatal("pairing channel closed early")
		}
		return item
	case <-time.After(eventWait):
		t.Fatalf("no pairing item within %s", eventWait)
		return wa.PairItem{}
	}
}

func requireClosed(t *testing.T, items <-chan wa.PairItem) {
	t.Helper()
	select {
	case item, ok := <-items:
		if ok {
			t.Fatalf("pairing channel still open, got %+v", item)
		}
	case <-time.After(eventWait):
		t.Fatal("pairing channel not closed")
	}
}

var errNotStored = errors.New("database unavailable")

func contextWithCancel(t *testing.T) (context.Context, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	return ctx, cancel
}

func sendOpts(id types.MessageID) wa.SendOptions { return wa.SendOptions{ID: id} }
