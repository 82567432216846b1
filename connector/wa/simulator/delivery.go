package simulator

import (
	"slices"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"
)

// enqueueLocked adds an event to dev's offline queue. The caller holds s.mu
// and calls flush after unlocking.
func (s *Simulator) enqueueLocked(dev *device, evt any) {
	dev.queue = append(dev.queue, &queued{evt: evt})
}

// flush delivers dev's queued events to its logged-in session in order.
// An event whose handler returned nil is acknowledged and dropped. One whose
// handler failed stays queued and is delivered again after the next
// reconnect, like WhatsApp's offline queue. Without a logged-in session
// nothing happens. With Options.StatePath the shorter queue is saved once
// the round ends; a crash before that delivers the acknowledged events again.
func (s *Simulator) flush(dev *device) {
	dev.flushMu.Lock()
	defer dev.flushMu.Unlock()
	acked := false
	defer func() {
		if acked {
			s.mu.Lock()
			s.persistLocked("acknowledgement")
			s.mu.Unlock()
		}
	}()
	for {
		s.mu.Lock()
		sess := s.liveSessionLocked(dev)
		if sess == nil {
			s.mu.Unlock()
			return
		}
		next := nextUnattempted(dev.queue, sess.conn)
		if next == nil {
			s.mu.Unlock()
			return
		}
		next.attempt = sess.conn
		s.mu.Unlock()

		err := sess.dispatch(copyEvent(next.evt))

		s.mu.Lock()
		if err == nil {
			dev.queue = slices.DeleteFunc(dev.queue, func(q *queued) bool { return q == next })
			acked = true
		} else {
			sess.log.Warn("Simulator event not acknowledged; kept for redelivery after reconnect",
				"wa_jid", dev.jid, "event", eventName(next.evt), "error", err)
		}
		s.mu.Unlock()
	}
}

// liveSessionLocked returns the connected, logged-in session of dev, or nil.
// The caller holds s.mu.
func (s *Simulator) liveSessionLocked(dev *device) *session {
	if dev.removed {
		return nil
	}
	for sess := range s.sessions {
		if sess.dev == dev && sess.connected && sess.loggedIn {
			return sess
		}
	}
	return nil
}

func nextUnattempted(queue []*queued, conn uint64) *queued {
	for _, q := range queue {
		if q.attempt != conn {
			return q
		}
	}
	return nil
}

// copyEvent gives each delivery its own value, so a handler that changes an
// event cannot change what a redelivery carries.
func copyEvent(evt any) any {
	switch e := evt.(type) {
	case *events.Message:
		cp := *e
		cp.RawMessage = proto.Clone(e.RawMessage).(*waE2E.Message)
		return cp.UnwrapRaw()
	case *events.Receipt:
		cp := *e
		cp.MessageIDs = slices.Clone(e.MessageIDs)
		return &cp
	case *events.UndecryptableMessage:
		cp := *e
		return &cp
	default:
		return evt
	}
}

func eventName(evt any) string {
	switch e := evt.(type) {
	case *events.Message:
		return "message " + e.Info.ID
	case *events.Receipt:
		return "receipt " + string(e.Type)
	case *events.UndecryptableMessage:
		return "undecryptable " + e.Info.ID
	default:
		return "event"
	}
}
