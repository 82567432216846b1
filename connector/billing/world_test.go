package billing

import (
	"context"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/connector"
	"github.com/wabridge/b24wa/connector/wa"
	"github.com/wabridge/b24wa/connector/wa/simulator"
	"github.com/wabridge/b24wa/internal/dbtest"
	"github.com/wabridge/b24wa/internal/secrets"
	"github.com/wabridge/b24wa/portal"
	"github.com/wabridge/b24wa/portal/b24fake"
)

const testConnectorID = "b24wa_whatsapp"

// world is the real stack billing runs in: one database, the session
// manager on a simulated WhatsApp, a fake Bitrix24 portal installed through
// the real portal store and REST client, and one fake clock for all of them.
type world struct {
	t        *testing.T
	db       *gorm.DB
	clock    *simulator.FakeClock
	sim      *simulator.Simulator
	b24      *b24fake.Portal
	portals  *portal.Store
	client   *portal.Client
	portalID uint64
}

func newWorld(t *testing.T, db *gorm.DB) *world {
	t.Helper()
	clock := simulator.NewFakeClock(testStart)
	sim := simulator.New(simulator.Options{Clock: clock, Log: dbtest.Logger(t)})
	t.Cleanup(func() { _ = sim.Close() })
	fake := b24fake.New(b24fake.Options{})
	t.Cleanup(fake.Close)

	box, err := secrets.New([]byte("billing-world-secret-key-32-bytes!!"))
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, db: db, clock: clock, sim: sim, b24: fake, portals: portal.NewStore(db, box)}
	w.client = portal.NewClient(w.portals, portal.ClientOptions{
		ClientID: fake.ClientID(), ClientSecret: fake.ClientSecret(), AllowInsecureHTTP: true,
		MaxRetries: 1, RetryBaseDelay: time.Millisecond, Log: dbtest.Logger(t),
	})
	w.portalID = w.install()
	return w
}

// install stores the fake portal with the tokens of its administrator,
// user 1, who installed the app, and registers the connector.
func (w *world) install() uint64 {
	w.t.Helper()
	ctx := context.Background()
	access, refresh := w.b24.IssueTokens(1, true)
	p, err := w.portals.Upsert(ctx, portal.Install{
		MemberID: w.b24.MemberID(), Domain: w.b24.Domain(),
		ClientEndpoint: w.b24.ClientEndpoint(), ServerEndpoint: w.b24.ServerEndpoint(),
		AccessToken: access, RefreshToken: refresh, ExpiresAt: time.Now().Add(time.Hour),
		Lang: "en", InstallerUserID: 1,
	})
	if err != nil {
		w.t.Fatal(err)
	}
	err = w.client.Call(ctx, p.ID, "imconnector.register", map[string]any{
		"ID": testConnectorID, "NAME": "WhatsApp", "PLACEMENT_HANDLER": "http://127.0.0.1/settings",
		"ICON": map[string]any{"DATA_IMAGE": "data:image/svg+xml,%3Csvg%3E%3C/svg%3E"},
	}, nil)
	if err != nil {
		w.t.Fatalf("register connector: %v", err)
	}
	return p.ID
}

// manager returns a session manager of instance on backend. Its background
// loops run hourly, so only the test's calls act.
func (w *world) manager(instance string, backend wa.Backend) *connector.Manager {
	w.t.Helper()
	m := connector.NewManager(w.db, backend, connector.ManagerOptions{
		Log: dbtest.Logger(w.t), InstanceID: instance, B24: w.client, ConnectorID: testConnectorID,
		Now: w.clock.Now, ReconnectJitter: time.Millisecond, LeaseRenewInterval: time.Hour,
		MaintenanceInterval: time.Hour, HealthInterval: time.Hour,
	})
	w.t.Cleanup(func() { _ = m.Close(context.Background()) })
	return m
}

// service returns a billing service with the test options on the world's
// clock, REST client and the given session manager.
func (w *world) service(sessions Logouter) *Service {
	w.t.Helper()
	return newTestService(w.t, w.db, sessions, w.client, testOptions(w.clock.Now))
}

// line creates an open line of the world's portal at the current time.
func (w *world) line(m *connector.Manager, lineID, name string) *connector.Line {
	w.t.Helper()
	l, err := m.Lines().Ensure(context.Background(), w.portalID, lineID, testConnectorID, name)
	if err != nil {
		w.t.Fatal(err)
	}
	return l
}

// pair links phone to the line by scanning its QR code in the simulator and
// waits until the line is connected.
func (w *world) pair(m *connector.Manager, lineID uint64, phone string) {
	w.t.Helper()
	ctx := context.Background()
	if _, err := m.StartPairing(ctx, lineID, connector.PairingOptions{Via: "qr"}); err != nil {
		w.t.Fatalf("start pairing: %v", err)
	}
	var qr string
	w.waitFor("a QR code", func() bool {
		st, err := m.PairingStatus(ctx, lineID)
		if err != nil {
			w.t.Fatalf("pairing status: %v", err)
		}
		qr = st.QR
		return st.Step == connector.PairingQR && qr != ""
	})
	if _, err := w.sim.Scan(qr, phone, "Shop "+phone); err != nil {
		w.t.Fatalf("scan: %v", err)
	}
	w.waitFor("state connected", func() bool { return w.get(lineID).State == connector.StateConnected })
}

func (w *world) get(lineID uint64) *connector.Line {
	w.t.Helper()
	l, err := connector.NewLineStore(w.db).Get(context.Background(), lineID)
	if err != nil {
		w.t.Fatal(err)
	}
	return l
}

// waitFor polls cond for up to five seconds.
func (w *world) waitFor(what string, cond func() bool) {
	w.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			w.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// notes returns the messages of the im.notify.system.add calls so far.
func (w *world) notes() []string {
	var out []string
	for _, n := range w.b24.Notifications() {
		out = append(out, n.Message)
	}
	return out
}

// deactivations counts the imconnector.activate calls with ACTIVE 0.
func (w *world) deactivations() int {
	n := 0
	for _, c := range w.b24.CallsTo("imconnector.activate") {
		if c.Error == "" && paramText(c.Params["ACTIVE"]) == "0" {
			n++
		}
	}
	return n
}

// paramText renders a recorded parameter: JSON numbers are json.Number.
func paramText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case interface{ String() string }:
		return x.String()
	}
	return ""
}

// check runs one scheduler pass and fails the test on error.
func check(t *testing.T, s *Service) {
	t.Helper()
	if err := s.Check(context.Background()); err != nil {
		t.Fatalf("check: %v", err)
	}
}
