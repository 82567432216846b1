package bench

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"gorm.io/gorm"

	"github.com/wabridge/b24wa/connector"
	"github.com/wabridge/b24wa/connector/wa"
	"github.com/wabridge/b24wa/connector/wa/simulator"
	"github.com/wabridge/b24wa/internal/secrets"
	"github.com/wabridge/b24wa/portal"
)

const (
	// bucketWidth is the width of the connect-rate histogram buckets.
	bucketWidth = 100 * time.Millisecond
	// simReconnectDelay is how long a dropped simulated session waits before
	// it reconnects by itself. whatsmeow, as connector/wa/meow configures it,
	// makes the first reconnect attempt after a drop at once.
	simReconnectDelay = time.Millisecond
)

// connectClock wraps a wa.Backend and records when a session's handler
// returns from a Connected event. The session manager records the line as
// connected inside that handler, so the times are when lines became ready.
type connectClock struct {
	wa.Backend

	mu    sync.Mutex
	times []time.Time
}

func (c *connectClock) Open(ctx context.Context, jid types.JID, h wa.EventHandler, opts wa.OpenOptions) (wa.Session, error) {
	return c.Backend.Open(ctx, jid, func(evt any) error {
		err := h(evt)
		if _, ok := evt.(*events.Connected); ok {
			c.mu.Lock()
			c.times = append(c.times, time.Now())
			c.mu.Unlock()
		}
		return err
	}, opts)
}

// since returns the times recorded after the first n.
func (c *connectClock) since(n int) []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Time(nil), c.times[n:]...)
}

func (c *connectClock) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.times)
}

// simLines is a database with n open lines of one portal, each linked to
// its own simulated business number.
type simLines struct {
	db    *gorm.DB
	sim   *simulator.Simulator
	clock *connectClock
	ids   []uint64
}

func newSimLines(b *testing.B, db *gorm.DB, n int) *simLines {
	b.Helper()
	ctx := context.Background()
	box, err := secrets.New([]byte(benchSecret))
	if err != nil {
		b.Fatal(err)
	}
	p, err := portal.NewStore(db, box).Upsert(ctx, portal.Install{
		MemberID: "bench-lines", Domain: "127.0.0.1:9", ClientEndpoint: "http://127.0.0.1:9/rest/",
	})
	if err != nil {
		b.Fatal(err)
	}

	s := &simLines{db: db, sim: simulator.New(simulator.Options{Log: quietLog(), ReconnectDelay: simReconnectDelay})}
	b.Cleanup(func() { _ = s.sim.Close() })
	s.clock = &connectClock{Backend: s.sim}
	now := time.Now().UTC()
	lines := make([]connector.Line, n)
	for i := range lines {
		phone := fmt.Sprintf("7900%07d", i)
		jid, err := s.sim.LinkDevice(phone, "Shop")
		if err != nil {
			b.Fatal(err)
		}
		lines[i] = connector.Line{
			PortalID: p.ID, LineID: fmt.Sprint(i + 1), ConnectorID: connectorID, Name: "Line",
			State: connector.StateDisconnected, StateSince: now, WaJID: jid.String(), Phone: phone,
			PushName: "Shop", B24Active: true, CreatedAt: now, UpdatedAt: now,
		}
	}
	if err := db.CreateInBatches(lines, 200).Error; err != nil {
		b.Fatal(err)
	}
	for _, l := range lines {
		s.ids = append(s.ids, l.ID)
	}
	return s
}

// newManager returns a session manager with production defaults, except
// the random delay before each connect when jitter is not zero, and no
// Bitrix24 client, because the lines are already active there.
func (s *simLines) newManager(jitter time.Duration) *connector.Manager {
	return connector.NewManager(s.db, s.clock, connector.ManagerOptions{
		Log: quietLog(), InstanceID: "bench", ConnectorID: connectorID, ReconnectJitter: jitter,
	})
}

// start starts m and waits until every line is connected. It returns the
// time each line became connected.
func (s *simLines) start(b *testing.B, m *connector.Manager) (time.Time, []time.Time) {
	b.Helper()
	mark := s.clock.count()
	started := time.Now()
	if err := m.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	waitUntil(b, "every line connected", 5*time.Minute, func() bool { return s.clock.count()-mark >= len(s.ids) })
	return started, s.clock.since(mark)
}

// checkConnected fails unless the lines table shows every line connected.
func (s *simLines) checkConnected(b *testing.B) {
	b.Helper()
	var n int64
	err := s.db.Model(&connector.Line{}).Where("id IN ? AND state = ?", s.ids, connector.StateConnected).Count(&n).Error
	if err != nil {
		b.Fatal(err)
	}
	if n != int64(len(s.ids)) {
		b.Errorf("%d of %d lines are connected in the lines table", n, len(s.ids))
	}
}

