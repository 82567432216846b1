package meow

import (
	"fmt"
	"runtime"
	"testing"

	"go.mau.fi/whatsmeow/types"

	"github.com/wabridge/b24wa/connector/wa"
	"github.com/wabridge/b24wa/internal/dbtest"
)

// BenchmarkIdleLines reports the heap and goroutines that opened but
// unconnected whatsmeow sessions on wastore (SQLite) hold. A connected
// client adds its socket, keepalive and handler goroutines, which cannot be
// measured without WhatsApp's servers. Run it with
// go test -run '^$' -bench IdleLines ./connector/wa/meow
func BenchmarkIdleLines(b *testing.B) {
	for _, lines := range []int{100, 1000} {
		b.Run(fmt.Sprintf("lines=%d", lines), func(b *testing.B) {
			backend, container := newBackend(b, dbtest.SQLite(b), Options{})
			jids := make([]types.JID, lines)
			for i := range jids {
				jids[i] = storePairedDevice(b, container, fmt.Sprintf("7900%07d", i), 1)
			}
			b.ResetTimer()

			var heapPerLine, goroutinesPerLine float64
			for range b.N {
				heapBefore, goroutinesBefore := settledHeap(), runtime.NumGoroutine()
				sessions := make([]wa.Session, lines)
				for i, jid := range jids {
					sess, err := backend.Open(b.Context(), jid, func(any) error { return nil }, wa.OpenOptions{})
					if err != nil {
						b.Fatal(err)
					}
					sessions[i] = sess
				}
				heapAfter, goroutinesAfter := settledHeap(), runtime.NumGoroutine()
				runtime.KeepAlive(sessions)
				heapPerLine += float64(heapAfter-heapBefore) / float64(lines)
				goroutinesPerLine += float64(goroutinesAfter-goroutinesBefore) / float64(lines)
			}
			b.ReportMetric(heapPerLine/float64(b.N), "heap-B/line")
			b.ReportMetric(goroutinesPerLine/float64(b.N), "goroutines/line")
		})
	}
}

// settledHeap returns the live heap after a collection.
func settledHeap() int64 {
	runtime.GC()
	var stats runtime.MemStats
	runtime.ReadMemStats(&stats)
	return int64(stats.HeapAlloc)
}
