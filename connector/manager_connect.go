package connector

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/types"

	"github.com/wabridge/b24wa/connector/wa"
)

// Bounds of the delay before the manager calls Connect again on a line
// that is not connected and that nothing else reconnects. The first delay
// leaves room for whatsmeow's own reconnect loop.
const (
	retryFirst = 30 * time.Second
	retryMax   = 10 * time.Minute
)

// adopt takes the lease of every linked line without a live lease of
// another instance and connects it. devices, when non-nil, lists the store's
// device JIDs; a linked line missing from it is logged out. It returns how
// many lines it adopted.
func (m *Manager) adopt(ctx context.Context, devices map[string]bool) int {
	linked, err := m.lines.ListLinked(ctx)
	if err != nil {
		m.log.Error("Listing linked lines failed", "error", err)
		return 0
	}
	leases, err := m.leases.live(ctx, m.now())
	if err != nil {
		m.log.Error("Listing line leases failed", "error", err)
		return 0
	}

	adopted := 0
	for i := range linked {
		line := &linked[i]
		if m.Owns(line.ID) {
			continue
		}
		if owner, ok := leases[line.ID]; ok && owner != m.opts.InstanceID {
			continue
		}
		if err := m.claim(ctx, line.ID); err != nil {
			if !errors.Is(err, ErrNotOwner) {
				m.log.Warn("Taking the lease of a line failed", "line_id", line.ID, "error", err)
			}
			continue
		}
		adopted++
		m.adoptLine(line, devices)
	}
	return adopted
}

// adoptLine starts the work for a line this instance just took.
func (m *Manager) adoptLine(line *Line, devices map[string]bool) {
	m.noteState(line.ID, line.State)
	switch {
	case devices != nil && !devices[line.WaJID]:
		m.queue(line.ID, false, func(ctx context.Context, rt *lineRuntime) {
			m.keysMissingLocked(ctx, rt, line.ID)
		})
	case line.State == StateStreamReplaced:
		m.log.Info("Line was opened elsewhere; waiting for Reconnect", "line_id", line.ID)
	case line.State == StateTemporaryBan && line.StateUntil != nil && line.StateUntil.After(m.now()):
		m.scheduleConnect(line.ID, *line.StateUntil)
	default:
		m.queue(line.ID, true, func(ctx context.Context, rt *lineRuntime) {
			if err := m.connectLocked(ctx, rt, line.ID); err != nil {
				m.log.Warn("Connecting a line failed; retrying later", "line_id", line.ID, "error", err)
			}
		})
	}
}

// queue runs fn for a line in the background with the line's op lock held
// and, when bounded, after a random jitter and within ReconnectConcurrency.
func (m *Manager) queue(lineID uint64, bounded bool, fn func(ctx context.Context, rt *lineRuntime)) {
	m.goBackground(func(ctx context.Context) {
		if bounded {
			jitter := time.Duration(rand.Int64N(int64(m.opts.ReconnectJitter) + 1))
			select {
			case <-ctx.Done():
				return
			case <-time.After(jitter):
			}
			select {
			case <-ctx.Done():
				return
			case m.connectSlots <- struct{}{}:
			}
			defer func() { <-m.connectSlots }()
		}

		rt := m.runtime(lineID)
		rt.op.Lock()
		defer rt.op.Unlock()
		if !m.Owns(lineID) {
			return
		}
		fn(ctx, rt)
	})
}

