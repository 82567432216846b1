package connector

import (
	"context"
	"fmt"
	"time"

	"github.com/wabridge/b24wa/connector/wa"
)

// PairingStatus returns the current state of the line's pairing attempt and
// records that someone looks at it. Past the attempt's Until a running
// attempt ends as expired, and a passkey step past its bound ends as failed
// with PairingErrPasskeyTimeout. Without an attempt it returns ErrNotOwner
// when another instance holds the line, else ErrPairingNotRunning.
func (m *Manager) PairingStatus(ctx context.Context, lineID uint64) (*PairingStatus, error) {
	m.mu.Lock()
	var a *pairingAttempt
	if rt := m.runtimes[lineID]; rt != nil {
		a = rt.attempt
	}
	now := m.now()
	var until time.Time
	passkeyDue := false
	if a != nil {
		a.polledAt = now
		until = a.until
		passkeyDue = m.passkeyDueLocked(a, now)
	}
	m.mu.Unlock()

	switch {
	case a == nil:
		return nil, m.noAttemptError(ctx, lineID)
	case passkeyDue:
		m.failPasskeyWait(a)
	case !now.Before(until) && m.claimFinish(a):
		m.expirePairing(ctx, a)
	}
	return m.snapshot(a), nil
}

func (m *Manager) noAttemptError(ctx context.Context, lineID uint64) error {
	lease, err := m.leases.get(ctx, lineID)
	if err != nil {
		return err
	}
	if lease != nil && lease.Owner != m.opts.InstanceID && !lease.ExpiresAt.Before(m.now()) {
		return fmt.Errorf("line %d: %w", lineID, ErrNotOwner)
	}
	return fmt.Errorf("line %d: %w", lineID, ErrPairingNotRunning)
}

// PairPhone switches the running attempt to a code typed on the phone. It
// returns the wa.ErrPhone* errors for a malformed number, ErrWrongNumber for
// a number other than the line's expected one, wa.ErrPairRateLimited when
// WhatsApp limits code requests, and ErrPairingNotRunning.
func (m *Manager) PairPhone(ctx context.Context, lineID uint64, phone string) (*PairingStatus, error) {
	digits, err := wa.NormalizePhone(phone)
	if err != nil {
		return nil, fmt.Errorf("pair line %d by code: %w", lineID, err)
	}

	m.mu.Lock()
	var a *pairingAttempt
	if rt := m.runtimes[lineID]; rt != nil {
		a = rt.attempt
	}
	if a == nil || a.done {
		m.mu.Unlock()
		return nil, fmt.Errorf("line %d: %w", lineID, ErrPairingNotRunning)
	}
	a.polledAt = m.now()
	c := a.client
	m.mu.Unlock()

	if a.expected != "" && a.expected != digits {
		return nil, fmt.Errorf("pair line %d by code with %s: %w", lineID, digits, ErrWrongNumber)
	}
	code, err := c.session.PairPhone(ctx, digits)
	if err != nil {
		return nil, fmt.Errorf("request a pairing code for line %d: %w", lineID, err)
	}

	m.mu.Lock()
	if !a.done {
		a.status.Step = PairingCode
		a.status.PairCode = code
		if a.via == LinkedViaQR {
			a.via = LinkedViaPhoneCode
		}
	}
	m.mu.Unlock()
	return m.snapshot(a), nil
}

// CancelPairing stops the line's running attempt, closes its unpaired device
// and restores the line's previous state.
func (m *Manager) CancelPairing(ctx context.Context, lineID uint64) error {
	rt := m.runtime(lineID)
	rt.op.Lock()
	defer rt.op.Unlock()

	m.mu.Lock()
	a := rt.attempt
	if a == nil || a.done {
		m.mu.Unlock()
		return fmt.Errorf("line %d: %w", lineID, ErrPairingNotRunning)
	}
	rt.attempt = nil
	m.mu.Unlock()

	if !m.claimFinish(a) {
		return fmt.Errorf("line %d: %w", lineID, ErrPairingNotRunning)
	}
	m.log.Info("Pairing cancelled", "line_id", lineID)
	m.stopAttemptClient(ctx, a)
	m.restoreAfterPairing(ctx, a)
	return nil
}
