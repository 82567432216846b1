package connector

import (
	"context"
	"errors"
	"fmt"

	"go.mau.fi/whatsmeow/types"

	"github.com/wabridge/b24wa/connector/wa"
)

// Logout reasons the manager writes itself; callers may pass others, for
// example "user" from the settings page.
const (
	ReasonPayment         = "payment"          // billing suspended the line; state suspended
	ReasonPhone           = "phone"            // the device was removed on the phone
	ReasonRelinked        = "relinked"         // a new pairing replaced the device
	ReasonUninstalled     = "uninstalled"      // the portal removed the app
	ReasonLineDeleted     = "line_deleted"     // the open line was deleted in Bitrix24
	ReasonKeysMissing     = "keys_missing"     // the store lost the device keys
	ReasonInstanceStopped = "instance_stopped" // state reason only, set by Close
)

// Logout unlinks the line's device on WhatsApp, deletes its keys, closes
// its device session row with reason, sets the line logged_out (suspended
// for reason "payment") and deactivates it in Bitrix24. A running pairing
// attempt is stopped. A line without a device returns ErrNotLinked, except
// that reason "payment" still suspends it.
func (m *Manager) Logout(ctx context.Context, lineID uint64, reason string) error {
	if err := m.checkOpen(); err != nil {
		return err
	}
	if _, err := m.lines.Get(ctx, lineID); err != nil {
		return err
	}
	if err := m.claim(ctx, lineID); err != nil {
		return err
	}
	rt := m.runtime(lineID)
	rt.op.Lock()
	defer rt.op.Unlock()
	return m.logoutLocked(ctx, rt, lineID, reason, true)
}

// logoutLocked is Logout with rt.op held. notifyB24 is false when the
// portal side is gone (uninstall, deleted line).
func (m *Manager) logoutLocked(ctx context.Context, rt *lineRuntime, lineID uint64, reason string, notifyB24 bool) error {
	live, attempt := m.detach(lineID)
	m.closeClients(nil, attempt)

	line, err := m.lines.Get(ctx, lineID)
	if err != nil {
		m.closeClients(live, nil)
		return err
	}
	if line.WaJID == "" {
		m.closeClients(live, nil)
		switch {
		case reason == ReasonPayment:
			m.setLineState(ctx, lineID, StateSuspended, reason, nil)
		case attempt != nil:
			m.setLineState(ctx, lineID, attempt.prevState, attempt.prevReason, nil)
		}
		m.releaseLine(ctx, lineID)
		if reason == ReasonPayment {
			return nil
		}
		return fmt.Errorf("log out line %d: %w", lineID, ErrNotLinked)
	}

	m.unlinkDevice(ctx, line, live)
	m.log.Info("Device logged out", "line_id", lineID, "reason", reason)
	return m.finishLogout(ctx, lineID, reason, notifyB24)
}

// unlinkDevice logs the device out through its live session, or deletes its
// keys from the store when the line has no session or the logout failed.
func (m *Manager) unlinkDevice(ctx context.Context, line *Line, live *client) {
	if live != nil {
		err := live.session.Logout(ctx)
		live.session.Disconnect()
		if err == nil {
			return
		}
		if errors.Is(err, wa.ErrRemoteUnlinkFailed) {
			m.log.Warn("Unlinking a device on WhatsApp failed; its keys were deleted and the phone drops it later",
				"line_id", line.ID, "error", err)
			return
		}
		m.log.Warn("Logging a device out failed; deleting its keys", "line_id", line.ID, "error", err)
	}
	m.deleteKeys(ctx, line)
}

// deleteKeys removes the line's device from the store; a device already
// gone is fine.
func (m *Manager) deleteKeys(ctx context.Context, line *Line) {
	jid, err := types.ParseJID(line.WaJID)
	if err != nil || jid.IsEmpty() {
		m.log.Warn("Line has an invalid device JID; no keys to delete", "line_id", line.ID, "wa_jid", line.WaJID)
		return
	}
	if err := m.backend.DeleteDevice(ctx, jid); err != nil && !errors.Is(err, wa.ErrDeviceNotFound) {
		m.log.Error("Deleting the keys of a logged-out device failed", "line_id", line.ID, "error", err)
	}
}

// finishLogout records a logout whose device is already gone: it closes the
// device session row, clears the JID, sets the state, deactivates the line in
// Bitrix24 when notifyB24 is set and releases the lease.
func (m *Manager) finishLogout(ctx context.Context, lineID uint64, reason string, notifyB24 bool) error {
	m.forgetFinishedAttempt(lineID)
	if err := m.lines.CloseDeviceSession(ctx, lineID, reason, m.now()); err != nil {
		return err
	}
	if err := m.lines.ClearLinked(ctx, lineID); err != nil {
		return err
	}
	state := StateLoggedOut
	if reason == ReasonPayment {
		state = StateSuspended
	}
	m.setLineState(ctx, lineID, state, reason, nil)
	m.metrics.logout(reason)

	if notifyB24 {
		if err := m.deactivateByID(ctx, lineID); err != nil {
			m.log.Warn("Deactivating a logged-out line in Bitrix24 failed; the repair loop retries", "line_id", lineID, "error", err)
		}
	}
	m.releaseLine(ctx, lineID)
	return nil
}

// onLoggedOut handles a logout WhatsApp announced (removed on the phone, or
// connect failure 401, 403 or 406). whatsmeow has already deleted the keys;
// they are deleted again in case the backend did not.
func (m *Manager) onLoggedOut(c *client, reason string) {
	m.queue(c.lineID, false, func(ctx context.Context, rt *lineRuntime) {
		if !m.isLive(c) {
			return
		}
		m.mu.Lock()
		rt.live = nil
		m.mu.Unlock()
		c.session.Disconnect()

		line, err := m.lines.Get(ctx, c.lineID)
		if err != nil {
			m.log.Error("Loading a line logged out by WhatsApp failed", "line_id", c.lineID, "error", err)
			return
		}
		m.log.Info("WhatsApp logged a device out", "line_id", c.lineID, "reason", reason)
		if line.WaJID != "" {
			m.deleteKeys(ctx, line)
		}
		if err := m.finishLogout(ctx, c.lineID, reason, true); err != nil {
			m.log.Error("Recording a logout from WhatsApp failed", "line_id", c.lineID, "error", err)
		}
	})
}

// forgetFinishedAttempt drops a line's finished pairing attempt, so that
// PairingStatus stops reporting the success of a device that is gone.
func (m *Manager) forgetFinishedAttempt(lineID uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if rt := m.runtimes[lineID]; rt != nil && rt.attempt != nil && rt.attempt.done {
		rt.attempt = nil
	}
}
