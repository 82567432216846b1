package connector

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm"

	"github.com/wabridge/b24wa/connector/wa"
)

// Caller calls a Bitrix24 REST method of a portal and decodes the result
// into out. portal.Client satisfies it.
type Caller interface {
	Call(ctx context.Context, portalID uint64, method string, params any, out any) error
}

// MessageSink receives the WhatsApp events that carry chat content:
// *events.Message, *events.Receipt, *events.UndecryptableMessage,
// *events.HistorySync and *events.MediaRetry. The bridge implements it. It
// must return nil only after storing what it needs, because a non-nil error
// is passed back to the backend and the message is not acknowledged.
type MessageSink interface {
	HandleWhatsApp(ctx context.Context, line *Line, evt any) error
}

// ManagerOptions configure a Manager. Zero durations and counts take the
// defaults named on each field.
type ManagerOptions struct {
	Log *slog.Logger
	// InstanceID names this process in line_leases; default host name and
	// process id. It must differ between instances sharing one database.
	InstanceID string
	// B24 makes the imconnector calls of pairing, logout and repair; nil
	// skips them (tools and tests without a portal).
	B24 Caller
	// ConnectorID is the Open Lines connector id used for lines whose row
	// has none.
	ConnectorID string
	// Sink receives message events; nil drops them after logging.
	Sink MessageSink
	// Now is the clock for stored times and pairing deadlines; default
	// time.Now. Loop intervals run on the real clock.
	Now func() time.Time

	// LeaseTTL is how long a lease lives without renewal (default 1m);
	// LeaseRenewInterval is how often leases are renewed and expired leases
	// of linked lines taken over (default LeaseTTL/3).
	LeaseTTL           time.Duration
	LeaseRenewInterval time.Duration
	// ReconnectConcurrency bounds how many lines connect at once on Start
	// and takeover (default 8); each waits a random delay of up to
	// ReconnectJitter first (default 2s) so a restart does not burst.
	ReconnectConcurrency int
	ReconnectJitter      time.Duration

	// PairingBound is how long QR pairing restarts automatically when the
	// caller gives no Until (default 10m). PairingMaxRestarts caps the
	// restarts of one attempt (default 10). PairingPollWindow is how
	// recently someone must have read PairingStatus for a restart
	// (default 30s). PairingRetention keeps a finished attempt readable
	// (default 10m).
	PairingBound       time.Duration
	PairingMaxRestarts int
	PairingPollWindow  time.Duration
	PairingRetention   time.Duration

	// MaintenanceInterval is how often failed connects are retried and
	// Bitrix24 activation is repaired (default 30s); HealthInterval is how
	// often imconnector.status is checked for active lines (default 30m).
	MaintenanceInterval time.Duration
	HealthInterval      time.Duration

	// Registerer, when set, gets the manager's Prometheus metrics.
	Registerer prometheus.Registerer
}

