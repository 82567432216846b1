package connector

import (
	"context"
	"fmt"
	"time"
)

// pairingPasskeyTimeout bounds how long an attempt waits for the phone to
// confirm the link with its passkey. WhatsApp's own limit for that prompt
// is not known. Two minutes is an estimate that leaves time for the phone's
// fingerprint or screen-lock prompt and still ends a forgotten one.
const pairingPasskeyTimeout = 2 * time.Minute

// askPasskey shows the passkey step: the phone scanned the code (or typed
// the pairing code) and must confirm the link before WhatsApp completes
// it. The QR code is hidden, because the phone that scanned it holds the
// pairing, and the wait ends as failed after pairingPasskeyTimeout.
func (m *Manager) askPasskey(a *pairingAttempt) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if a.done {
		return
	}
	a.status.Step = PairingPasskey
	a.status.ErrorKey = ""
	a.status.QR = ""
	a.status.QRExpiresAt = time.Time{}
	a.status.PairCode = ""
	a.passkeyUntil = m.now().Add(pairingPasskeyTimeout)
	m.log.Info("Pairing waits for the phone's passkey confirmation", "line_id", a.lineID, "timeout", pairingPasskeyTimeout)
}

// passkeyPending reports whether the attempt shows the passkey step.
func (m *Manager) passkeyPending(a *pairingAttempt) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return !a.done && a.status.Step == PairingPasskey
}

// passkeyDueLocked reports whether the attempt's passkey wait has run out, either
// its own bound or the attempt's Until. The caller holds m.mu.
func (m *Manager) passkeyDueLocked(a *pairingAttempt, now time.Time) bool {
	return !a.done && a.status.Step == PairingPasskey &&
		(!now.Before(a.passkeyUntil) || !now.Before(a.until))
}

// failPasskeyWait ends an attempt whose phone did not confirm its passkey
// in time.
func (m *Manager) failPasskeyWait(a *pairingAttempt) {
	err := fmt.Errorf("the phone did not confirm the link with its passkey within %s", pairingPasskeyTimeout)
	m.failPairing(a, PairingErrPasskeyTimeout, err)
}

// expirePasskeyWaits fails every attempt whose passkey wait has run out, so
// a wait ends even when no page polls PairingStatus.
func (m *Manager) expirePasskeyWaits(ctx context.Context) {
	now := m.now()
	var due []*pairingAttempt
	m.mu.Lock()
	for _, rt := range m.runtimes {
		if a := rt.attempt; a != nil && m.passkeyDueLocked(a, now) {
			due = append(due, a)
		}
	}
	m.mu.Unlock()

	for _, a := range due {
		if ctx.Err() != nil {
			return
		}
		m.failPasskeyWait(a)
	}
}
