// Package simulator is an in-memory wa.Backend that plays the customer's
// phone, the business phone and WhatsApp's servers, so the bridge runs end
// to end without network. Sessions emit whatsmeow's real event types with
// real waE2E messages, on whatsmeow's schedules: QR rotation, the offline
// queue and redelivery of unacknowledged messages. A control API (Go
// methods here, JSON routes in handlers.RegisterSimulator) lets a test or a
// person scan codes, write as a customer, read what the app sent and break
// the connection in the ways WhatsApp does.
package simulator

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync"
	"time"

	"go.mau.fi/whatsmeow/types"

	"github.com/wabridge/b24wa/connector/wa"
)

// Default timings, chosen short enough for people trying the simulator and
// overridable in Options.
const (
	defaultReconnectDelay = 2 * time.Second
	defaultPairCodeLimit  = 3
	defaultPlatform       = "smba"
)

// Options configure a Simulator. The zero value works.
type Options struct {
	// Clock drives QR rotation, reconnects, bans and timestamps; nil uses the
	// system clock. Tests pass a FakeClock.
	Clock Clock
	// Log receives the simulator's own records; nil discards them.
	Log *slog.Logger
	// ReconnectDelay is how long a dropped session waits before it
	// reconnects by itself (default 2 s).
	ReconnectDelay time.Duration
	// PairCodeLimit is how many PairPhone requests one pairing may make
	// before WhatsApp returns 429 rate-overlimit (default 3).
	PairCodeLimit int
	// Platform is the platform the phone reports when pairing (default
	// "smba", WhatsApp Business on Android).
	Platform string
	// SendFailures makes sends to these customer numbers (digits) fail.
	SendFailures map[string]SendFailure
	// StatePath, when set, is a JSON file where the simulator keeps linked
	// devices, unacknowledged events, the log of sent messages and read
	// receipts, and media (in the directory StatePath + ".media"), so a
	// restarted app finds its devices and gets its unacknowledged messages
	// again. Every change is written before the call that made it returns.
	// With StatePath set, Inbound also treats a message id it already
	// accepted for the same number as a retry of that call.
	StatePath string
}

// Simulator implements wa.Backend in memory. It is safe for concurrent use.
type Simulator struct {
	clock Clock
	log   *slog.Logger
	opts  Options

	mu           sync.Mutex
	closed       bool
	devices      map[types.JID]*device // keyed by the device JID, e.g. 79001234567:3@s.whatsapp.net
	sessions     map[*session]struct{}
	qrs          map[string]*pairing // current QR code → its pairing
	pairCodes    map[string]*pairing // pairing code without dash → its pairing
	pairings     []*pairing          // running pairings, oldest first
	deviceSeq    map[string]uint16   // phone → last device number handed out
	media        map[string][]byte   // direct path → plaintext
	lidToPN      map[string]string   // customer LID user → phone digits
	sendFailures map[string]SendFailure
	outdated     bool
	connSeq      uint64 // last connection number handed out
	// inboundIDs holds the inboundKey of every Inbound call with an explicit
	// id, and mediaFiles the file name of every saved media path; both are
	// used only with StatePath.
	inboundIDs map[string]bool
	mediaFiles map[string]string
	// avatars maps a customer's phone digits or LID digits to the profile
	// picture set with SetAvatar; avatarSeq is the last picture id.
	avatars   map[string]avatar
	avatarSeq uint64
}

var _ wa.Backend = (*Simulator)(nil)

// New returns an empty simulator: no devices, no customers. With
// StatePath set it starts from that file instead, like Load, and panics when
// the file cannot be loaded; use Load to handle that error.
func New(opts Options) *Simulator {
	if opts.StatePath != "" {
		s, err := Load(opts)
		if err != nil {
			panic("simulator: " + err.Error())
		}
		return s
	}
	return newSimulator(opts)
}

