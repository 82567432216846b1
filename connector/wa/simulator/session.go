package simulator

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/wabridge/b24wa/connector/wa"
)

// session is one wa.Session: the app's view of a device, like one
// whatsmeow.Client. Fields under "guarded by sim.mu" change only with the
// simulator's lock held.
type session struct {
	sim     *Simulator
	handler wa.EventHandler
	opts    wa.OpenOptions
	log     *slog.Logger

	// guarded by sim.mu
	dev       *device
	pairing   *pairing
	connected bool
	loggedIn  bool
	// autoReconnect is true between Connect and Disconnect (or a failure
	// that whatsmeow does not retry): a dropped connection comes back.
	autoReconnect bool
	conn          uint64 // number of the current connection, unique in the simulator
	reconnect     Timer
	keys          pairKeys

	// dispatchMu makes handler calls of one session sequential, as
	// whatsmeow's node handling is.
	dispatchMu sync.Mutex

	// outMu guards the outbox of connection events, delivered in order by
	// one goroutine that runs only while the outbox is not empty.
	outMu    sync.Mutex
	outbox   []outboxEntry
	draining bool
}

type outboxEntry struct {
	evt   any
	after func()
	done  chan struct{}
}

var _ wa.Session = (*session)(nil)

func newSession(s *Simulator, handler wa.EventHandler, opts wa.OpenOptions) *session {
	log := opts.Log
	if log == nil {
		log = s.log
	}
	return &session{sim: s, handler: handler, opts: opts, log: log}
}

// post queues evt for the handler and then runs after (when not nil), both
// outside every lock. The returned channel is closed once both are done.
func (sess *session) post(evt any, after func()) <-chan struct{} {
	done := make(chan struct{})
	sess.outMu.Lock()
	sess.outbox = append(sess.outbox, outboxEntry{evt: evt, after: after, done: done})
	start := !sess.draining
	sess.draining = true
	sess.outMu.Unlock()
	if start {
		go sess.drain()
	}
	return done
}

func (sess *session) drain() {
	for {
		sess.outMu.Lock()
		if len(sess.outbox) == 0 {
			sess.draining = false
			sess.outbox = nil
			sess.outMu.Unlock()
			return
		}
		entry := sess.outbox[0]
		sess.outbox[0] = outboxEntry{}
		sess.outbox = sess.outbox[1:]
		sess.outMu.Unlock()

		if entry.evt != nil {
			_ = sess.dispatch(entry.evt)
		}
		if entry.after != nil {
			entry.after()
		}
		close(entry.done)
	}
}

// dispatch calls the handler. A panic counts as a failed handler, like in
// whatsmeow, which recovers and does not acknowledge the event.
func (sess *session) dispatch(evt any) (err error) {
	sess.dispatchMu.Lock()
	defer sess.dispatchMu.Unlock()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("event handler panicked on %T: %v", evt, p)
			sess.log.Error("Simulator event handler panicked", "event", fmt.Sprintf("%T", evt), "error", err)
		}
	}()
	return sess.handler(evt)
}

// JID returns the device JID, empty until paired and after logout.
func (sess *session) JID() types.JID {
	s := sess.sim
	s.mu.Lock()
	defer s.mu.Unlock()
	if sess.dev == nil {
		return types.EmptyJID
	}
	return sess.dev.jid
}

// Connect connects a paired device. As in whatsmeow, a refusal by the
// server (device removed, ban, outdated client) is not an error of Connect
// but an event delivered afterwards.
func (sess *session) Connect(ctx context.Context) error {
	s := sess.sim
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return ErrClosed
	case sess.dev == nil:
		return fmt.Errorf("connect: %w", whatsmeow.ErrNotLoggedIn)
	case sess.connected:
		return fmt.Errorf("connect %s: %w", sess.dev.jid, whatsmeow.ErrAlreadyConnected)
	}
	sess.autoReconnect = true
	s.connectLocked(sess)
	return nil
}

// Disconnect closes the connection without an event and keeps the device.
func (sess *session) Disconnect() {
	s := sess.sim
	s.mu.Lock()
	defer s.mu.Unlock()
	s.disconnectLocked(sess)
}

// Logout unlinks the device and deletes it from the store. Without a live
// connection the unlink request fails, so the device is deleted all the same
// and the error wraps wa.ErrRemoteUnlinkFailed and whatsmeow.ErrNotConnected.
func (sess *session) Logout(ctx context.Context) error {
	s := sess.sim
	s.mu.Lock()
	defer s.mu.Unlock()
	dev := sess.dev
	if dev == nil {
		return fmt.Errorf("logout: %w", whatsmeow.ErrNotLoggedIn)
	}
	online := sess.connected && sess.loggedIn
	s.removeDeviceLocked(dev)
	s.persistLocked("logout")
	if !online {
		return fmt.Errorf("logout %s: %w: %w", dev.jid, wa.ErrRemoteUnlinkFailed, whatsmeow.ErrNotConnected)
	}
	return nil
}

