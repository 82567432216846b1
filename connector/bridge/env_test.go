package bridge_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"go.mau.fi/whatsmeow/types/events"
	"gorm.io/gorm"

	"github.com/wabridge/b24wa/connector"
	"github.com/wabridge/b24wa/connector/bridge"
	"github.com/wabridge/b24wa/connector/wa"
	"github.com/wabridge/b24wa/connector/wa/simulator"
	"github.com/wabridge/b24wa/handlers"
	"github.com/wabridge/b24wa/internal/dbtest"
	"github.com/wabridge/b24wa/internal/secrets"
	"github.com/wabridge/b24wa/portal"
	"github.com/wabridge/b24wa/portal/b24fake"
	"github.com/wabridge/b24wa/static"
)

const (
	connectorID = "b24wa_whatsapp"
	shopPhone   = "79001234567"
	customer    = "79119876543"
	waitFor     = 20 * time.Second
)

// env is a fake portal with an active connector on open line 1, a simulated
// WhatsApp number linked to that line, and a bridge between them whose media
// and event handlers listen on loopback.
type env struct {
	db       *gorm.DB
	fake     *b24fake.Portal
	client   *portal.Client
	portal   *portal.Portal
	sim      *simulator.Simulator
	sess     wa.Session
	line     connector.Line
	sessions *liveSessions
	bridge   *bridge.Bridge
	opts     bridge.Options
	public   *httptest.Server
	mu       sync.Mutex
	current  *bridge.Bridge // the bridge the handlers call; replaced by restart
}

// liveSessions plays the session manager's Session lookup.
type liveSessions struct {
	mu sync.Mutex
	m  map[uint64]wa.Session
}

func (s *liveSessions) Session(lineID uint64) (wa.Session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.m[lineID]
	return sess, ok
}

type envOptions struct {
	fake b24fake.Options
	tune func(*bridge.Options)
}

func newEnv(t *testing.T, db *gorm.DB, o envOptions) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{db: db}
	if o.fake.RatePerSec == 0 {
		o.fake.RateBurst, o.fake.RatePerSec = 50, 500
	}
	e.fake = b24fake.New(o.fake)
	t.Cleanup(e.fake.Close)
	e.setupPortal(t)
	e.setupLine(t)

	e.sim = simulator.New(simulator.Options{})
	t.Cleanup(func() { _ = e.sim.Close() })
	jid, err := e.sim.LinkDevice(shopPhone, "Shop")
	if err != nil {
		t.Fatal(err)
	}
	e.sess, err = e.sim.Open(ctx, jid, e.handleWhatsApp, wa.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.sess.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	e.sessions = &liveSessions{m: map[uint64]wa.Session{e.line.ID: e.sess}}

	router := handlers.NewEcho(handlers.Options{Log: dbtest.Logger(t), DB: db})
	e.public = httptest.NewServer(router)
	t.Cleanup(e.public.Close)
	e.opts = bridge.Options{
		DB: db, Caller: e.client, Texts: static.MustCatalog(), Log: dbtest.Logger(t),
		PublicURL: e.public.URL, DataDir: t.TempDir(), PollInterval: 50 * time.Millisecond,
		RetryBase: 20 * time.Millisecond, RetryMax: 200 * time.Millisecond, InactiveRetry: 100 * time.Millisecond,
		LockTTL: 3 * time.Second, SendInterval: time.Millisecond, SendBurst: 100, WorkerIdle: time.Second,
		AllowInsecureHTTP: true,
	}
	if o.tune != nil {
		o.tune(&e.opts)
	}
	e.newBridge(t)
	handlers.RegisterMedia(router, mediaProxy{e})
	router.POST("/events", e.serveEvent)
	e.bindEvents(t)
	return e
}

