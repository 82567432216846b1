package connector

import (
	"context"
	"errors"
	"fmt"

	"github.com/wabridge/b24wa/portal"
)

var _ portal.LifecycleHooks = (*Manager)(nil)

// PortalUninstalled logs out every linked line of a portal that removed the
// app (reason "uninstalled"; Bitrix24 is not called, its tokens are revoked)
// and, when clean is set, deletes the portal's lines with everything stored
// for them. A line owned by another live instance is logged out by that
// instance: its maintenance loop finds the uninstalled portal, or its lease
// renewal finds the deleted line.
func (m *Manager) PortalUninstalled(ctx context.Context, portalID uint64, clean bool) error {
	lines, err := m.lines.ListByPortal(ctx, portalID)
	if err != nil {
		return err
	}
	var errs []error
	for i := range lines {
		if err := m.dropLine(ctx, &lines[i], ReasonUninstalled); err != nil {
			errs = append(errs, err)
		}
	}
	if clean {
		if err := m.lines.DeleteByPortal(ctx, portalID); err != nil {
			return errors.Join(append(errs, err)...)
		}
		for i := range lines {
			m.forget(lines[i].ID)
		}
	}
	m.log.Info("Portal uninstalled; its lines were logged out", "portal_id", portalID, "lines", len(lines), "clean", clean)
	return errors.Join(errs...)
}

// dropLine stops pairing and logs out a line whose portal side is gone. A
// line owned by another live instance is skipped without error.
func (m *Manager) dropLine(ctx context.Context, line *Line, reason string) error {
	if err := m.claim(ctx, line.ID); err != nil {
		if errors.Is(err, ErrNotOwner) {
			m.log.Info("Line is owned by another instance, which logs it out", "line_id", line.ID, "reason", reason)
			return nil
		}
		return err
	}
	rt := m.runtime(line.ID)
	rt.op.Lock()
	defer rt.op.Unlock()

	err := m.logoutLocked(ctx, rt, line.ID, reason, false)
	if errors.Is(err, ErrNotLinked) {
		return nil
	}
	return err
}

// LineRemovedInBitrix handles the two Bitrix24 events that take an open line
// away from the connector.
//
// With deleted false (OnImConnectorStatusDelete: the connector was
// disconnected from the line in Contact Center) the line is marked inactive
// and detached. Its WhatsApp device stays linked, so the owner can activate
// it again from the settings page without a new scan. Messages stop because
// the portal no longer routes an inactive line. The device is not logged out
// because Bitrix24 may send the same event for the manager's own
// deactivation during a re-link.
//
// With deleted true (OnImConnectorLineDelete) the device is logged out with
// reason "line_deleted" and the line is deleted. It returns ErrLineNotFound
// for an open line the app does not know.
func (m *Manager) LineRemovedInBitrix(ctx context.Context, portalID uint64, lineID string, deleted bool) error {
	line, err := m.lines.ByPortalLine(ctx, portalID, lineID)
	if err != nil {
		return err
	}
	if !deleted {
		now := m.now()
		if err := m.lines.SetB24Detached(ctx, line.ID, &now); err != nil {
			return err
		}
		m.log.Info("Connector was disconnected from an open line in Bitrix24; WhatsApp stays linked",
			"line_id", line.ID, "portal_id", portalID)
		return nil
	}

	if err := m.dropLine(ctx, line, ReasonLineDeleted); err != nil {
		return fmt.Errorf("log out deleted line %d: %w", line.ID, err)
	}
	if err := m.lines.DeleteLine(ctx, line.ID); err != nil {
		return err
	}
	m.forget(line.ID)
	m.log.Info("Open line was deleted in Bitrix24; line removed", "line_id", line.ID, "portal_id", portalID)
	return nil
}
