package simulator

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/types/events"

	"github.com/wabridge/b24wa/connector/wa"
)

// BenchmarkIdleLines reports the heap and goroutines that connected, idle
// simulator lines hold: go test -run '^$' -bench IdleLines ./connector/wa/simulator
func BenchmarkIdleLines(b *testing.B) {
	for _, lines := range []int{100, 1000} {
		b.Run(fmt.Sprintf("lines=%d", lines), func(b *testing.B) {
			var heapPerLine, goroutinesPerLine float64
			for range b.N {
				heap, goroutines := measureIdleLines(b, lines)
				heapPerLine += heap
				goroutinesPerLine += goroutines
			}
			b.ReportMetric(heapPerLine/float64(b.N), "heap-B/line")
			b.ReportMetric(goroutinesPerLine/float64(b.N), "goroutines/line")
		})
	}
}

func measureIdleLines(b *testing.B, lines int) (heapPerLine, goroutinesPerLine float64) {
	b.Helper()
	sim := New(Options{Clock: NewFakeClock(testStart)})
	defer sim.Close()
	heapBefore, goroutinesBefore := settledHeap(), runtime.NumGoroutine()

	sessions := make([]wa.Session, lines)
	connected := make(chan struct{}, lines)
	handler := func(evt any) error {
		if _, ok := evt.(*events.Connected); ok {
			connected <- struct{}{}
		}
		return nil
	}
	for i := range sessions {
		jid, err := sim.LinkDevice(fmt.Sprintf("7900%07d", i), "Line")
		if err != nil {
			b.Fatal(err)
		}
		sess, err := sim.Open(context.Background(), jid, handler, wa.OpenOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if err := sess.Connect(context.Background()); err != nil {
			b.Fatal(err)
		}
		sessions[i] = sess
	}
	for range lines {
		<-connected
	}
	waitGoroutines(goroutinesBefore)

	heapAfter, goroutinesAfter := settledHeap(), runtime.NumGoroutine()
	runtime.KeepAlive(sessions)
	return float64(heapAfter-heapBefore) / float64(lines), float64(goroutinesAfter-goroutinesBefore) / float64(lines)
}

// settledHeap returns the live heap after a collection.
func settledHeap() int64 {
	runtime.GC()
	var stats runtime.MemStats
	runtime.ReadMemStats(&stats)
	return int64(stats.HeapAlloc)
}

// waitGoroutines gives short-lived delivery goroutines up to a second to
// finish, so they are not counted as per-line cost.
func waitGoroutines(target int) {
	deadline := time.Now().Add(time.Second)
	for runtime.NumGoroutine() > target && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
}
