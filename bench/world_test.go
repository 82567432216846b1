package bench

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm"

	"github.com/wabridge/b24wa/connector"
	"github.com/wabridge/b24wa/connector/bridge"
	"github.com/wabridge/b24wa/connector/wa/simulator"
	"github.com/wabridge/b24wa/internal/database"
	"github.com/wabridge/b24wa/internal/dbtest"
	"github.com/wabridge/b24wa/internal/secrets"
	"github.com/wabridge/b24wa/migrations"
	"github.com/wabridge/b24wa/portal"
	"github.com/wabridge/b24wa/portal/b24fake"
	"github.com/wabridge/b24wa/static"
)

const (
	connectorID = "b24wa_whatsapp"
	shopPhone   = "79001234567"
	// benchSecret is the SECRET_KEY of the benchmarks' Box, 32 bytes.
	benchSecret = "bench-secret-key-0123456789abcde"
)

// eachDB runs fn as a sub-benchmark on a fresh SQLite database and, when
// TEST_MYSQL_URL is set, on a fresh MariaDB database.
func eachDB(b *testing.B, fn func(b *testing.B, db *gorm.DB)) {
	b.Helper()
	b.Run("sqlite", func(b *testing.B) {
		target, err := database.ParseURL("sqlite://"+filepath.Join(b.TempDir(), "bench.db"), "")
		if err != nil {
			b.Fatal(err)
		}
		fn(b, openMigrated(b, target))
	})
	b.Run("mysql", func(b *testing.B) {
		_, target := dbtest.NewMySQLDatabase(b)
		fn(b, openMigrated(b, target))
	})
}

// openMigrated opens and migrates a database with a logger that discards
// records, so that queries cancelled while the services stop do not fill
// the output of a -v run.
func openMigrated(b *testing.B, target database.Target) *gorm.DB {
	b.Helper()
	ctx := context.Background()
	db, err := database.Open(ctx, target, quietLog())
	if err != nil {
		b.Fatal(err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = sqlDB.Close() })
	if err := migrations.Up(ctx, sqlDB, string(target.Dialect)); err != nil {
		b.Fatalf("migrate %s: %v", target.Dialect, err)
	}
	return db
}

// quietLog discards records, because the benchmarks measure the work and
// not the cost of writing logs to a terminal.
func quietLog() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// world is one installed portal on a fake Bitrix24 with one open line
// linked to a simulated WhatsApp number, wired as the app wires it. The
// session manager forwards WhatsApp events to the bridge, and the bridge
// sends through the manager's sessions and the REST client.
type world struct {
	db      *gorm.DB
	fake    *b24fake.Portal
	store   *portal.Store
	client  *portal.Client
	metrics *prometheus.Registry
	portal  *portal.Portal
	sim     *simulator.Simulator
	bridge  *bridge.Bridge
	manager *connector.Manager
	line    connector.Line
}

// worldOptions choose the fake portal's limits and the base URL the
// bridge puts in re-hosted media links.
type worldOptions struct {
	fake      b24fake.Options
	publicURL string
}

// newWorld builds and starts a world on db and waits until its line is
// connected. The REST client keeps its production defaults: a bucket of 50
// requests drained at 2 per second and a first retry after 1 s.
func newWorld(b *testing.B, db *gorm.DB, o worldOptions) *world {
	b.Helper()
	w := &world{db: db, fake: b24fake.New(o.fake), metrics: prometheus.NewRegistry()}
	b.Cleanup(w.fake.Close)

	box, err := secrets.New([]byte(benchSecret))
	if err != nil {
		b.Fatal(err)
	}
	w.store = portal.NewStore(db, box)
	w.client = portal.NewClient(w.store, portal.ClientOptions{
		ClientID: w.fake.ClientID(), ClientSecret: w.fake.ClientSecret(),
		AllowInsecureHTTP: true, Registerer: w.metrics, Log: quietLog(),
	})
	w.installPortal(b)
	w.linkLine(b)
	w.startServices(b, o.publicURL)
	return w
}

