package connector

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wabridge/b24wa/connector/wa"
)

// pairOutcome is the end of one WhatsApp QR session of an attempt.
type pairOutcome int

const (
	pairEnded    pairOutcome = iota // success, failure or cancellation, all handled
	pairTimedOut                    // every code expired without a scan
)

// runPairing drives an attempt: it consumes the QR session's items and,
// when the session times out while someone watches and before Until, opens
// a fresh device and starts again.
func (m *Manager) runPairing(a *pairingAttempt) {
	for {
		c := a.currentClient(m)
		items, err := c.session.PairQR(a.ctx)
		if err != nil {
			m.failPairing(a, errorKeyOf(err), fmt.Errorf("start QR pairing: %w", err))
			return
		}
		if m.consumePairItems(a, c, items) == pairEnded {
			return
		}
		if !m.mayRestart(a) {
			if m.claimFinish(a) {
				m.expirePairing(m.ctx, a)
			}
			return
		}
		if err := m.restartPairing(a); err != nil {
			m.failPairing(a, PairingErrFailed, err)
			return
		}
	}
}

func (m *Manager) consumePairItems(a *pairingAttempt, c *client, items <-chan wa.PairItem) pairOutcome {
	for {
		var item wa.PairItem
		var ok bool
		select {
		case <-a.ctx.Done():
			return pairEnded
		case item, ok = <-items:
		}
		if !ok {
			if a.ctx.Err() == nil {
				m.failPairing(a, m.rejectKeyOr(a, PairingErrFailed), errors.New("QR channel closed without a result"))
			}
			return pairEnded
		}

		switch item.Kind {
		case wa.PairQRCode:
			m.showQR(a, item)
		case wa.PairPasskey:
			m.askPasskey(a)
		case wa.PairSuccess:
			m.completePairing(a, c, item)
			return pairEnded
		case wa.PairTimeout:
			if m.passkeyPending(a) {
				// A fresh device would need a new scan, while the phone still
				// shows the passkey prompt of this one.
				m.failPairing(a, PairingErrPasskeyTimeout, errors.New("QR session ended while the phone's passkey confirmation was pending"))
				return pairEnded
			}
			return pairTimedOut
		case wa.PairError:
			if errors.Is(item.Err, wa.ErrScannedWithoutMultidevice) {
				// whatsmeow keeps the codes coming: the phone may scan again
				// once multi-device is enabled.
				m.setErrorKey(a, PairingErrNoMultidevice)
				continue
			}
			m.failPairing(a, m.rejectKeyOr(a, errorKeyOf(item.Err)), item.Err)
			return pairEnded
		}
	}
}

// showQR replaces the code to show. While a pairing code step runs, the
// newest QR is kept but the step stays. During the passkey step codes are
// ignored, because the phone that scanned holds the pairing.
func (m *Manager) showQR(a *pairingAttempt, item wa.PairItem) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if a.done || a.status.Step == PairingPasskey {
		return
	}
	a.status.QR = item.Code
	a.status.QRExpiresAt = m.now().Add(item.Timeout)
	if a.status.Step == PairingStarting {
		a.status.Step = PairingQR
	}
}

// mayRestart allows a new QR session while someone read PairingStatus
// within PairingPollWindow, before Until and below PairingMaxRestarts.
func (m *Manager) mayRestart(a *pairingAttempt) bool {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	return !a.done &&
		now.Sub(a.polledAt) <= m.opts.PairingPollWindow &&
		now.Before(a.until) &&
		a.status.Restarts < m.opts.PairingMaxRestarts
}

// restartPairing replaces the attempt's timed-out device with a fresh one.
func (m *Manager) restartPairing(a *pairingAttempt) error {
	old := a.currentClient(m)
	old.session.Disconnect()

	c, err := m.openPairingClient(a)
	if err != nil {
		return err
	}
	m.mu.Lock()
	if a.done {
		m.mu.Unlock()
		c.session.Disconnect()
		return nil
	}
	a.client = c
	a.status.Restarts++
	a.status.Step = PairingStarting
	a.status.QR = ""
	a.status.QRExpiresAt = time.Time{}
	a.status.PairCode = ""
	a.status.ErrorKey = ""
	restarts := a.status.Restarts
	m.mu.Unlock()

	m.log.Info("Pairing restarted after the QR codes expired", "line_id", a.lineID, "restarts", restarts)
	return nil
}

