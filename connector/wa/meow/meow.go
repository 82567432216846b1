// Package meow is the wa.Backend that talks to WhatsApp's servers through
// go.mau.fi/whatsmeow, with device keys in connector/wastore. Each Session
// wraps one whatsmeow.Client configured for at-least-once delivery: a
// message is acknowledged only after the app's handler stored it.
package meow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"

	"github.com/wabridge/b24wa/connector/wa"
	"github.com/wabridge/b24wa/connector/wastore"
)

// Defaults of Options.
const (
	defaultReconnectBase = 2 * time.Second
	defaultReconnectMax  = 60 * time.Second
	// defaultPairDisplayName is shown on the phone for a device linked by
	// code. WhatsApp accepts only "Browser (OS)" with common names and
	// returns 400 otherwise.
	defaultPairDisplayName = "Chrome (Linux)"
)

// Options tune the backend. The zero value uses the defaults.
type Options struct {
	// ReconnectBase is the delay after the first failed reconnect; each
	// further failure doubles it up to ReconnectMax (default 2 s and 60 s).
	// A random part of up to half of each delay spreads reconnects of many
	// lines after an outage.
	ReconnectBase time.Duration
	ReconnectMax  time.Duration
	// PairDisplayName is the client name PairPhone shows on the phone
	// (default "Chrome (Linux)").
	PairDisplayName string
	// HTTPClient downloads profile pictures from WhatsApp's CDN (nil uses a
	// new http.Client). whatsmeow's own media client is not exported.
	HTTPClient *http.Client
}

func (o Options) withDefaults() Options {
	if o.ReconnectBase <= 0 {
		o.ReconnectBase = defaultReconnectBase
	}
	if o.ReconnectMax <= 0 {
		o.ReconnectMax = defaultReconnectMax
	}
	if o.ReconnectMax < o.ReconnectBase {
		o.ReconnectMax = o.ReconnectBase
	}
	if o.PairDisplayName == "" {
		o.PairDisplayName = defaultPairDisplayName
	}
	return o
}

// Backend opens whatsmeow sessions on devices kept in a wastore.Container.
// It is safe for concurrent use.
type Backend struct {
	container *wastore.Container
	log       *slog.Logger
	opts      Options

	// ctx is every client's background context; Close cancels it, which
	// stops pending automatic reconnects.
	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	sessions map[*Session]struct{} // sessions with a connection or a running pairing
	closed   bool
}

var _ wa.Backend = (*Backend)(nil)

// New returns a backend on container. log receives the backend's records
// and, through wa.NewLogger, whatsmeow's.
func New(container *wastore.Container, log *slog.Logger, opts Options) *Backend {
	ctx, cancel := context.WithCancel(context.Background())
	return &Backend{
		container: container,
		log:       log.With("component", "whatsmeow"),
		opts:      opts.withDefaults(),
		ctx:       ctx,
		cancel:    cancel,
		sessions:  make(map[*Session]struct{}),
	}
}

// Open returns a session on the stored device jid, or on a new unpaired
// device when jid is empty. Nothing connects until Connect or PairQR.
func (b *Backend) Open(ctx context.Context, jid types.JID, handler wa.EventHandler, opts wa.OpenOptions) (wa.Session, error) {
	if handler == nil {
		return nil, errors.New("open WhatsApp session: nil event handler")
	}
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed {
		return nil, errors.New("open WhatsApp session: backend is closed")
	}

	device, err := b.device(ctx, jid)
	if err != nil {
		return nil, err
	}
	log := opts.Log
	if log == nil {
		log = b.log
	}
	if !jid.IsEmpty() {
		log = log.With("wa_jid", jid.String())
	}
	return newSession(b, device, handler, opts, log), nil
}

// device loads a stored device or creates an unpaired one.
func (b *Backend) device(ctx context.Context, jid types.JID) (*store.Device, error) {
	if jid.IsEmpty() {
		return b.container.NewDevice(), nil
	}
	device, err := b.container.GetDevice(ctx, jid)
	if err != nil {
		return nil, fmt.Errorf("load WhatsApp device %s: %w", jid, err)
	}
	if device == nil {
		return nil, fmt.Errorf("load WhatsApp device %s: %w", jid, wa.ErrDeviceNotFound)
	}
	return device, nil
}

// Devices lists the JIDs of every stored device.
func (b *Backend) Devices(ctx context.Context) ([]types.JID, error) {
	devices, err := b.container.GetAllDevices(ctx)
	if err != nil {
		return nil, fmt.Errorf("list WhatsApp devices: %w", err)
	}
	jids := make([]types.JID, 0, len(devices))
	for _, device := range devices {
		if device.ID != nil {
			jids = append(jids, *device.ID)
		}
	}
	return jids, nil
}

// DeleteDevice disconnects the device's open sessions and deletes its keys
// without telling WhatsApp.
func (b *Backend) DeleteDevice(ctx context.Context, jid types.JID) error {
	device, err := b.device(ctx, jid)
	if err != nil {
		return err
	}
	for _, sess := range b.openSessions() {
		if sess.JID() == jid {
			sess.Disconnect()
		}
	}
	if err := b.container.DeleteDevice(ctx, device); err != nil {
		return fmt.Errorf("delete WhatsApp device %s: %w", jid, err)
	}
	return nil
}

// Close disconnects every session and stops automatic reconnects.
func (b *Backend) Close() error {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	for _, sess := range b.openSessions() {
		sess.Disconnect()
	}
	b.cancel()
	return nil
}

func (b *Backend) openSessions() []*Session {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]*Session, 0, len(b.sessions))
	for sess := range b.sessions {
		out = append(out, sess)
	}
	return out
}

func (b *Backend) track(sess *Session, open bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if open {
		b.sessions[sess] = struct{}{}
	} else {
		delete(b.sessions, sess)
	}
}