// installPortal stores the portal with an administrator's tokens and
// registers the connector on open line 1, as an installation leaves them.
func (w *world) installPortal(b *testing.B) {
	b.Helper()
	ctx := context.Background()
	access, refresh := w.fake.IssueTokens(1, true)
	p, err := w.store.Upsert(ctx, portal.Install{
		MemberID: w.fake.MemberID(), Domain: w.fake.Domain(), ClientEndpoint: w.fake.ClientEndpoint(),
		ServerEndpoint: w.fake.ServerEndpoint(), AccessToken: access, RefreshToken: refresh,
		ExpiresAt: time.Now().Add(time.Hour), ApplicationToken: w.fake.ApplicationToken(),
		Lang: "en", InstallerUserID: 1,
	})
	if err != nil {
		b.Fatal(err)
	}
	w.portal = p

	calls := []struct {
		method string
		params map[string]any
	}{
		{"imconnector.register", map[string]any{
			"ID": connectorID, "NAME": "WhatsApp",
			"ICON":              map[string]any{"DATA_IMAGE": "data:image/svg+xml,%3Csvg%3E%3C/svg%3E"},
			"PLACEMENT_HANDLER": "http://127.0.0.1/settings",
		}},
		{"imconnector.activate", map[string]any{"CONNECTOR": connectorID, "LINE": 1, "ACTIVE": "1"}},
	}
	for _, c := range calls {
		if err := w.client.Call(ctx, p.ID, c.method, c.params, nil); err != nil {
			b.Fatalf("%s: %v", c.method, err)
		}
	}
}

// linkLine links a simulated business number and stores open line 1 as
// linked to it and active in Bitrix24.
func (w *world) linkLine(b *testing.B) {
	b.Helper()
	w.sim = simulator.New(simulator.Options{})
	b.Cleanup(func() { _ = w.sim.Close() })
	jid, err := w.sim.LinkDevice(shopPhone, "Shop")
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	w.line = connector.Line{
		PortalID: w.portal.ID, LineID: "1", ConnectorID: connectorID, Name: "Sales",
		State: connector.StateDisconnected, StateSince: now, WaJID: jid.String(), Phone: shopPhone,
		PushName: "Shop", B24Active: true, CreatedAt: now, UpdatedAt: now,
	}
	if err := w.db.Create(&w.line).Error; err != nil {
		b.Fatal(err)
	}
}

// startServices builds the bridge and the session manager in the order
// the app must use (the manager takes the bridge as its sink, the bridge
// then gets the manager's sessions), starts both and waits for the line.
func (w *world) startServices(b *testing.B, publicURL string) {
	b.Helper()
	ctx := context.Background()
	if publicURL == "" {
		publicURL = "http://127.0.0.1"
	}
	w.bridge = bridge.New(bridge.Options{
		DB: w.db, Caller: w.client, Texts: static.MustCatalog(), Log: quietLog(),
		PublicURL: publicURL, DataDir: b.TempDir(), InstanceID: "bench",
	})
	w.manager = connector.NewManager(w.db, w.sim, connector.ManagerOptions{
		Log: quietLog(), InstanceID: "bench", B24: w.client, ConnectorID: connectorID,
		Sink: w.bridge, ReconnectJitter: 10 * time.Millisecond,
	})
	if err := w.bridge.SetSessions(w.manager, w.manager); err != nil {
		b.Fatal(err)
	}
	if err := w.bridge.Start(ctx); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = w.bridge.Close(context.Background()) })
	if err := w.manager.Start(ctx); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = w.manager.Close(context.Background()) })

	waitUntil(b, "line connected", 30*time.Second, func() bool {
		_, ok := w.manager.Session(w.line.ID)
		return ok
	})
}

// drainBucket waits until the requests made so far have left the portal's
// leaky bucket, which never contains more than burst, so a measurement
// starts with the full burst available.
func (w *world) drainBucket(burst int, ratePerSec float64) {
	requests := float64(min(len(w.fake.Calls()), burst))
	time.Sleep(time.Duration(requests/ratePerSec*float64(time.Second)) + 250*time.Millisecond)
}

// clientErrors returns the client's b24_rest_errors_total for one error
// code, summed over methods.
func (w *world) clientErrors(b *testing.B, code string) int {
	b.Helper()
	families, err := w.metrics.Gather()
	if err != nil {
		b.Fatal(err)
	}
	total := 0.0
	for _, f := range families {
		if f.GetName() != "b24_rest_errors_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "code" && l.GetValue() == code {
					total += m.GetCounter().GetValue()
				}
			}
		}
	}
	return int(total)
}

// openDeliveries counts the deliveries of one direction that are not done
// or failed yet.
func (w *world) openDeliveries(b *testing.B, direction string) int64 {
	b.Helper()
	var n int64
	err := w.db.Model(&connector.Delivery{}).
		Where("direction = ? AND state IN ?", direction, []string{connector.DeliveryPending, connector.DeliveryInFlight}).
		Count(&n).Error
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// waitUntil polls cond every 20 ms and fails the benchmark after limit.
func waitUntil(b *testing.B, what string, limit time.Duration, cond func() bool) {
	b.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			b.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
