package connector

import (
	"context"
	"errors"
	"time"

	"github.com/wabridge/b24wa/portal"
)

// Bounds of the delay between Bitrix24 repairs of one line that keep
// failing, for example while the portal's tokens are refused.
const (
	repairFirst = time.Minute
	repairMax   = time.Hour
)

// maintain retries due connects, logs out lines of uninstalled portals,
// repairs the Bitrix24 side of lines, ends passkey waits that ran out and
// drops old pairing attempts.
func (m *Manager) maintain(ctx context.Context) {
	m.retryConnects()
	m.expirePasskeyWaits(ctx)
	m.pruneAttempts()

	owned, err := m.lines.byIDs(ctx, m.ownedIDs())
	if err != nil {
		m.log.Warn("Loading owned lines failed", "error", err)
		return
	}
	uninstalled, err := m.uninstalledPortals(ctx)
	if err != nil {
		m.log.Warn("Loading uninstalled portals failed", "error", err)
		return
	}
	for i := range owned {
		line := &owned[i]
		if uninstalled[line.PortalID] {
			m.logoutUninstalled(ctx, line)
			continue
		}
		if line.WaJID != "" && !line.B24Active && line.B24DetachedAt == nil && m.repairDue(line.ID) {
			m.repaired(line.ID, m.activateLine(ctx, line))
		}
	}
	m.deactivateUnlinked(ctx, uninstalled)
}

// retryConnects queues a connect for every owned line whose retry is due.
func (m *Manager) retryConnects() {
	now := m.now()
	var due []uint64
	m.mu.Lock()
	for id, rt := range m.runtimes {
		if m.owned[id] && rt.needConnect && !rt.retryAt.After(now) {
			rt.needConnect = false
			due = append(due, id)
		}
	}
	m.mu.Unlock()

	for _, id := range due {
		m.queue(id, true, func(ctx context.Context, rt *lineRuntime) {
			if err := m.connectLocked(ctx, rt, id); err != nil {
				m.log.Warn("Reconnecting a line failed; retrying later", "line_id", id, "error", err)
			}
		})
	}
}

// pruneAttempts drops pairing attempts that ended PairingRetention ago.
func (m *Manager) pruneAttempts() {
	cutoff := m.now().Add(-m.opts.PairingRetention)
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, rt := range m.runtimes {
		if a := rt.attempt; a != nil && a.done && a.doneAt.Before(cutoff) {
			rt.attempt = nil
		}
	}
}

// logoutUninstalled logs out an owned line of a portal that removed the app
// while another instance handled the uninstall event.
func (m *Manager) logoutUninstalled(ctx context.Context, line *Line) {
	rt := m.runtime(line.ID)
	rt.op.Lock()
	defer rt.op.Unlock()
	err := m.logoutLocked(ctx, rt, line.ID, ReasonUninstalled, false)
	if err != nil && !errors.Is(err, ErrNotLinked) {
		m.log.Warn("Logging out a line of an uninstalled portal failed", "line_id", line.ID, "error", err)
	}
}

// deactivateUnlinked retries the Bitrix24 deactivation of lines that lost
// their device while the portal did not respond. The lease lets one
// instance do it.
func (m *Manager) deactivateUnlinked(ctx context.Context, uninstalled map[uint64]bool) {
	lines, err := m.lines.activeUnlinked(ctx)
	if err != nil {
		m.log.Warn("Loading lines to deactivate in Bitrix24 failed", "error", err)
		return
	}
	for i := range lines {
		line := &lines[i]
		if uninstalled[line.PortalID] || !m.repairDue(line.ID) || m.claim(ctx, line.ID) != nil {
			continue
		}
		m.repaired(line.ID, m.deactivateLine(ctx, line))
		m.releaseLine(ctx, line.ID)
	}
}

// repairDue reports whether a Bitrix24 repair of the line may run now.
func (m *Manager) repairDue(lineID uint64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return !m.runtimeLocked(lineID).repairAt.After(m.now())
}

// repaired records the outcome of a repair and backs off after a failure.
func (m *Manager) repaired(lineID uint64, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	rt := m.runtimeLocked(lineID)
	if err == nil {
		rt.repairAt, rt.repairDelay = time.Time{}, 0
		return
	}
	rt.repairDelay = min(max(rt.repairDelay*2, repairFirst), repairMax)
	rt.repairAt = m.now().Add(rt.repairDelay)
	m.log.Warn("Repairing a line in Bitrix24 failed", "line_id", lineID, "retry_in", rt.repairDelay, "error", err)
}

func (m *Manager) uninstalledPortals(ctx context.Context) (map[uint64]bool, error) {
	var ids []uint64
	err := m.db.WithContext(ctx).Model(&portal.Portal{}).
		Where("state = ?", portal.StateUninstalled).Pluck("id", &ids).Error
	if err != nil {
		return nil, err
	}
	out := make(map[uint64]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

// checkHealth activates again every owned, linked and active line that
// Bitrix24 reports as not working.
func (m *Manager) checkHealth(ctx context.Context) {
	if m.opts.B24 == nil {
		return
	}
	lines, err := m.lines.byIDs(ctx, m.ownedIDs())
	if err != nil {
		m.log.Warn("Loading owned lines failed", "error", err)
		return
	}
	for i := range lines {
		line := &lines[i]
		if line.WaJID == "" || !line.B24Active {
			continue
		}
		if err := m.checkBitrixStatus(ctx, line); err != nil {
			m.log.Warn("Checking a line in Bitrix24 failed", "line_id", line.ID, "error", err)
		}
	}
}
