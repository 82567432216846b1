package bench

import (
	"flag"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/connector"
	"github.com/wabridge/b24wa/connector/wa/simulator"
	"github.com/wabridge/b24wa/portal/b24fake"
)

// The burst: customers write 1,000 messages in 20 chats to one line of a
// portal on a non-Enterprise cloud plan (a bucket of 50 requests drained at
// 2 per second) that takes 50 ms to respond to every request.
const (
	burstChats    = 20
	burstPerChat  = 50
	burstBucket   = 50
	burstRate     = 2.0
	burstLatency  = 50 * time.Millisecond
	burstMessages = burstChats * burstPerChat
)

var burstTimeout = flag.Duration("burst.timeout", 5*time.Minute,
	"how long BenchmarkBurst waits for the messages to reach the portal before it fails")

// burstResult is what one burst measured.
type burstResult struct {
	check      deliveryCheck
	failed     int64 // inbound deliveries failed for good
	client503  int   // QUERY_LIMIT_EXCEEDED responses the client received
	portal503  int   // QUERY_LIMIT_EXCEEDED responses the portal sent
	calls      int   // REST requests the portal admitted
	sendCalls  int   // admitted imconnector.send.messages requests
	callSizes  []int // messages in each admitted imconnector.send.messages request
	stored     time.Duration
	wall       time.Duration
	lowerBound time.Duration
	conditions *conditions
}

// BenchmarkBurst sends 1,000 customer messages in 20 chats through the
// simulator, the session manager, the bridge and the REST client to a fake
// portal that enforces the leaky bucket. It reports lost messages, order
// violations, 503 responses, REST calls and messages per call, and the wall
// time beside the shortest time the bucket allows.
func BenchmarkBurst(b *testing.B) {
	eachDB(b, func(b *testing.B, db *gorm.DB) {
		w := newWorld(b, db, worldOptions{fake: b24fake.Options{
			RateBurst: burstBucket, RatePerSec: burstRate, Latency: burstLatency,
		}})
		var r burstResult
		for range b.N {
			b.StopTimer()
			w.drainBucket(burstBucket, burstRate)
			b.StartTimer()
			r = runBurst(b, w)
		}
		reportBurst(b, r)
	})
}

func runBurst(b *testing.B, w *world) burstResult {
	b.Helper()
	receivedBefore := len(w.fake.ReceivedMessages())
	callsBefore := len(w.fake.Calls())
	client503Before := w.clientErrors(b, "QUERY_LIMIT_EXCEEDED")
	failedBefore := w.failedDeliveries(b)

	cond := startConditions()
	start := time.Now()
	injectBurst(b, w)
	stored := time.Since(start)
	w.waitBurstSettled(b, receivedBefore, start)
	cond.stop()

	received := w.fake.ReceivedMessages()[receivedBefore:]
	check, err := checkDelivery(received)
	if err != nil {
		b.Fatal(err)
	}
	r := burstResult{check: check, stored: stored, failed: w.failedDeliveries(b) - failedBefore, conditions: cond}
	r.client503 = w.clientErrors(b, "QUERY_LIMIT_EXCEEDED") - client503Before
	for _, c := range w.fake.Calls()[callsBefore:] {
		if c.Error == "QUERY_LIMIT_EXCEEDED" {
			r.portal503++
			continue
		}
		r.calls++
		if c.Method == "imconnector.send.messages" {
			r.sendCalls++
			messages, _ := c.Params["MESSAGES"].([]any)
			r.callSizes = append(r.callSizes, len(messages))
		}
	}
	if len(received) > 0 {
		r.wall = received[len(received)-1].Time.Sub(start)
	}
	r.lowerBound = time.Duration(max(0, float64(r.calls-burstBucket)/burstRate) * float64(time.Second))
	return r
}

// injectBurst writes the messages as customers, one goroutine per chat.
// Simulator.Inbound returns once the app's handler stored the message.
func injectBurst(b *testing.B, w *world) {
	b.Helper()
	var wg sync.WaitGroup
	for c := 1; c <= burstChats; c++ {
		wg.Go(func() {
			from := strconv.Itoa(79110000000 + c)
			for n := 1; n <= burstPerChat; n++ {
				_, err := w.sim.Inbound(simulator.InboundMessage{
					To: shopPhone, From: from, PushName: "Customer " + strconv.Itoa(c),
					Text: fmt.Sprintf("chat %d msg %d", c, n),
				})
				if err != nil {
					b.Errorf("inbound chat %d message %d: %v", c, n, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// waitBurstSettled waits until every message reached the portal or, when
// some failed, until no inbound delivery is left to work.
func (w *world) waitBurstSettled(b *testing.B, receivedBefore int, start time.Time) {
	b.Helper()
	deadline := start.Add(*burstTimeout)
	for {
		if len(w.fake.ReceivedMessages())-receivedBefore >= burstMessages || w.openDeliveries(b, "in") == 0 {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d messages reached the portal in %s (-burst.timeout)",
				len(w.fake.ReceivedMessages())-receivedBefore, burstMessages, *burstTimeout)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// failedDeliveries counts inbound deliveries that failed for good.
func (w *world) failedDeliveries(b *testing.B) int64 {
	b.Helper()
	var n int64
	err := w.db.Model(&connector.Delivery{}).
		Where("direction = ? AND state = ?", "in", connector.DeliveryFailed).Count(&n).Error
	if err != nil {
		b.Fatal(err)
	}
	return n
}

func reportBurst(b *testing.B, r burstResult) {
	b.Helper()
	lost := burstMessages - r.check.distinct
	perCall := 0.0
	if r.sendCalls > 0 {
		perCall = float64(r.check.distinct) / float64(r.sendCalls)
	}
	if lost != 0 || r.check.violations != 0 || r.check.duplicates != 0 {
		b.Errorf("lost %d, order violations %d (by chat %v), duplicates %d; want none",
			lost, r.check.violations, r.check.violationsByChat, r.check.duplicates)
	}

	b.ReportMetric(float64(lost), "lost")
	b.ReportMetric(float64(r.check.violations), "order-violations")
	b.ReportMetric(float64(r.client503), "503s")
	b.ReportMetric(float64(r.calls), "rest-calls")
	b.ReportMetric(perCall, "msgs/call")
	b.ReportMetric(r.wall.Seconds(), "wall-s")
	b.ReportMetric(r.lowerBound.Seconds(), "bound-s")

	b.Logf("%s\n%s", r.conditions, formatTable([][]string{
		{"figure", "value"},
		{"messages sent", fmt.Sprintf("%d in %d chats", burstMessages, burstChats)},
		{"messages received", fmt.Sprintf("%d (lost %d, duplicates %d, element errors %d, failed deliveries %d)",
			r.check.distinct, lost, r.check.duplicates, r.check.rejected, r.failed)},
		{"order violations", strconv.Itoa(r.check.violations)},
		{"503 received by client", fmt.Sprintf("%d (portal sent %d)", r.client503, r.portal503)},
		{"REST calls admitted", fmt.Sprintf("%d (imconnector.send.messages %d)", r.calls, r.sendCalls)},
		{"messages per call", fmt.Sprintf("%.2f; in call order %s", perCall, runLengths(r.callSizes))},
		{"all stored by handler after", fmt.Sprintf("%.2f s", r.stored.Seconds())},
		{"wall time to last message", fmt.Sprintf("%.2f s", r.wall.Seconds())},
		{"bucket lower bound", fmt.Sprintf("%.2f s = (%d calls - %d) / %.0f per s",
			r.lowerBound.Seconds(), r.calls, burstBucket, burstRate)},
	}))
}
