package bench

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/wabridge/b24wa/connector"
	"github.com/wabridge/b24wa/connector/wa/simulator"
	"github.com/wabridge/b24wa/handlers"
	"github.com/wabridge/b24wa/internal/database"
	"github.com/wabridge/b24wa/portal"
	"github.com/wabridge/b24wa/portal/b24fake"
)

var (
	webhookRate = flag.Float64("webhook.rate", 200,
		"events per second BenchmarkWebhookAck posts to each route on a fixed schedule")
	webhookDuration = flag.Duration("webhook.duration", 30*time.Second,
		"how long BenchmarkWebhookAck posts events")
)

const (
	// webhookChats is how many customer dialogs the operator replies go to.
	webhookChats = 20
	// webhookWindow is the stretch of the schedule each reported p99 covers,
	// to show whether latency grows while undelivered replies pile up.
	webhookWindow = 5 * time.Second
)

// webhookWorld is a world whose echo router serves POST /events through
// the real dispatcher and bridge, and POST /bare, which only reads the body
// and responds 200, as the baseline of the same router and middleware.
type webhookWorld struct {
	*world
	srv     *httptest.Server
	chatIDs []int    // Bitrix24 chat id of each dialog
	peers   []string // external chat id ("wa:" + phone) of each dialog
	nextID  int      // next Bitrix24 message id to use
}

// BenchmarkWebhookAck posts OnImConnectorMessageAdd events to POST /events
// and the same bodies to a bare handler on the same router, both at
// -webhook.rate per second for -webhook.duration on an open-loop schedule,
// and reports the p50, p99 and maximum time from each request's scheduled
// send time to its response.
func BenchmarkWebhookAck(b *testing.B) {
	if *webhookRate <= 0 || *webhookDuration <= 0 {
		b.Fatalf("-webhook.rate %v and -webhook.duration %s must be positive", *webhookRate, *webhookDuration)
	}
	eachDB(b, func(b *testing.B, db *gorm.DB) {
		h := newWebhookWorld(b, db)
		interval := time.Duration(float64(time.Second) / *webhookRate)
		count := int(webhookDuration.Seconds() * *webhookRate)
		var run webhookRun
		run.conditions = startConditions()
		for range b.N {
			b.StopTimer()
			bodies := h.operatorEvents(b, count)
			before := h.outboundDeliveries(b)
			b.StartTimer()

			events, bare := h.postBoth(bodies, interval)
			run.events, run.bare = append(run.events, events...), append(run.bare, bare...)
			run.stored += h.outboundDeliveries(b) - before
		}
		run.conditions.stop()
		run.sent = h.sentToWhatsApp(b)
		reportWebhook(b, run, interval)
	})
}

func newWebhookWorld(b *testing.B, db *gorm.DB) *webhookWorld {
	b.Helper()
	e := handlers.NewEcho(handlers.Options{Log: quietLog(), DB: db, Dialect: string(database.DialectOf(db))})
	srv := httptest.NewServer(e)
	b.Cleanup(srv.Close)
	h := &webhookWorld{world: newWorld(b, db, worldOptions{publicURL: srv.URL}), srv: srv, nextID: 100000}

	installer := portal.NewInstaller(h.store, h.client, portal.InstallOptions{
		ConnectorID: connectorID, PublicURL: srv.URL, IconSVG: []byte("<svg/>"),
		AllowInsecureHTTP: true, Log: quietLog(),
	})
	dispatcher := portal.NewDispatcher(portal.DispatcherOptions{
		Store: h.store, Installer: installer, Hooks: h.manager, Sink: h.bridge, Log: quietLog(),
	})
	handlers.RegisterPortal(e, handlers.PortalDeps{Log: quietLog(), Installer: installer, Events: dispatcher})
	e.POST("/bare", bareHandler)

	h.openDialogs(b)
	return h
}

// bareHandler reads the form body and responds as POST /events does.
func bareHandler(c echo.Context) error {
	if _, err := io.Copy(io.Discard, c.Request().Body); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"result": "ok"})
}

// openDialogs has each customer write once, so every operator reply goes
// to a dialog whose chat the bridge has stored.
func (h *webhookWorld) openDialogs(b *testing.B) {
	b.Helper()
	for c := 1; c <= webhookChats; c++ {
		phone := strconv.Itoa(79110000000 + c)
		_, err := h.sim.Inbound(simulator.InboundMessage{To: shopPhone, From: phone, Text: fmt.Sprintf("chat %d msg 1", c)})
		if err != nil {
			b.Fatal(err)
		}
		h.peers = append(h.peers, "wa:"+phone)
	}
	waitUntil(b, "the customers' first messages at the portal", time.Minute, func() bool {
		return len(h.fake.ReceivedMessages()) >= webhookChats
	})
	byPeer := map[string]int{}
	for _, r := range h.fake.ReceivedMessages() {
		peer, _ := r.Chat["id"].(string)
		byPeer[peer] = r.ChatID
	}
	for _, peer := range h.peers {
		h.chatIDs = append(h.chatIDs, byPeer[peer])
	}
}

