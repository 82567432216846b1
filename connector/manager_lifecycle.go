package connector

import (
	"context"
	"fmt"
	"time"
)

// Start takes the leases of the linked lines that no live instance owns and
// connects them in the background, at most ReconnectConcurrency at a time.
// It then runs the lease, maintenance and health loops until Close. A line
// that the database calls linked but whose keys are missing from the store
// is logged out with reason "keys_missing".
func (m *Manager) Start(ctx context.Context) error {
	m.mu.Lock()
	switch {
	case m.closed:
		m.mu.Unlock()
		return ErrManagerClosed
	case m.started:
		m.mu.Unlock()
		return ErrManagerStarted
	}
	m.started = true
	m.mu.Unlock()

	jids, err := m.backend.Devices(ctx)
	if err != nil {
		return fmt.Errorf("list WhatsApp devices in the store: %w", err)
	}
	devices := make(map[string]bool, len(jids))
	for _, jid := range jids {
		devices[jid.String()] = true
	}

	m.resetInterruptedPairings(ctx)
	adopted := m.adopt(ctx, devices)
	m.log.Info("Session manager started", "devices_in_store", len(jids), "lines_taken", adopted)

	m.goBackground(m.every(m.opts.LeaseRenewInterval, m.renewAndAdopt))
	m.goBackground(m.every(m.opts.MaintenanceInterval, m.maintain))
	m.goBackground(m.every(m.opts.HealthInterval, m.checkHealth))
	return nil
}

// resetInterruptedPairings ends the pairing state of lines whose attempt
// died with an earlier process: no device and no live lease of another
// instance. A line that had a device before becomes logged_out, others new.
func (m *Manager) resetInterruptedPairings(ctx context.Context) {
	lines, err := m.lines.pairingUnlinked(ctx)
	if err != nil {
		m.log.Warn("Listing interrupted pairings failed", "error", err)
		return
	}
	leases, err := m.leases.live(ctx, m.now())
	if err != nil {
		m.log.Warn("Listing line leases failed", "error", err)
		return
	}
	for _, line := range lines {
		if owner, ok := leases[line.ID]; ok && owner != m.opts.InstanceID {
			continue
		}
		state := StateNew
		if rows, err := m.lines.DeviceSessions(ctx, line.ID); err == nil && len(rows) > 0 {
			state = StateLoggedOut
		}
		if err := m.lines.SetState(ctx, line.ID, state, "pairing_interrupted", nil); err != nil {
			m.log.Warn("Resetting an interrupted pairing failed", "line_id", line.ID, "error", err)
		}
	}
}

// Close stops background work and pairing attempts, disconnects every
// client of this instance and releases the leases so another instance can
// take the lines over at once. It does not close the backend. Lines that
// were online are recorded as disconnected with reason "instance_stopped".
func (m *Manager) Close(ctx context.Context) error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	m.mu.Unlock()

	// Detach first, so events that cancelling and disconnecting cause are
	// stale, then once more for clients that background work opened since.
	lives, attempts := m.detachAll()
	m.cancel()
	if err := m.waitBackground(ctx); err != nil {
		return err
	}
	moreLives, moreAttempts := m.detachAll()
	lives, attempts = append(lives, moreLives...), append(attempts, moreAttempts...)

	for _, a := range attempts {
		if !m.claimFinish(a) {
			continue
		}
		m.stopAttemptClient(ctx, a)
		m.setAttemptStep(a, PairingFailed, PairingErrFailed)
		if err := m.lines.SetState(ctx, a.lineID, a.prevState, a.prevReason, nil); err != nil {
			m.log.Warn("Restoring the state of a line after pairing failed", "line_id", a.lineID, "error", err)
		}
	}
	for _, c := range lives {
		c.session.Disconnect()
		if m.stateIn(c.lineID, StateConnected, StateConnecting, StateReconnecting) {
			m.setLineState(ctx, c.lineID, StateDisconnected, ReasonInstanceStopped, nil)
		}
	}

	if err := m.leases.releaseAll(ctx, m.opts.InstanceID); err != nil {
		return err
	}
	m.mu.Lock()
	clear(m.owned)
	m.mu.Unlock()
	m.log.Info("Session manager stopped", "clients_closed", len(lives))
	return nil
}

// waitBackground waits for the goroutines started by goBackground.
func (m *Manager) waitBackground(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		m.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop session manager: %w", ctx.Err())
	}
}

// detachAll removes every live client and running attempt from the
// runtimes and returns them.
func (m *Manager) detachAll() ([]*client, []*pairingAttempt) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var lives []*client
	var attempts []*pairingAttempt
	for _, rt := range m.runtimes {
		if rt.live != nil {
			lives = append(lives, rt.live)
			rt.live = nil
		}
		if rt.attempt != nil && !rt.attempt.done {
			attempts = append(attempts, rt.attempt)
		}
	}
	return lives, attempts
}

// every returns a loop that calls fn every interval until its context ends.
func (m *Manager) every(interval time.Duration, fn func(context.Context)) func(context.Context) {
	return func(ctx context.Context) {
		ticker := time.NewTicker(interval)
		defer ticker.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
				fn(ctx)
			}
		}
	}
}
