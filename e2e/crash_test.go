package e2e

import (
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/wabridge/b24wa/internal/dbtest"
	"github.com/wabridge/b24wa/portal/b24fake"
)

// Defaults of the short crash test that CI runs. CRASH_ITERATIONS and
// CRASH_SEED change them (docs/CRASHTEST.md).
const (
	defaultCrashIterations = 4
	// drainTimeout bounds the last clean run in which every queue empties.
	drainTimeout = 90 * time.Second
)

// TestCrash kills the binary with SIGKILL at random moments while customer
// and operator messages flow, restarts it, and after a last clean run
// requires every message delivered, in order per chat, with duplicates only
// as replays of the same id.
func TestCrash(t *testing.T) {
	iterations := envInt(t, "CRASH_ITERATIONS", defaultCrashIterations)
	seed := uint64(envInt(t, "CRASH_SEED", int(time.Now().UnixNano()%1_000_000_007)))
	t.Logf("crash test: %d kills per database, seed %d (set CRASH_SEED=%d to repeat the schedule)", iterations, seed, seed)

	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		runCrash(t, "", iterations, seed)
	})
	t.Run("mariadb", func(t *testing.T) {
		t.Parallel()
		name, _ := dbtest.NewMySQLDatabase(t)
		runCrash(t, dbtest.URL(t, name), iterations, seed+1)
	})
}

func runCrash(t *testing.T, dbURL string, iterations int, seed uint64) {
	started := time.Now()
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	// The portal and the app allow more calls than Bitrix24's default
	// bucket and pace WhatsApp sends faster than the default 1 s, so the
	// test spends its time on crashes rather than on waiting.
	fake := b24fake.New(b24fake.Options{RateBurst: 1000, RatePerSec: 200})
	t.Cleanup(fake.Close)
	f := &flow{t: t, ctx: t.Context(), fake: fake, dbURL: dbURL}
	f.a = startApp(t, appOptions{DatabaseURL: dbURL, Portal: fake, Env: map[string]string{
		"B24_RATE_BURST": "1000", "B24_RATE_PER_SEC": "200", "WA_SEND_INTERVAL": "20ms",
	}})
	f.install()
	f.openSettings()
	f.jids = append(f.jids, f.pairOnSettingsPage())
	f.checkActivated()

	tr := newTraffic(f)
	tr.greet()
	for i := range iterations {
		plan := newBatchPlan(rng)
		if plan.afterConnect {
			tr.waitConnected()
		}
		batch := tr.run(plan)
		time.Sleep(plan.killAfter)
		in, out := tr.counts()
		t.Logf("kill %d after %s (customer messages sent %d, operator messages sent %d), down for %s",
			i+1, plan.killAfter, in, out, plan.downtime)
		f.a.kill()
		time.Sleep(plan.downtime)
		f.a.start()
		batch.wait()
	}
	tr.run(newBatchPlan(rng)).wait()
	tr.drain(drainTimeout)
	res := tr.check()
	f.a.stop()

	res.failedDeliveries = f.countFailedDeliveries()
	if res.failedDeliveries > 0 {
		t.Errorf("%d deliveries failed for good in the database", res.failedDeliveries)
	}
	res.kills, res.runs, res.elapsed = iterations, f.a.runs, time.Since(started).Round(time.Second)
	t.Log(res.String())
}

// envInt reads a non-negative integer from the environment, or returns def.
func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	raw := os.Getenv(name)
	if raw == "" {
		return def
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 0 {
		t.Fatalf("%s=%q is not a non-negative integer", name, raw)
	}
	return n
}
