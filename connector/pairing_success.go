package connector

import (
	"context"
	"errors"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/connector/wa"
)

// completePairing keeps a freshly paired device: it links the line, adds a
// device session row, marks the scan link used, revokes the line's other
// open links, makes the device the line's
// live client and activates the line in Bitrix24.
func (m *Manager) completePairing(a *pairingAttempt, c *client, item wa.PairItem) {
	ctx := context.WithoutCancel(a.ctx)
	if !m.claimFinish(a) {
		// Cancelled while the phone confirmed, so the device is not kept.
		m.dropPairedDevice(ctx, a.lineID, c)
		return
	}
	rt := m.runtime(a.lineID)
	rt.op.Lock()
	defer rt.op.Unlock()

	phone := item.JID.User
	if err := m.storePaired(ctx, a, item); err != nil {
		m.abandonPaired(ctx, a, c, errorKeyOf(err), err)
		return
	}

	m.mu.Lock()
	rt.live = c
	rt.cached = nil
	a.status.Phone = phone
	a.status.PushName = item.PushName
	m.mu.Unlock()
	m.setAttemptStep(a, PairingSuccess, "")
	m.metrics.pairing("success")
	m.log.Info("Device paired", "line_id", a.lineID, "wa_jid", item.JID.String(), "platform", item.Platform)

	m.refreshConnected(ctx, c)
	if err := m.activateByID(ctx, a.lineID); err != nil {
		m.log.Warn("Activating a paired line in Bitrix24 failed; the repair loop retries", "line_id", a.lineID, "error", err)
	}
}

// storePaired writes the pairing in one transaction.
func (m *Manager) storePaired(ctx context.Context, a *pairingAttempt, item wa.PairItem) error {
	m.mu.Lock()
	via, scanLinkID := a.via, a.scanLinkID
	m.mu.Unlock()
	now := m.now()

	return m.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		store := newLineStore(tx, m.opts.Now)
		// PrePair checked the number, but another line may have linked it
		// since. SQLite runs this transaction alone.
		// NOTE: on MySQL two lines pairing one number in the same instant can
		// both pass this check; lines has no unique key on the number.
		if err := m.checkNumberIn(ctx, store, a, item.JID.User); err != nil {
			return err
		}
		if err := store.SetLinked(ctx, a.lineID, item.JID.String(), item.JID.User, item.PushName); err != nil {
			return err
		}
		err := store.AddDeviceSession(ctx, &DeviceSession{
			LineID:       a.lineID,
			WaJID:        item.JID.String(),
			Phone:        item.JID.User,
			PushName:     item.PushName,
			Platform:     item.Platform,
			BusinessName: item.Business,
			LinkedVia:    via,
			LinkedAt:     now,
		})
		if err != nil {
			return err
		}
		if scanLinkID != 0 {
			if err := store.MarkScanLinkUsed(ctx, scanLinkID, a.lineID, now); err != nil {
				return err
			}
		}
		// Any other open link of the line would let its holder relink the
		// line, so it ends with the pairing.
		return revokeOpenLinks(tx, a.lineID, now.UTC())
	})
}

// abandonPaired unlinks a device that paired but cannot be kept and ends
// the attempt as failed.
func (m *Manager) abandonPaired(ctx context.Context, a *pairingAttempt, c *client, key string, err error) {
	if key == PairingErrFailed {
		m.log.Error("Storing a paired device failed; unlinking it", "line_id", a.lineID, "error", err)
	} else {
		m.log.Info("Paired number may not be linked to this line; unlinking it", "line_id", a.lineID, "error_key", key, "error", err)
	}
	m.dropPairedDevice(ctx, a.lineID, c)
	m.setAttemptStep(a, PairingFailed, key)
	m.metrics.pairing("failed")
	m.restoreAfterPairing(ctx, a)
}

// dropPairedDevice unlinks a paired device on WhatsApp and deletes its keys.
func (m *Manager) dropPairedDevice(ctx context.Context, lineID uint64, c *client) {
	jid := c.session.JID()
	err := c.session.Logout(ctx)
	c.session.Disconnect()
	if err == nil || errors.Is(err, wa.ErrRemoteUnlinkFailed) {
		return
	}
	m.log.Warn("Unlinking an unwanted device failed; deleting its keys", "line_id", lineID, "error", err)
	if jid.IsEmpty() {
		return
	}
	if err := m.backend.DeleteDevice(ctx, jid); err != nil && !errors.Is(err, wa.ErrDeviceNotFound) {
		m.log.Warn("Deleting the keys of an unwanted device failed", "line_id", lineID, "error", err)
	}
}
