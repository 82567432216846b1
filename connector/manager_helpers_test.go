package connector

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/types"
	"gorm.io/gorm"

	"github.com/wabridge/b24wa/connector/wa"
	"github.com/wabridge/b24wa/connector/wa/simulator"
	"github.com/wabridge/b24wa/internal/dbtest"
	"github.com/wabridge/b24wa/internal/secrets"
	"github.com/wabridge/b24wa/portal"
	"github.com/wabridge/b24wa/portal/b24fake"
)

const testConnector = "b24wa_whatsapp"

var testStart = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// harness is one database with a simulated WhatsApp, a fake portal
// installed in it and a shared fake clock.
type harness struct {
	t        *testing.T
	db       *gorm.DB
	clock    *simulator.FakeClock
	sim      *simulator.Simulator
	b24      *b24fake.Portal
	portals  *portal.Store
	client   *portal.Client
	portalID uint64
}

func newHarness(t *testing.T, db *gorm.DB) *harness {
	t.Helper()
	clock := simulator.NewFakeClock(testStart)
	sim := simulator.New(simulator.Options{Clock: clock, Log: dbtest.Logger(t)})
	t.Cleanup(func() { _ = sim.Close() })
	fake := b24fake.New(b24fake.Options{})
	t.Cleanup(fake.Close)

	box, err := secrets.New(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, db: db, clock: clock, sim: sim, b24: fake, portals: portal.NewStore(db, box)}
	h.client = portal.NewClient(h.portals, portal.ClientOptions{
		ClientID:          fake.ClientID(),
		ClientSecret:      fake.ClientSecret(),
		AllowInsecureHTTP: true,
		MaxRetries:        1,
		RetryBaseDelay:    time.Millisecond,
		Log:               dbtest.Logger(t),
	})
	h.portalID = h.installPortal(fake)
	return h
}

// installPortal stores the fake portal with an administrator's tokens and
// registers the connector, so imconnector.activate is accepted.
func (h *harness) installPortal(fake *b24fake.Portal) uint64 {
	h.t.Helper()
	ctx := context.Background()
	access, refresh := fake.IssueTokens(1, true)
	p, err := h.portals.Upsert(ctx, portal.Install{
		MemberID:       fake.MemberID(),
		Domain:         fake.Domain(),
		ClientEndpoint: fake.ClientEndpoint(),
		ServerEndpoint: fake.ServerEndpoint(),
		AccessToken:    access,
		RefreshToken:   refresh,
		ExpiresAt:      time.Now().Add(time.Hour),
	})
	if err != nil {
		h.t.Fatal(err)
	}
	err = h.client.Call(ctx, p.ID, "imconnector.register", map[string]any{
		"ID":                testConnector,
		"NAME":              "WhatsApp",
		"ICON":              map[string]any{"DATA_IMAGE": "data:image/svg+xml,%3Csvg%3E%3C/svg%3E"},
		"PLACEMENT_HANDLER": "http://127.0.0.1/settings",
	}, nil)
	if err != nil {
		h.t.Fatalf("register connector: %v", err)
	}
	return p.ID
}

