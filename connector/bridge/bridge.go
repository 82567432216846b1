// Package bridge moves messages between WhatsApp and Bitrix24 Open Lines.
// Every hand-off is stored as a connector.Delivery before it is
// acknowledged: a WhatsApp message before whatsmeow acks it, an operator
// message before the event handler responds. Per-portal workers then send
// customer messages with imconnector.send.messages, and per-line workers
// send operator messages through the line's WhatsApp session, each keeping
// the order of every chat.
package bridge

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/connector/wa"
)

// Options configure a Bridge. Zero durations and sizes take the defaults
// given in their comments.
type Options struct {
	DB     *gorm.DB
	Caller Caller
	// Sessions may be nil at New and set with SetSessions before Start.
	Sessions Sessions
	// Lines receives OnImConnectorStatusDelete and OnImConnectorLineDelete;
	// nil ignores them.
	Lines LineEvents
	Texts Translator
	Log   *slog.Logger

	// PublicURL is the base URL the portal downloads re-hosted media from.
	PublicURL string
	// DataDir is the service's data directory; media go to DataDir/media.
	DataDir string
	// InstanceID names this instance in delivery locks (default host name
	// and process id).
	InstanceID string

	MediaTTL          time.Duration // lifetime of a re-hosted media URL (7 days)
	MaxInboundMedia   int64         // largest WhatsApp media re-hosted, bytes (100 MiB)
	MaxOutboundFile   int64         // largest operator file sent to WhatsApp, bytes (64 MiB)
	BatchSize         int           // messages per imconnector.send.messages call (10)
	PollInterval      time.Duration // fallback scan for due deliveries (5s)
	LockTTL           time.Duration // how long a claimed delivery stays locked (5m)
	RetryBase         time.Duration // first retry delay, doubled per attempt with jitter (2s)
	RetryMax          time.Duration // maximum retry delay (10m)
	InactiveRetry     time.Duration // retry delay while the open line is not active (1m)
	MaxAttempts       int           // attempts before a message fails for good (8)
	SendInterval      time.Duration // pause between messages of one WhatsApp number (1s)
	SendBurst         int           // messages a number may send without pause (3)
	EditWindow        time.Duration // how long WhatsApp allows edits (15m)
	RevokeWindow      time.Duration // how long WhatsApp allows deletes for everyone (48h)
	WorkerIdle        time.Duration // a worker with nothing to do exits after this (30s)
	DownloadTimeout   time.Duration // bound of one file download from a portal (2m)
	AvatarTimeout     time.Duration // bound of one profile picture lookup and download (3s)
	AvatarInterval    time.Duration // minimum time between picture lookups of one chat (24h)
	AllowInsecureHTTP bool          // accept http file links from loopback portals (tests)
	// HTTPClient downloads operator files (default a new http.Client). Its
	// redirects are always limited to the portal's origin.
	// NOTE: addresses are checked with portal.ValidateEndpoint before each
	// request, not at dial time, so a DNS answer that changes in between is
	// not caught unless this client's dialer checks addresses itself.
	HTTPClient *http.Client
	// Now is the clock (default time.Now); times are stored in UTC.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	setDuration(&o.MediaTTL, 7*24*time.Hour)
	setDuration(&o.PollInterval, 5*time.Second)
	setDuration(&o.LockTTL, 5*time.Minute)
	setDuration(&o.RetryBase, 2*time.Second)
	setDuration(&o.RetryMax, 10*time.Minute)
	setDuration(&o.InactiveRetry, time.Minute)
	setDuration(&o.SendInterval, time.Second)
	setDuration(&o.EditWindow, 15*time.Minute)
	setDuration(&o.RevokeWindow, 48*time.Hour)
	setDuration(&o.WorkerIdle, 30*time.Second)
	setDuration(&o.DownloadTimeout, 2*time.Minute)
	setDuration(&o.AvatarTimeout, 3*time.Second)
	setDuration(&o.AvatarInterval, 24*time.Hour)

	if o.MaxInboundMedia <= 0 {
		o.MaxInboundMedia = 100 << 20
	}
	if o.MaxOutboundFile <= 0 {
		o.MaxOutboundFile = 64 << 20
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 10
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 8
	}
	if o.SendBurst <= 0 {
		o.SendBurst = 3
	}

	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.InstanceID == "" {
		host, _ := os.Hostname()
		o.InstanceID = host + "-" + randomHex(4)
	}
	o.PublicURL = strings.TrimRight(o.PublicURL, "/")
	return o
}

func setDuration(d *time.Duration, def time.Duration) {
	if *d <= 0 {
		*d = def
	}
}

// Bridge stores and delivers messages both ways. Create it with New, start
// its workers with Start and stop them with Close.
type Bridge struct {
	opts     Options
	db       *gorm.DB
	log      *slog.Logger
	mediaDir string
	http     *http.Client

	wakeCh chan struct{}

	mu      sync.Mutex
	started bool
	closed  bool
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	portals map[uint64]*worker // inbound workers by portal id
	lines   map[uint64]*worker // outbound workers by line id
	pacers  map[uint64]*pacer  // send pacing by line id
}

// New returns a Bridge with opts; nothing runs until Start.
func New(opts Options) *Bridge {
	opts = opts.withDefaults()
	b := &Bridge{
		opts:     opts,
		db:       opts.DB,
		log:      opts.Log,
		mediaDir: filepath.Join(opts.DataDir, "media"),
		wakeCh:   make(chan struct{}, 1),
		portals:  map[uint64]*worker{},
		lines:    map[uint64]*worker{},
	}
	b.http = opts.HTTPClient
	if b.http == nil {
		b.http = &http.Client{}
	}
	return b
}

// SetSessions sets the session manager after New, because the manager
// itself is built with the bridge as its message sink. Call it before Start
// and before the manager connects any line; it returns ErrStarted after Start.
func (b *Bridge) SetSessions(s Sessions, lines LineEvents) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.started {
		return ErrStarted
	}
	b.opts.Sessions, b.opts.Lines = s, lines
	return nil
}

// session returns the line's live session on this instance.
func (b *Bridge) session(lineID uint64) (wa.Session, bool) {
	if b.opts.Sessions == nil {
		return nil, false
	}
	return b.opts.Sessions.Session(lineID)
}

// now returns the clock's time in UTC with microseconds, the precision
// MySQL's DATETIME(6) keeps, so stored and compared times agree.
func (b *Bridge) now() time.Time {
	return b.opts.Now().UTC().Truncate(time.Microsecond)
}

// wake makes the dispatcher scan for due deliveries now.
func (b *Bridge) wake() {
	select {
	case b.wakeCh <- struct{}{}:
	default:
	}
}
