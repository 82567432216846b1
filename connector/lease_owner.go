package connector

import (
	"context"
	"errors"
	"fmt"
)

// claim takes or renews the lease of a line for this instance. It returns
// ErrNotOwner while another instance holds a lease that has not expired.
func (m *Manager) claim(ctx context.Context, lineID uint64) error {
	now := m.now()
	ok, err := m.leases.acquire(ctx, lineID, m.opts.InstanceID, now, now.Add(m.opts.LeaseTTL))
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("line %d: %w", lineID, ErrNotOwner)
	}

	m.mu.Lock()
	m.owned[lineID] = true
	m.mu.Unlock()
	return nil
}

// releaseLine gives up the lease of a line left without a device and
// without a pairing attempt, so any instance may pair it next.
func (m *Manager) releaseLine(ctx context.Context, lineID uint64) {
	m.mu.Lock()
	delete(m.owned, lineID)
	if rt := m.runtimes[lineID]; rt != nil {
		rt.state = ""
		rt.needConnect = false
	}
	m.mu.Unlock()

	if err := m.leases.release(ctx, lineID, m.opts.InstanceID); err != nil {
		m.log.Warn("Releasing a line lease failed; it expires on its own", "line_id", lineID, "error", err)
	}
}

func (m *Manager) ownedIDs() []uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	ids := make([]uint64, 0, len(m.owned))
	for id := range m.owned {
		ids = append(ids, id)
	}
	return ids
}

// renewLeases extends the lease of every owned line. A lease found taken by
// another instance closes the local client; a lease gone with its line
// means the line was deleted, so its device is logged out.
func (m *Manager) renewLeases(ctx context.Context) {
	for _, id := range m.ownedIDs() {
		ok, err := m.leases.renew(ctx, id, m.opts.InstanceID, m.now().Add(m.opts.LeaseTTL))
		if err != nil {
			m.log.Warn("Renewing a line lease failed", "line_id", id, "error", err)
			continue
		}
		if ok {
			continue
		}

		_, err = m.lines.Get(ctx, id)
		switch {
		case errors.Is(err, ErrLineNotFound):
			m.lineVanished(ctx, id)
		case err != nil:
			m.log.Warn("Checking a line after its lease vanished failed", "line_id", id, "error", err)
		default:
			m.leaseLost(id)
		}
	}
}

// leaseLost closes the local client of a line whose lease another instance
// took, without writing the line's state: the new owner writes it.
func (m *Manager) leaseLost(lineID uint64) {
	m.log.Warn("Another instance took over the lease of a line; closing the local client", "line_id", lineID)
	live, attempt := m.detach(lineID)
	m.closeClients(live, attempt)

	m.mu.Lock()
	delete(m.owned, lineID)
	if rt := m.runtimes[lineID]; rt != nil {
		rt.state = ""
		rt.needConnect = false
	}
	m.mu.Unlock()
}

// lineVanished logs out the device of a line deleted by another instance
// (portal uninstalled with cleaning, or open line deleted in Bitrix24).
func (m *Manager) lineVanished(ctx context.Context, lineID uint64) {
	m.log.Info("Line was deleted; logging its device out", "line_id", lineID)
	rt := m.runtime(lineID)
	rt.op.Lock()
	defer rt.op.Unlock()

	live, attempt := m.detach(lineID)
	if attempt != nil {
		m.closeClients(nil, attempt)
	}
	if live != nil {
		if err := live.session.Logout(ctx); err != nil {
			m.log.Warn("Logging out the device of a deleted line failed", "line_id", lineID, "error", err)
		}
		live.session.Disconnect()
	}
	m.forget(lineID)
}

// forget drops everything the manager keeps in memory about a line.
func (m *Manager) forget(lineID uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.owned, lineID)
	delete(m.runtimes, lineID)
}

// detach removes the live client and the running pairing attempt of a line
// from the runtime, so their later events count as stale, and returns them.
func (m *Manager) detach(lineID uint64) (*client, *pairingAttempt) {
	m.mu.Lock()
	defer m.mu.Unlock()
	rt := m.runtimes[lineID]
	if rt == nil {
		return nil, nil
	}
	live, attempt := rt.live, rt.attempt
	rt.live = nil
	if attempt != nil && attempt.done {
		attempt = nil
	}
	return live, attempt
}

// closeClients disconnects a live client and cancels a pairing attempt
// without touching the database.
func (m *Manager) closeClients(live *client, attempt *pairingAttempt) {
	if live != nil {
		live.session.Disconnect()
	}
	if attempt != nil && m.claimFinish(attempt) {
		attempt.cancel()
		if c := attempt.currentClient(m); c != nil {
			c.session.Disconnect()
		}
		m.setAttemptStep(attempt, PairingFailed, PairingErrFailed)
	}
}

// renewAndAdopt renews this instance's leases and takes over the linked
// lines whose lease expired.
func (m *Manager) renewAndAdopt(ctx context.Context) {
	m.renewLeases(ctx)
	m.adopt(ctx, nil)
}