// otherPortal stores a second portal that no test calls.
func (h *harness) otherPortal() uint64 {
	h.t.Helper()
	p, err := h.portals.Upsert(context.Background(), portal.Install{
		MemberID:       "other-portal-member",
		Domain:         "127.0.0.1:9",
		ClientEndpoint: "http://127.0.0.1:9/rest/",
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return p.ID
}

func (h *harness) options(instance string) ManagerOptions {
	return ManagerOptions{
		Log:                 dbtest.Logger(h.t),
		InstanceID:          instance,
		B24:                 h.client,
		ConnectorID:         testConnector,
		Now:                 h.clock.Now,
		ReconnectJitter:     time.Millisecond,
		LeaseRenewInterval:  time.Hour,
		MaintenanceInterval: time.Hour,
		HealthInterval:      time.Hour,
	}
}

// manager returns a manager on the harness; the background loops run hourly
// so tests drive renewals and maintenance themselves.
func (h *harness) manager(instance string) *Manager {
	return h.managerWith(h.sim, h.options(instance))
}

func (h *harness) managerWith(backend wa.Backend, opts ManagerOptions) *Manager {
	h.t.Helper()
	m := NewManager(h.db, backend, opts)
	h.t.Cleanup(func() { _ = m.Close(context.Background()) })
	return m
}

// line creates an open line of the harness portal.
func (h *harness) line(lineID string) *Line {
	h.t.Helper()
	line, err := NewLineStore(h.db).Ensure(context.Background(), h.portalID, lineID, testConnector, "Line "+lineID)
	if err != nil {
		h.t.Fatal(err)
	}
	return line
}

// pair links phone to a line through QR pairing and waits until the line
// is connected.
func (h *harness) pair(m *Manager, lineID uint64, phone string) types.JID {
	h.t.Helper()
	ctx := context.Background()
	if _, err := m.StartPairing(ctx, lineID, PairingOptions{}); err != nil {
		h.t.Fatalf("start pairing: %v", err)
	}
	qr := h.waitQR(m, lineID)
	jid, err := h.sim.Scan(qr, phone, "Shop "+phone)
	if err != nil {
		h.t.Fatalf("scan: %v", err)
	}
	h.waitState(lineID, StateConnected)
	h.waitFor("b24_active set", func() bool { return h.get(lineID).B24Active })
	return jid
}

// waitQR polls PairingStatus until it shows a QR code.
func (h *harness) waitQR(m *Manager, lineID uint64) string {
	h.t.Helper()
	var qr string
	h.waitFor("a QR code", func() bool {
		st, err := m.PairingStatus(context.Background(), lineID)
		if err != nil {
			h.t.Fatalf("pairing status: %v", err)
		}
		qr = st.QR
		return st.Step == PairingQR && qr != ""
	})
	return qr
}

// peek returns the status of the line's attempt without counting as a look.
func peek(m *Manager, lineID uint64) PairingStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	rt := m.runtimes[lineID]
	if rt == nil || rt.attempt == nil {
		return PairingStatus{}
	}
	return rt.attempt.status
}

func (h *harness) get(lineID uint64) *Line {
	h.t.Helper()
	line, err := NewLineStore(h.db).Get(context.Background(), lineID)
	if err != nil {
		h.t.Fatal(err)
	}
	return line
}

func (h *harness) sessions(lineID uint64) []DeviceSession {
	h.t.Helper()
	rows, err := NewLineStore(h.db).DeviceSessions(context.Background(), lineID)
	if err != nil {
		h.t.Fatal(err)
	}
	return rows
}

func (h *harness) waitState(lineID uint64, state string) *Line {
	h.t.Helper()
	var line *Line
	h.waitFor("state "+state, func() bool {
		line = h.get(lineID)
		return line.State == state
	})
	return line
}

// waitFor polls cond for up to five seconds.
func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// hasDevice reports whether the simulated store still has the device.
func (h *harness) hasDevice(jid types.JID) bool {
	devices, err := h.sim.Devices(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	for _, d := range devices {
		if d == jid {
			return true
		}
	}
	return false
}

// activations returns the ACTIVE values of the imconnector.activate calls.
func (h *harness) activations() []string {
	var out []string
	for _, c := range h.b24.CallsTo(methodActivate) {
		if c.Error == "" {
			out = append(out, paramText(c.Params["ACTIVE"]))
		}
	}
	return out
}

func paramText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case interface{ String() string }:
		return x.String()
	default:
		return ""
	}
}

// liveClient returns the manager's live client of a line.
func liveClient(m *Manager, lineID uint64) *client {
	m.mu.Lock()
	defer m.mu.Unlock()
	if rt := m.runtimes[lineID]; rt != nil {
		return rt.live
	}
	return nil
}

// recordingSink stores what the manager forwards; failNext makes the next
// calls fail so the message is not acknowledged.
type recordingSink struct {
	mu       sync.Mutex
	events   []any
	lines    []uint64
	failNext int
}

func (s *recordingSink) HandleWhatsApp(ctx context.Context, line *Line, evt any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, evt)
	s.lines = append(s.lines, line.ID)
	if s.failNext > 0 {
		s.failNext--
		return errors.New("sink unavailable")
	}
	return nil
}

func (s *recordingSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.events)
}

// countingBackend wraps the simulator and records how many Connect calls
// run at once, each held for delay.
type countingBackend struct {
	wa.Backend
	delay time.Duration

	mu       sync.Mutex
	inFlight int
	max      int
	total    int
}

func (b *countingBackend) Open(ctx context.Context, jid types.JID, h wa.EventHandler, opts wa.OpenOptions) (wa.Session, error) {
	s, err := b.Backend.Open(ctx, jid, h, opts)
	if err != nil {
		return nil, err
	}
	return &countingSession{Session: s, b: b}, nil
}

// stats returns the number of Connect calls and the most that ran at once.
func (b *countingBackend) stats() (total, maxInFlight int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.total, b.max
}

type countingSession struct {
	wa.Session
	b *countingBackend
}

func (s *countingSession) Connect(ctx context.Context) error {
	b := s.b
	b.mu.Lock()
	b.inFlight++
	b.total++
	b.max = max(b.max, b.inFlight)
	b.mu.Unlock()

	time.Sleep(b.delay)
	err := s.Session.Connect(ctx)

	b.mu.Lock()
	b.inFlight--
	b.mu.Unlock()
	return err
}