// operatorEvents builds count form bodies of ONIMCONNECTORMESSAGEADD, one
// new Bitrix24 message each, spread over the dialogs.
func (h *webhookWorld) operatorEvents(b *testing.B, count int) []string {
	b.Helper()
	bodies := make([]string, count)
	for i := range bodies {
		c := i % webhookChats
		data := b24fake.MessagesData(b24fake.EventMessageAdd, connectorID, 1, b24fake.EventMessage{
			IMChatID: h.chatIDs[c], IMMessageID: h.nextID, UserID: 1,
			Text: "reply " + strconv.Itoa(h.nextID), ChatID: h.peers[c],
		})
		bodies[i] = h.fake.EventForm(b24fake.EventMessageAdd, data, b24fake.WithUser(1)).Encode()
		h.nextID++
	}
	return bodies
}

// postBoth runs the open-loop schedule against /events and /bare at once,
// each on its own connections.
func (h *webhookWorld) postBoth(bodies []string, interval time.Duration) (events, bare []sample) {
	start := time.Now().Add(50 * time.Millisecond)
	done := make(chan []sample)
	go func() { done <- openLoop(newLoopbackClient(), h.srv.URL+"/bare", bodies, interval, start) }()
	events = openLoop(newLoopbackClient(), h.srv.URL+"/events", bodies, interval, start)
	return events, <-done
}

func (h *webhookWorld) outboundDeliveries(b *testing.B) int64 {
	b.Helper()
	var n int64
	if err := h.db.Model(&connector.Delivery{}).Where("direction = ?", "out").Count(&n).Error; err != nil {
		b.Fatal(err)
	}
	return n
}

// webhookRun is what the open-loop runs of one database measured.
type webhookRun struct {
	events, bare []sample
	stored       int64 // outbound deliveries stored during the runs
	sent         int   // operator messages the bridge sent to WhatsApp meanwhile
	conditions   *conditions
}

// sentToWhatsApp counts the messages the simulated business number sent.
func (h *webhookWorld) sentToWhatsApp(b *testing.B) int {
	b.Helper()
	out, err := h.sim.Outbound(shopPhone)
	if err != nil {
		b.Fatal(err)
	}
	return len(out)
}

func reportWebhook(b *testing.B, run webhookRun, interval time.Duration) {
	b.Helper()
	ev, evFailed, evLag := summarizeSamples(run.events)
	ba, baFailed, baLag := summarizeSamples(run.bare)
	stored := run.stored
	if evFailed > 0 || baFailed > 0 {
		b.Errorf("%d events and %d bare requests were not answered 200", evFailed, baFailed)
	}
	if stored != int64(len(run.events)-evFailed) {
		b.Errorf("%d outbound deliveries stored for %d acknowledged events", stored, len(run.events)-evFailed)
	}

	b.ReportMetric(ms(ev.p50), "events-p50-ms")
	b.ReportMetric(ms(ev.p99), "events-p99-ms")
	b.ReportMetric(ms(ev.max), "events-max-ms")
	b.ReportMetric(ms(ba.p50), "bare-p50-ms")
	b.ReportMetric(ms(ba.p99), "bare-p99-ms")
	b.ReportMetric(ms(ba.max), "bare-max-ms")
	b.ReportMetric(float64(evFailed), "events-non200")

	row := func(route string, s latencySummary, failed int, lag time.Duration) []string {
		return []string{route, strconv.Itoa(s.count), strconv.Itoa(failed), millis(s.p50), millis(s.p99),
			millis(s.max), millis(s.mean), strconv.Itoa(s.overHundredMs), millis(lag)}
	}
	window := max(1, int(webhookWindow/interval))
	b.Logf("%.0f requests/s per route, one every %s, for %s; %d outbound deliveries stored, %d sent to WhatsApp meanwhile\n%s"+
		"p99 per %s window, POST /events (ms): %s\np99 per %s window, POST /bare (ms):   %s\n%s",
		*webhookRate, interval, *webhookDuration, stored, run.sent, formatTable([][]string{
			{"route", "requests", "non-200", "p50", "p99", "max", "mean", ">100ms", "max send lag"},
			row("POST /events", ev, evFailed, evLag),
			row("POST /bare", ba, baFailed, baLag),
		}),
		webhookWindow, formatMillis(windowP99(latencies(run.events), window)),
		webhookWindow, formatMillis(windowP99(latencies(run.bare), window)), run.conditions)
}

func latencies(samples []sample) []time.Duration {
	out := make([]time.Duration, len(samples))
	for i, s := range samples {
		out[i] = s.latency
	}
	return out
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
