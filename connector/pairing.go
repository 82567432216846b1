package connector

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mau.fi/whatsmeow/types"

	"github.com/wabridge/b24wa/connector/wa"
)

// Translation keys of PairingStatus.ErrorKey.
const (
	PairingErrNumberLinkedElsewhere = "pairing.error.number_linked_elsewhere"
	PairingErrWrongNumber           = "pairing.error.wrong_number"
	PairingErrClientOutdated        = "pairing.error.client_outdated"
	PairingErrNoMultidevice         = "pairing.error.no_multidevice"
	PairingErrFailed                = "pairing.error.failed"
)

// Values of PairingOptions.Via and DeviceSession.LinkedVia.
const (
	LinkedViaQR        = "qr"
	LinkedViaPhoneCode = "phone_code"
	LinkedViaScanLink  = "scan_link"
)

// pairingAttempt is one run of StartPairing: a fresh device per WhatsApp QR
// session, restarted while someone watches, until success or an end.
type pairingAttempt struct {
	lineID     uint64
	expected   string // normalised expected phone; empty accepts any number
	prevState  string // restored when the attempt ends without a device
	prevReason string
	ctx        context.Context
	cancel     context.CancelFunc

	// The fields below are guarded by Manager.mu.
	until      time.Time
	scanLinkID uint64
	client     *client
	via        string
	status    PairingStatus
	polledAt  time.Time
	rejectKey string // why PrePair rejected the number, if it did
	done      bool   // an outcome was claimed; see Manager.claimFinish
	doneAt    time.Time
}

// StartPairing starts QR pairing for a line, or returns the attempt already
// running for it. A line that has a device is logged out first with reason
// "relinked". It returns ErrLineNotFound, ErrLineSuspended or ErrNotOwner.
func (m *Manager) StartPairing(ctx context.Context, lineID uint64, opts PairingOptions) (*PairingStatus, error) {
	if err := m.checkOpen(); err != nil {
		return nil, err
	}
	line, err := m.lines.Get(ctx, lineID)
	if err != nil {
		return nil, err
	}
	if line.State == StateSuspended {
		return nil, fmt.Errorf("pair line %d: %w", lineID, ErrLineSuspended)
	}
	if err := m.claim(ctx, lineID); err != nil {
		return nil, err
	}

	rt := m.runtime(lineID)
	rt.op.Lock()
	defer rt.op.Unlock()

	if status := m.runningStatus(rt, opts); status != nil {
		return status, nil
	}
	if line.WaJID != "" {
		if err := m.logoutLocked(ctx, rt, lineID, ReasonRelinked, true); err != nil {
			return nil, fmt.Errorf("log out the previous device of line %d: %w", lineID, err)
		}
		// The logout released the lease; pairing needs it again.
		if err := m.claim(ctx, lineID); err != nil {
			return nil, err
		}
		if line, err = m.lines.Get(ctx, lineID); err != nil {
			return nil, err
		}
	}

	a := m.newAttempt(line, opts)
	via, until := a.via, a.until
	if err := m.lines.SetState(ctx, lineID, StatePairing, via, nil); err != nil {
		a.cancel()
		return nil, err
	}
	m.noteState(lineID, StatePairing)

	c, err := m.openPairingClient(a)
	if err != nil {
		a.cancel()
		m.restoreAfterPairing(ctx, a)
		return nil, err
	}
	m.mu.Lock()
	a.client = c
	rt.attempt = a
	m.mu.Unlock()

	m.log.Info("Pairing started", "line_id", lineID, "via", via, "until", until)
	m.goBackground(func(context.Context) { m.runPairing(a) })
	return m.snapshot(a), nil
}

// runningStatus returns the status of the line's unfinished attempt, marking
// it as looked at, or nil. A scan link joining an attempt started elsewhere
// is recorded on it, so success marks the link used, and a later Until
// extends the attempt.
func (m *Manager) runningStatus(rt *lineRuntime, opts PairingOptions) *PairingStatus {
	m.mu.Lock()
	a := rt.attempt
	if a == nil || a.done {
		m.mu.Unlock()
		return nil
	}
	a.polledAt = m.now()
	if a.scanLinkID == 0 {
		a.scanLinkID = opts.ScanLinkID
	}
	if opts.Until.After(a.until) {
		a.until = opts.Until.UTC()
		a.status.Until = a.until
	}
	m.mu.Unlock()
	return m.snapshot(a)
}

