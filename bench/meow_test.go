package bench

import (
	"crypto/rand"
	"fmt"
	"runtime"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/proto/waAdv"
	"go.mau.fi/whatsmeow/types"
	"gorm.io/gorm"

	"github.com/wabridge/b24wa/connector/wa"
	"github.com/wabridge/b24wa/connector/wa/meow"
	"github.com/wabridge/b24wa/connector/wastore"
	"github.com/wabridge/b24wa/internal/secrets"
)

// BenchmarkMeowLines opens whatsmeow sessions on 100 and 1,000 paired
// devices kept in wastore and reports the heap and goroutines each one
// holds, and the time to open one. The sessions are never connected: a
// connected client adds its websocket, keepalive and handler goroutines,
// which cannot be measured without WhatsApp's servers, and the benchmarks
// reach no host but 127.0.0.1.
func BenchmarkMeowLines(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("lines=%d", n), func(b *testing.B) {
			eachDB(b, func(b *testing.B, db *gorm.DB) { benchMeowLines(b, db, n) })
		})
	}
}

func benchMeowLines(b *testing.B, db *gorm.DB, n int) {
	box, err := secrets.New([]byte(benchSecret))
	if err != nil {
		b.Fatal(err)
	}
	container := wastore.New(db, box, quietLog())
	jids := make([]types.JID, n)
	for i := range jids {
		jids[i] = storePairedDevice(b, container, fmt.Sprintf("7900%07d", i))
	}
	backend := meow.New(container, quietLog(), meow.Options{})
	b.Cleanup(func() { _ = backend.Close() })

	var heap, goroutines float64
	var open time.Duration
	cond := startConditions()
	b.ResetTimer()
	for range b.N {
		heapBefore, goroutinesBefore := settledHeap(), runtime.NumGoroutine()
		started := time.Now()
		sessions := make([]wa.Session, n)
		for i, jid := range jids {
			sess, err := backend.Open(b.Context(), jid, func(any) error { return nil }, wa.OpenOptions{})
			if err != nil {
				b.Fatal(err)
			}
			sessions[i] = sess
		}
		open = time.Since(started) / time.Duration(n)

		b.StopTimer()
		heap = float64(settledHeap()-heapBefore) / float64(n)
		goroutines = float64(runtime.NumGoroutine()-goroutinesBefore) / float64(n)
		runtime.KeepAlive(sessions)
		b.StartTimer()
	}
	cond.stop()
	b.ReportMetric(heap, "heap-B/line")
	b.ReportMetric(goroutines, "goroutines/line")
	b.ReportMetric(float64(open.Microseconds()), "open-us/line")
	b.Logf("%d unconnected whatsmeow sessions: %.0f heap bytes and %.3f goroutines per line, %s to open one; %s",
		n, heap, goroutines, open, cond)
}

// storePairedDevice saves a device as whatsmeow stores one after pairing
// and returns its JID. The account signatures are random bytes, which is
// enough because nothing is verified until the device connects.
func storePairedDevice(b *testing.B, c *wastore.Container, phone string) types.JID {
	b.Helper()
	device := c.NewDevice()
	jid := types.NewADJID(phone, 0, 1)
	device.ID = &jid
	device.LID = types.JID{User: "1" + phone, Device: 1, Server: types.HiddenUserServer}
	device.Account = &waAdv.ADVSignedDeviceIdentity{
		Details:             randomBytes(b, 80),
		AccountSignature:    randomBytes(b, 64),
		AccountSignatureKey: randomBytes(b, 32),
		DeviceSignature:     randomBytes(b, 64),
	}
	device.Platform = "smba"
	if err := device.Save(b.Context()); err != nil {
		b.Fatalf("store paired device %s: %v", jid, err)
	}
	return jid
}

func randomBytes(b *testing.B, n int) []byte {
	b.Helper()
	buf := make([]byte, n)
	if _, err := rand.Read(buf); err != nil {
		b.Fatal(err)
	}
	return buf
}
