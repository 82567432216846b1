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
	PairingErrPasskeyTimeout        = "pairing.error.passkey_timeout"
	PairingErrPasskeyRejected       = "pairing.error.passkey_rejected"
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
	status     PairingStatus
	polledAt   time.Time
	rejectKey  string // translation key of a PrePair rejection, if any
	done       bool   // an outcome was claimed; see Manager.claimFinish
	doneAt     time.Time

	// passkeyUntil ends the passkey step; see askPasskey.
	passkeyUntil time.Time
}

// StartPairing starts QR pairing for a line, or returns the attempt already
// running for it. A line that has a device is logged out first with reason
// "relinked", unless opts.RequireUnlinked is set. It returns
// ErrLineNotFound, ErrLineSuspended, ErrLineLinked or ErrNotOwner.
func (m *Manager) StartPairing(ctx context.Context, lineID uint64, opts PairingOptions) (*PairingStatus, error) {
	if err := m.checkOpen(); err != nil {
		return nil, err
	}
	if _, err := m.lines.Get(ctx, lineID); err != nil {
		return nil, err
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
	// Read the line under the lock: a pairing that just succeeded has linked it.
	line, err := m.lines.Get(ctx, lineID)
	if err != nil {
		return nil, err
	}
	if line.State == StateSuspended {
		m.releaseLine(ctx, lineID)
		return nil, fmt.Errorf("pair line %d: %w", lineID, ErrLineSuspended)
	}
	if line.WaJID != "" && opts.RequireUnlinked {
		// The lease stays: the linked device's session needs it.
		return nil, fmt.Errorf("pair line %d: %w", lineID, ErrLineLinked)
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
// it as looked at, or nil. A scan link joining an attempt is recorded on
// it, replacing an earlier link, so success marks the link that is still
// open used. A later Until extends the attempt.
func (m *Manager) runningStatus(rt *lineRuntime, opts PairingOptions) *PairingStatus {
	m.mu.Lock()
	a := rt.attempt
	if a == nil || a.done {
		m.mu.Unlock()
		return nil
	}
	a.polledAt = m.now()
	if opts.ScanLinkID != 0 {
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
	case errors.Is(err, wa.ErrPasskeyRejected):
		return PairingErrPasskeyRejected
	default:
		return PairingErrFailed
	}
}