// IsConnected reports a live connection, including the pre-login one of a
// running QR pairing.
func (sess *session) IsConnected() bool {
	s := sess.sim
	s.mu.Lock()
	defer s.mu.Unlock()
	return sess.connected
}

// IsLoggedIn reports a paired device whose last connection was accepted and
// that was not logged out, replaced or banned since.
func (sess *session) IsLoggedIn() bool {
	s := sess.sim
	s.mu.Lock()
	defer s.mu.Unlock()
	return sess.loggedIn && sess.dev != nil
}

// NewMessageID returns an id in whatsmeow's GenerateMessageID format.
func (sess *session) NewMessageID() types.MessageID {
	return newWebMessageID()
}

// PNForLID returns the phone JID of a customer LID once a message carried
// both, as whatsmeow's LID store learns it.
func (sess *session) PNForLID(ctx context.Context, lid types.JID) (types.JID, error) {
	s := sess.sim
	s.mu.Lock()
	defer s.mu.Unlock()
	phone, ok := s.lidToPN[lid.User]
	if !ok {
		return types.EmptyJID, nil
	}
	return types.NewJID(phone, types.DefaultUserServer), nil
}

// connectLocked runs the server's side of a connect for a paired session.
// The caller holds s.mu.
func (s *Simulator) connectLocked(sess *session) {
	dev := sess.dev
	now := s.clock.Now()
	switch {
	case dev.unlinked:
		s.removeDeviceLocked(dev)
		s.persistLocked("refused connect")
		sess.autoReconnect = false
		sess.post(&events.LoggedOut{OnConnect: true, Reason: events.ConnectFailureLoggedOut}, nil)
		return
	case s.outdated:
		sess.autoReconnect = false
		sess.post(&events.ClientOutdated{}, nil)
		return
	case now.Before(dev.banUntil):
		sess.autoReconnect = false
		sess.post(&events.TemporaryBan{Code: dev.banCode, Expire: dev.banUntil.Sub(now)}, nil)
		return
	}

	for other := range s.sessions {
		if other != sess && other.dev == dev && other.connected {
			s.disconnectLocked(other)
			other.loggedIn = false
			other.post(&events.StreamReplaced{}, nil)
		}
	}
	s.connSeq++
	sess.conn = s.connSeq
	sess.connected = true
	sess.loggedIn = true
	sess.post(&events.Connected{}, func() { s.flush(dev) })
}

// disconnectLocked closes sess's connection without an event, cancels a
// pending reconnect and ends a running pairing with a timeout item. The
// caller holds s.mu.
func (s *Simulator) disconnectLocked(sess *session) {
	sess.autoReconnect = false
	if sess.reconnect != nil {
		sess.reconnect.Stop()
		sess.reconnect = nil
	}
	if sess.pairing != nil {
		s.finishPairingLocked(sess.pairing, &whatsmeow.QRChannelTimeout, nil)
	}
	sess.connected = false
}

// dropLocked closes sess's connection from the server's side: the handler
// gets Disconnected and a paired session reconnects after ReconnectDelay.
// It returns the channel closed once the handler saw the event, or nil when
// sess was not connected. The caller holds s.mu.
func (s *Simulator) dropLocked(sess *session) <-chan struct{} {
	if !sess.connected {
		return nil
	}
	if p := sess.pairing; p != nil {
		// whatsmeow's QR channel turns Disconnected into its timeout item.
		s.stopPairingLocked(p)
		sess.connected = false
		item := wa.PairItemFromQR(whatsmeow.QRChannelTimeout, nil, "")
		return sess.post(&events.Disconnected{}, func() {
			p.send(item)
			close(p.out)
		})
	}
	sess.connected = false
	done := sess.post(&events.Disconnected{}, nil)
	if sess.autoReconnect && sess.reconnect == nil {
		sess.reconnect = s.clock.AfterFunc(s.opts.ReconnectDelay, func() { s.reconnectAfterDrop(sess) })
	}
	return done
}

func (s *Simulator) reconnectAfterDrop(sess *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess.reconnect = nil
	if s.closed || !sess.autoReconnect || sess.connected || sess.dev == nil {
		return
	}
	s.log.Debug("Simulator reconnecting session", "wa_jid", sess.dev.jid)
	s.connectLocked(sess)
}