// connectLocked opens the line's device if it has no client yet and
// connects it. The caller holds rt.op. A failed Connect is retried by the
// maintenance loop.
func (m *Manager) connectLocked(ctx context.Context, rt *lineRuntime, lineID uint64) error {
	line, err := m.lines.Get(ctx, lineID)
	if err != nil {
		return err
	}
	if line.WaJID == "" {
		// Logged out since it was queued. Unless a pairing runs, the lease
		// has nothing left to guard.
		if !m.pairingRuns(rt) {
			m.releaseLine(ctx, lineID)
		}
		return fmt.Errorf("connect line %d: %w", lineID, ErrNotLinked)
	}

	m.mu.Lock()
	c := rt.live
	m.mu.Unlock()
	if c == nil {
		if c, err = m.openLive(ctx, rt, line); err != nil {
			return err
		}
	}
	if c.session.IsConnected() && c.session.IsLoggedIn() {
		m.refreshConnected(ctx, c)
		return nil
	}

	m.setLineState(ctx, lineID, StateConnecting, "", nil)
	err = c.session.Connect(m.ctx)
	if errors.Is(err, whatsmeow.ErrAlreadyConnected) {
		// whatsmeow's own reconnect got there first.
		m.refreshConnected(ctx, c)
		return nil
	}
	if err != nil {
		m.setLineState(ctx, lineID, StateReconnecting, "connect_failed", nil)
		m.scheduleConnect(lineID, time.Time{})
		return fmt.Errorf("connect line %d: %w", lineID, err)
	}
	return nil
}

func (m *Manager) pairingRuns(rt *lineRuntime) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return rt.attempt != nil && !rt.attempt.done
}

// openLive opens the stored device of a linked line as its live client.
func (m *Manager) openLive(ctx context.Context, rt *lineRuntime, line *Line) (*client, error) {
	jid, err := types.ParseJID(line.WaJID)
	if err != nil {
		return nil, fmt.Errorf("line %d has an invalid device JID %q: %w", line.ID, line.WaJID, err)
	}
	c := &client{lineID: line.ID}
	session, err := m.backend.Open(m.ctx, jid, m.handlerFor(c), wa.OpenOptions{Log: m.log.With("line_id", line.ID)})
	if errors.Is(err, wa.ErrDeviceNotFound) {
		m.keysMissingLocked(ctx, rt, line.ID)
		return nil, fmt.Errorf("open device of line %d: %w", line.ID, err)
	}
	if err != nil {
		m.scheduleConnect(line.ID, time.Time{})
		return nil, fmt.Errorf("open device of line %d: %w", line.ID, err)
	}
	c.session = session

	m.mu.Lock()
	rt.live = c
	m.mu.Unlock()
	return c, nil
}

// scheduleConnect makes the maintenance loop call Connect on the line at at,
// or after an exponential backoff when at is zero.
func (m *Manager) scheduleConnect(lineID uint64, at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	rt := m.runtimeLocked(lineID)
	if at.IsZero() {
		rt.retryDelay = min(max(rt.retryDelay*2, retryFirst), retryMax)
		at = m.now().Add(rt.retryDelay)
	}
	rt.needConnect = true
	rt.retryAt = at
}

// Reconnect connects a linked line again, for example after it was opened
// elsewhere (stream_replaced) and the owner chose to use it here. It returns
// ErrNotLinked, ErrNotOwner or the backend's connect error.
func (m *Manager) Reconnect(ctx context.Context, lineID uint64) error {
	if err := m.checkOpen(); err != nil {
		return err
	}
	if err := m.claim(ctx, lineID); err != nil {
		return err
	}
	rt := m.runtime(lineID)
	rt.op.Lock()
	defer rt.op.Unlock()

	m.mu.Lock()
	rt.retryDelay = 0
	m.mu.Unlock()
	return m.connectLocked(ctx, rt, lineID)
}

// keysMissingLocked logs out a line whose device keys are gone from the
// store, so the owner sees it must be scanned again. The caller holds rt.op.
func (m *Manager) keysMissingLocked(ctx context.Context, rt *lineRuntime, lineID uint64) {
	m.log.Warn("Line is linked in the database but its device keys are missing from the store; it must be scanned again",
		"line_id", lineID)
	m.mu.Lock()
	rt.live = nil
	m.mu.Unlock()
	if err := m.finishLogout(ctx, lineID, ReasonKeysMissing, true); err != nil {
		m.log.Error("Recording the logout of a line without keys failed", "line_id", lineID, "error", err)
	}
}