func (m *Manager) newAttempt(line *Line, opts PairingOptions) *pairingAttempt {
	now := m.now()
	until := opts.Until.UTC()
	if opts.Until.IsZero() {
		until = now.Add(m.opts.PairingBound)
	}
	via := opts.Via
	if via == "" {
		via = LinkedViaQR
	}
	expected := ""
	if line.ExpectedPhone != "" {
		if phone, err := wa.NormalizePhone(line.ExpectedPhone); err == nil {
			expected = phone
		} else {
			m.log.Warn("Expected phone of a line is not a valid number; any number may pair", "line_id", line.ID, "error", err)
		}
	}

	ctx, cancel := context.WithCancel(m.ctx)
	return &pairingAttempt{
		lineID:     line.ID,
		until:      until,
		scanLinkID: opts.ScanLinkID,
		expected:   expected,
		prevState:  line.State,
		prevReason: line.StateReason,
		ctx:        ctx,
		cancel:     cancel,
		via:        via,
		polledAt:   now,
		status: PairingStatus{
			LineID:    line.ID,
			Step:      PairingStarting,
			StartedAt: now,
			Until:     until,
		},
	}
}

// PairingStatus returns the current state of the line's pairing attempt and
// records that someone looks at it. Past the attempt's Until a running
// attempt ends as expired. Without an attempt it returns ErrNotOwner when
// another instance holds the line, else ErrPairingNotRunning.
func (m *Manager) PairingStatus(ctx context.Context, lineID uint64) (*PairingStatus, error) {
	m.mu.Lock()
	var a *pairingAttempt
	if rt := m.runtimes[lineID]; rt != nil {
		a = rt.attempt
	}
	var until time.Time
	if a != nil {
		a.polledAt = m.now()
		until = a.until
	}
	m.mu.Unlock()

	if a == nil {
		return nil, m.noAttemptError(ctx, lineID)
	}
	if !m.now().Before(until) && m.claimFinish(a) {
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

// openPairingClient opens a fresh unpaired device for an attempt.
func (m *Manager) openPairingClient(a *pairingAttempt) (*client, error) {
	c := &client{lineID: a.lineID}
	session, err := m.backend.Open(a.ctx, types.EmptyJID, m.handlerFor(c), wa.OpenOptions{
		PrePair: m.prePair(a),
		Log:     m.log.With("line_id", a.lineID),
	})
	if err != nil {
		return nil, fmt.Errorf("open a new WhatsApp device for line %d: %w", a.lineID, err)
	}
	c.session = session
	return c, nil
}

// prePair rejects a number linked to another line or, when the line
// expects one, any other number. A database error rejects too.
func (m *Manager) prePair(a *pairingAttempt) func(jid types.JID, platform, business string) bool {
	return func(jid types.JID, platform, business string) bool {
		ctx, cancel := context.WithTimeout(a.ctx, 10*time.Second)
		defer cancel()

		err := m.checkNumber(ctx, a, jid.User)
		if err == nil {
			return true
		}
		key := errorKeyOf(err)
		m.mu.Lock()
		a.rejectKey = key
		m.mu.Unlock()
		m.log.Info("Pairing rejected the scanning number", "line_id", a.lineID, "error_key", key, "error", err)
		return false
	}
}

// checkNumber returns ErrWrongNumber or ErrNumberLinkedElsewhere when phone
// may not be linked to the attempt's line.
func (m *Manager) checkNumber(ctx context.Context, a *pairingAttempt, phone string) error {
	return m.checkNumberIn(ctx, m.lines, a, phone)
}

func (m *Manager) checkNumberIn(ctx context.Context, store *LineStore, a *pairingAttempt, phone string) error {
	if a.expected != "" && a.expected != phone {
		return fmt.Errorf("line %d expects %s, got %s: %w", a.lineID, a.expected, phone, ErrWrongNumber)
	}
	others, err := store.LinkedByPhone(ctx, phone, a.lineID)
	if err != nil {
		return err
	}
	if len(others) > 0 {
		return fmt.Errorf("%s is linked to line %d: %w", phone, others[0].ID, ErrNumberLinkedElsewhere)
	}
	return nil
}

func errorKeyOf(err error) string {
	switch {
	case errors.Is(err, ErrNumberLinkedElsewhere):
		return PairingErrNumberLinkedElsewhere
	case errors.Is(err, ErrWrongNumber):
		return PairingErrWrongNumber
	case errors.Is(err, wa.ErrClientOutdated):
		return PairingErrClientOutdated
	case errors.Is(err, wa.ErrScannedWithoutMultidevice):
		return PairingErrNoMultidevice
	default:
		return PairingErrFailed
	}
}