// BenchmarkManagerLines starts the session manager on 100 and 1,000
// simulator-linked lines and reports the time until every line is
// connected, then the heap and goroutines each idle connected line holds.
// It runs with the manager's default connect jitter (a random delay of up
// to 2 s before each connect, so a restart does not burst) and with 1 ms,
// which shows how fast the manager and the database connect lines.
func BenchmarkManagerLines(b *testing.B) {
	for _, n := range []int{100, 1000} {
		for _, jitter := range []time.Duration{0, time.Millisecond} {
			name := fmt.Sprintf("lines=%d/jitter=default", n)
			if jitter > 0 {
				name = fmt.Sprintf("lines=%d/jitter=%s", n, jitter)
			}
			b.Run(name, func(b *testing.B) {
				eachDB(b, func(b *testing.B, db *gorm.DB) { benchManagerLines(b, db, n, jitter) })
			})
		}
	}
}

func benchManagerLines(b *testing.B, db *gorm.DB, n int, jitter time.Duration) {
	s := newSimLines(b, db, n)
	var ready time.Duration
	var heap, goroutines float64
	var rate []int
	cond := startConditions()
	for range b.N {
		heapBefore, goroutinesBefore := settledHeap(), runtime.NumGoroutine()
		m := s.newManager(jitter)
		b.Cleanup(func() { _ = m.Close(context.Background()) })
		started, times := s.start(b, m)
		ready = times[len(times)-1].Sub(started)
		rate = perBucket(times, started, bucketWidth)

		b.StopTimer()
		s.checkConnected(b)
		settleGoroutines(goroutinesBefore + 3)
		heap = float64(settledHeap()-heapBefore) / float64(n)
		goroutines = float64(runtime.NumGoroutine()-goroutinesBefore) / float64(n)
		if err := m.Close(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	cond.stop()
	b.ReportMetric(ready.Seconds(), "ready-s")
	b.ReportMetric(heap, "heap-B/line")
	b.ReportMetric(goroutines, "goroutines/line")
	b.Logf("%d lines: ready after %.2f s, %.0f heap bytes and %.3f goroutines per line; %s; connects per %s:\n%s",
		n, ready.Seconds(), heap, goroutines, cond, bucketWidth, formatBuckets(rate, bucketWidth))
}

// BenchmarkManagerReconnect connects 500 simulator-linked lines through the
// session manager, drops every connection from the simulated server's side
// (simulator.DropAll) and reports the time until every line is connected
// again, with the reconnects per 100 ms.
func BenchmarkManagerReconnect(b *testing.B) {
	const n = 500
	b.Run(fmt.Sprintf("lines=%d", n), func(b *testing.B) {
		eachDB(b, func(b *testing.B, db *gorm.DB) {
			s := newSimLines(b, db, n)
			m := s.newManager(0)
			b.Cleanup(func() { _ = m.Close(context.Background()) })
			b.StopTimer()
			s.start(b, m)
			b.StartTimer()

			var total, dropped, spread time.Duration
			var rate []int
			cond := startConditions()
			for range b.N {
				mark := s.clock.count()
				start := time.Now()
				if got := s.sim.DropAll(); got != n {
					b.Fatalf("DropAll closed %d connections, want %d", got, n)
				}
				dropped = time.Since(start)
				waitUntil(b, "every line reconnected", 5*time.Minute, func() bool { return s.clock.count()-mark >= n })
				times := s.clock.since(mark)
				total = times[len(times)-1].Sub(start)
				spread = times[len(times)-1].Sub(times[0])
				rate = perBucket(times, start, bucketWidth)
			}
			cond.stop()
			s.checkConnected(b)
			b.ReportMetric(total.Seconds(), "reconnected-s")
			b.ReportMetric(spread.Seconds(), "first-to-last-s")
			b.Logf("%d lines: drop handled in %.2f s, all reconnected after %.2f s (first to last %.2f s); %s; reconnects per %s:\n%s",
				n, dropped.Seconds(), total.Seconds(), spread.Seconds(), cond, bucketWidth, formatBuckets(rate, bucketWidth))
		})
	})
}

// settledHeap returns the live heap after a collection.
func settledHeap() int64 {
	runtime.GC()
	var stats runtime.MemStats
	runtime.ReadMemStats(&stats)
	return int64(stats.HeapAlloc)
}

// settleGoroutines gives goroutines that are finishing up to a second to
// exit, so they are not counted as the cost of idle lines.
func settleGoroutines(target int) {
	deadline := time.Now().Add(time.Second)
	for runtime.NumGoroutine() > target && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
}