func newSimulator(opts Options) *Simulator {
	if opts.Clock == nil {
		opts.Clock = realClock{}
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.ReconnectDelay <= 0 {
		opts.ReconnectDelay = defaultReconnectDelay
	}
	if opts.PairCodeLimit <= 0 {
		opts.PairCodeLimit = defaultPairCodeLimit
	}
	if opts.Platform == "" {
		opts.Platform = defaultPlatform
	}
	failures := make(map[string]SendFailure, len(opts.SendFailures))
	for phone, failure := range opts.SendFailures {
		failures[phone] = failure
	}
	return &Simulator{
		clock:        opts.Clock,
		log:          opts.Log,
		opts:         opts,
		devices:      make(map[types.JID]*device),
		sessions:     make(map[*session]struct{}),
		qrs:          make(map[string]*pairing),
		pairCodes:    make(map[string]*pairing),
		deviceSeq:    make(map[string]uint16),
		media:        make(map[string][]byte),
		lidToPN:      make(map[string]string),
		sendFailures: failures,
		inboundIDs:   make(map[string]bool),
		mediaFiles:   make(map[string]string),
		avatars:      make(map[string]avatar),
	}
}

// Open returns a session for a linked device, or an unpaired one when jid
// is empty. It returns wa.ErrDeviceNotFound for an unknown JID.
func (s *Simulator) Open(ctx context.Context, jid types.JID, handler wa.EventHandler, opts wa.OpenOptions) (wa.Session, error) {
	if handler == nil {
		return nil, fmt.Errorf("open session: %w: nil event handler", ErrInvalidRequest)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}

	sess := newSession(s, handler, opts)
	if !jid.IsEmpty() {
		dev := s.devices[jid]
		if dev == nil {
			return nil, fmt.Errorf("open session for %s: %w", jid, wa.ErrDeviceNotFound)
		}
		sess.dev = dev
	}
	s.sessions[sess] = struct{}{}
	return sess, nil
}

// Devices lists the JIDs of every device in the simulated store, including
// those removed on the phone while offline: like whatsmeow's store they are
// deleted only when the next connect is refused.
func (s *Simulator) Devices(ctx context.Context) ([]types.JID, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]types.JID, 0, len(s.devices))
	for jid := range s.devices {
		out = append(out, jid)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, nil
}

// DeleteDevice removes a device and disconnects its sessions without
// telling the phone.
func (s *Simulator) DeleteDevice(ctx context.Context, jid types.JID) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	dev := s.devices[jid]
	if dev == nil {
		return fmt.Errorf("delete device %s: %w", jid, wa.ErrDeviceNotFound)
	}
	s.removeDeviceLocked(dev)
	return s.saveLocked()
}

// Close disconnects every session and stops every timer. Later calls to
// Open fail with ErrClosed.
func (s *Simulator) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for sess := range s.sessions {
		s.disconnectLocked(sess)
	}
	return nil
}

// removeDeviceLocked deletes dev from the store and logs out every session
// bound to it. The caller holds s.mu.
func (s *Simulator) removeDeviceLocked(dev *device) {
	delete(s.devices, dev.jid)
	dev.removed = true
	for sess := range s.sessions {
		if sess.dev == dev {
			s.disconnectLocked(sess)
			sess.loggedIn = false
			sess.dev = nil
		}
	}
}

// findDevicesLocked returns the devices linked with a business number,
// newest first. The caller holds s.mu.
func (s *Simulator) findDevicesLocked(phone string) []*device {
	var out []*device
	for _, dev := range s.devices {
		if dev.phone == phone {
			out = append(out, dev)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].jid.Device > out[j].jid.Device })
	return out
}

// linkedDeviceLocked returns the newest device of phone that is still
// linked on the phone's side, or nil. The caller holds s.mu.
func (s *Simulator) linkedDeviceLocked(phone string) *device {
	for _, dev := range s.findDevicesLocked(phone) {
		if !dev.unlinked {
			return dev
		}
	}
	return nil
}