func (e *env) setupPortal(t *testing.T) {
	t.Helper()
	box, err := secrets.New([]byte("0123456789abcdef0123456789abcdef-test-key"))
	if err != nil {
		t.Fatal(err)
	}
	store := portal.NewStore(e.db, box)
	access, refresh := e.fake.IssueTokens(1, true)
	e.portal, err = store.Upsert(context.Background(), portal.Install{
		MemberID: e.fake.MemberID(), Domain: e.fake.Domain(), ClientEndpoint: e.fake.ClientEndpoint(),
		ServerEndpoint: e.fake.ServerEndpoint(), AccessToken: access, RefreshToken: refresh,
		ExpiresAt: time.Now().Add(time.Hour), ApplicationToken: e.fake.ApplicationToken(), Lang: "en", InstallerUserID: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.client = portal.NewClient(store, portal.ClientOptions{
		ClientID: e.fake.ClientID(), ClientSecret: e.fake.ClientSecret(), AllowInsecureHTTP: true,
		RetryBaseDelay: 5 * time.Millisecond, RateBurst: 1000, RatePerSec: 1000, Timeout: 5 * time.Second,
		Log: dbtest.Logger(t),
	})
	register := map[string]any{
		"ID": connectorID, "NAME": "WhatsApp", "ICON": map[string]any{"DATA_IMAGE": "data:image/svg+xml,%3Csvg%3E"},
		"PLACEMENT_HANDLER": "https://app.example.com/settings",
	}
	e.call(t, "imconnector.register", register)
	e.setActive(t, true)
}

func (e *env) setupLine(t *testing.T) {
	t.Helper()
	now := time.Now().UTC()
	e.line = connector.Line{PortalID: e.portal.ID, LineID: "1", ConnectorID: connectorID, Name: "Sales",
		State: connector.StateConnected, StateSince: now, B24Active: true, CreatedAt: now, UpdatedAt: now}
	if err := e.db.Create(&e.line).Error; err != nil {
		t.Fatal(err)
	}
}

func (e *env) call(t *testing.T, method string, params map[string]any) {
	t.Helper()
	if err := e.client.Call(context.Background(), e.portal.ID, method, params, nil); err != nil {
		t.Fatalf("%s: %v", method, err)
	}
}

// setActive activates or deactivates the connector on open line 1.
func (e *env) setActive(t *testing.T, active bool) {
	t.Helper()
	flag := "0"
	if active {
		flag = "1"
	}
	e.call(t, "imconnector.activate", map[string]any{"CONNECTOR": connectorID, "LINE": 1, "ACTIVE": flag})
}

func (e *env) bindEvents(t *testing.T) {
	t.Helper()
	for _, name := range []string{"OnImConnectorMessageAdd", "OnImConnectorMessageUpdate", "OnImConnectorMessageDelete"} {
		e.call(t, "event.bind", map[string]any{"event": name, "handler": e.public.URL + "/events"})
	}
}

func (e *env) setCurrent(b *bridge.Bridge) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.current = b
}

func (e *env) active() *bridge.Bridge {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.current
}

// handleWhatsApp is the session's event handler, as the manager forwards
// content events to the bridge.
func (e *env) handleWhatsApp(evt any) error {
	switch evt.(type) {
	case *events.Message, *events.Receipt, *events.UndecryptableMessage:
		line := e.line
		return e.active().HandleWhatsApp(context.Background(), &line, evt)
	}
	return nil
}

func (e *env) serveEvent(c echo.Context) error {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return err
	}
	ev, err := portal.ParseEvent(string(body), portal.FormLimits{})
	if err != nil {
		return err
	}
	if err := e.active().HandleConnectorEvent(c.Request().Context(), e.portal, ev); err != nil {
		return err
	}
	return c.NoContent(http.StatusOK)
}

// mediaProxy serves media through the current bridge.
type mediaProxy struct{ e *env }

func (m mediaProxy) OpenMedia(ctx context.Context, token string) (*bridge.Media, error) {
	return m.e.active().OpenMedia(ctx, token)
}

func (e *env) start(t *testing.T) {
	t.Helper()
	if err := e.bridge.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.bridge.Close(context.Background()) })
}

// restart closes the running bridge and starts a new one on the same
// database, as after a process restart.
func (e *env) restart(t *testing.T) {
	t.Helper()
	if err := e.bridge.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.newBridge(t)
	e.start(t)
}

// newBridge builds the bridge and then hands it the sessions, in the order
// the app must use because the manager is built with the bridge as its sink.
func (e *env) newBridge(t *testing.T) {
	t.Helper()
	b := bridge.New(e.opts)
	if err := b.SetSessions(e.sessions, nil); err != nil {
		t.Fatal(err)
	}
	e.bridge = b
	e.setCurrent(b)
}

// eventually polls cond until it holds or waitFor passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func (e *env) inbound(t *testing.T, m simulator.InboundMessage) string {
	t.Helper()
	if m.To == "" {
		m.To = shopPhone
	}
	id, err := e.sim.Inbound(m)
	if err != nil {
		t.Fatalf("inbound: %v", err)
	}
	return id
}

// received waits for n messages at the portal and returns them.
func (e *env) received(t *testing.T, n int) []b24fake.ReceivedMessage {
	t.Helper()
	eventually(t, "messages at the portal", func() bool { return len(e.fake.ReceivedMessages()) >= n })
	return e.fake.ReceivedMessages()
}

func (e *env) outbound(t *testing.T) []simulator.OutboundMessage {
	t.Helper()
	out, err := e.sim.Outbound(shopPhone)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (e *env) deliveries(t *testing.T, direction string) []connector.Delivery {
	t.Helper()
	var ds []connector.Delivery
	if err := e.db.Where("direction = ?", direction).Order("id").Find(&ds).Error; err != nil {
		t.Fatal(err)
	}
	return ds
}

func each(t *testing.T, fn func(t *testing.T, db *gorm.DB)) { dbtest.Each(t, fn) }