// failPairing ends an attempt with a translation key for the page.
func (m *Manager) failPairing(a *pairingAttempt, key string, err error) {
	if !m.claimFinish(a) {
		return
	}
	if key == PairingErrClientOutdated {
		m.log.Error("WhatsApp rejected the client version during pairing; upgrade whatsmeow", "line_id", a.lineID, "error", err)
	} else {
		m.log.Info("Pairing failed", "line_id", a.lineID, "error_key", key, "error", err)
	}
	m.metrics.pairing("failed")

	ctx := context.WithoutCancel(a.ctx)
	m.stopAttemptClient(ctx, a)
	m.setAttemptStep(a, PairingFailed, key)
	m.restoreAfterPairing(ctx, a)
}

// expirePairing ends an attempt whose codes expired with no restart allowed.
// The caller has claimed the attempt's outcome.
func (m *Manager) expirePairing(ctx context.Context, a *pairingAttempt) {
	m.log.Info("Pairing expired", "line_id", a.lineID)
	m.metrics.pairing("expired")
	ctx = context.WithoutCancel(ctx)
	m.stopAttemptClient(ctx, a)
	m.setAttemptStep(a, PairingExpired, "")
	m.restoreAfterPairing(ctx, a)
}

// stopAttemptClient cancels the attempt and closes its device, deleting the
// keys of a device that got paired but was not kept.
func (m *Manager) stopAttemptClient(ctx context.Context, a *pairingAttempt) {
	a.cancel()
	c := a.currentClient(m)
	if c == nil {
		return
	}
	c.session.Disconnect()
	if jid := c.session.JID(); !jid.IsEmpty() {
		if err := m.backend.DeleteDevice(ctx, jid); err != nil && !errors.Is(err, wa.ErrDeviceNotFound) {
			m.log.Warn("Deleting the keys of an abandoned pairing failed", "line_id", a.lineID, "error", err)
		}
	}
}

// restoreAfterPairing puts back the state the line had before the attempt
// and gives up its lease, because the line still has no device.
func (m *Manager) restoreAfterPairing(ctx context.Context, a *pairingAttempt) {
	if err := m.lines.SetState(ctx, a.lineID, a.prevState, a.prevReason, nil); err != nil {
		m.log.Warn("Restoring the state of a line after pairing failed", "line_id", a.lineID, "error", err)
	}
	m.releaseLine(ctx, a.lineID)
}

func (m *Manager) rejectKeyOr(a *pairingAttempt, key string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if a.rejectKey != "" {
		return a.rejectKey
	}
	return key
}

// claimFinish marks an attempt as ended and reports whether this caller was
// first, so exactly one of success, failure, expiry and cancellation runs.
func (m *Manager) claimFinish(a *pairingAttempt) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if a.done {
		return false
	}
	a.done = true
	a.doneAt = m.now()
	return true
}

func (m *Manager) setAttemptStep(a *pairingAttempt, step, errorKey string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a.status.Step = step
	a.status.ErrorKey = errorKey
	if step == PairingFailed || step == PairingExpired || step == PairingSuccess {
		a.status.QR = ""
		a.status.PairCode = ""
	}
}

// setErrorKey shows a problem the person can fix while the attempt runs on.
func (m *Manager) setErrorKey(a *pairingAttempt, key string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !a.done {
		a.status.ErrorKey = key
	}
}

func (m *Manager) snapshot(a *pairingAttempt) *PairingStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	status := a.status
	status.Via = a.via
	status.ScanLinkID = a.scanLinkID
	return &status
}

func (a *pairingAttempt) currentClient(m *Manager) *client {
	m.mu.Lock()
	defer m.mu.Unlock()
	return a.client
}