func (o ManagerOptions) withDefaults() ManagerOptions {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.InstanceID == "" {
		host, _ := os.Hostname()
		o.InstanceID = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	setDefault(&o.LeaseTTL, time.Minute)
	setDefault(&o.LeaseRenewInterval, o.LeaseTTL/3)
	setDefault(&o.ReconnectJitter, 2*time.Second)
	setDefault(&o.PairingBound, 10*time.Minute)
	setDefault(&o.PairingPollWindow, 30*time.Second)
	setDefault(&o.PairingRetention, 10*time.Minute)
	setDefault(&o.MaintenanceInterval, 30*time.Second)
	setDefault(&o.HealthInterval, 30*time.Minute)
	if o.ReconnectConcurrency <= 0 {
		o.ReconnectConcurrency = 8
	}
	if o.PairingMaxRestarts <= 0 {
		o.PairingMaxRestarts = 10
	}
	return o
}

func setDefault(d *time.Duration, def time.Duration) {
	if *d <= 0 {
		*d = def
	}
}

// Manager owns the WhatsApp clients of the lines this instance leases: at
// most one client per line, connected only by the lease owner. It runs
// pairing, follows each device's state, logs devices out and keeps the
// Bitrix24 side of each line in step.
type Manager struct {
	db      *gorm.DB
	lines   *LineStore
	leases  leaseStore
	backend wa.Backend
	opts    ManagerOptions
	log     *slog.Logger
	metrics *managerMetrics

	// ctx lives until Close; sessions and background work run under it.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// connectSlots bounds the lines connecting at once.
	connectSlots chan struct{}

	mu       sync.Mutex
	started  bool
	closed   bool
	runtimes map[uint64]*lineRuntime
	owned    map[uint64]bool
}

var _ Sessions = (*Manager)(nil)

// lineRuntime is the in-memory side of one line.
type lineRuntime struct {
	// op serialises pairing, connecting, logging out and deleting the line.
	op sync.Mutex

	// The fields below are guarded by Manager.mu.
	live        *client
	attempt     *pairingAttempt
	state       string    // last state this instance wrote or read
	needConnect bool      // the live client is not connected and nothing reconnects it
	retryAt     time.Time // when maintenance calls Connect again
	retryDelay  time.Duration
	repairAt    time.Time // earliest next Bitrix24 repair
	repairDelay time.Duration
	phoneSeenAt time.Time
	cached      *Line
	cachedAt    time.Time
}

// client is one open wa.Session; its event handler is bound to it, so events
// of a replaced session are recognised as stale.
type client struct {
	lineID  uint64
	session wa.Session
}

// NewManager returns a manager of the lines in db. Call Start to connect
// the linked lines and run the background loops, and Close to stop.
func NewManager(db *gorm.DB, backend wa.Backend, opts ManagerOptions) *Manager {
	opts = opts.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	m := &Manager{
		db:       db,
		lines:    newLineStore(db, opts.Now),
		leases:   leaseStore{db: db},
		backend:  backend,
		opts:     opts,
		log:      opts.Log.With("component", "sessions", "instance_id", opts.InstanceID),
		ctx:      ctx,
		cancel:   cancel,
		runtimes: map[uint64]*lineRuntime{},
		owned:    map[uint64]bool{},

		connectSlots: make(chan struct{}, opts.ReconnectConcurrency),
	}
	m.metrics = newManagerMetrics(m, opts.Registerer)
	return m
}

// Lines returns the store the manager writes lines through.
func (m *Manager) Lines() *LineStore { return m.lines }

// InstanceID returns the name this manager holds leases under.
func (m *Manager) InstanceID() string { return m.opts.InstanceID }

// Owns reports whether this instance holds the lease of a line, so only it
// connects the line and works the line's deliveries.
func (m *Manager) Owns(lineID uint64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.owned[lineID]
}

// Session returns the live session of a line owned by this instance while
// its socket is up and the device is logged in.
func (m *Manager) Session(lineID uint64) (wa.Session, bool) {
	m.mu.Lock()
	rt := m.runtimes[lineID]
	var c *client
	if rt != nil && m.owned[lineID] {
		c = rt.live
	}
	m.mu.Unlock()

	if c == nil || !c.session.IsConnected() || !c.session.IsLoggedIn() {
		return nil, false
	}
	return c.session, true
}

func (m *Manager) now() time.Time { return m.opts.Now().UTC() }

// runtime returns the in-memory side of a line, creating it.
func (m *Manager) runtime(lineID uint64) *lineRuntime {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.runtimeLocked(lineID)
}

func (m *Manager) runtimeLocked(lineID uint64) *lineRuntime {
	rt := m.runtimes[lineID]
	if rt == nil {
		rt = &lineRuntime{}
		m.runtimes[lineID] = rt
	}
	return rt
}

// isLive reports whether c is the current live client of its line.
func (m *Manager) isLive(c *client) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	rt := m.runtimes[c.lineID]
	return rt != nil && rt.live == c
}

// checkOpen returns ErrManagerClosed after Close.
func (m *Manager) checkOpen() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrManagerClosed
	}
	return nil
}

// goBackground runs fn under the manager's lifetime context and makes Close
// wait for it.
func (m *Manager) goBackground(fn func(ctx context.Context)) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.wg.Add(1)
	m.mu.Unlock()

	go func() {
		defer m.wg.Done()
		fn(m.ctx)
	}()
}
