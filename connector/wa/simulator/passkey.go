package simulator

import (
	"errors"
	"fmt"
	"strings"

	"go.mau.fi/whatsmeow/types"

	"github.com/wabridge/b24wa/connector/wa"
)

// passkeyWait is a phone that scanned the QR code (or typed the pairing
// code) of a pairing and must now confirm the link with its passkey.
type passkeyWait struct {
	phone    string // digits of the business number
	pushName string
}

// ScanWithPasskey plays the phone of number phone scanning qr on an account
// that WhatsApp makes confirm every new link with a passkey. The pairing
// gets a wa.PairPasskey item and keeps its connection, and QR rotation
// stops. ConfirmPasskey then plays the phone confirming or rejecting the
// prompt. ScanWithPasskey returns ErrQRUnknown for a code that is not the
// current one of a running pairing and ErrPasskeyPending when phone already
// has a link to confirm.
//
// NOTE: whatsmeow (2025-12) has no passkey events, so the item is modelled
// on the passkey request of newer WhatsApp accounts and no event reaches
// the session's handler.
func (s *Simulator) ScanWithPasskey(qr, phone, pushName string) error {
	digits, err := wa.NormalizePhone(phone)
	if err != nil {
		return fmt.Errorf("%w: phone: %w", ErrInvalidRequest, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.qrs[qr]
	if p == nil || p.done || p.claimed || !s.clock.Now().Before(p.expires) {
		return ErrQRUnknown
	}
	return s.askPasskeyLocked(p, digits, pushName)
}

// EnterCodeWithPasskey is EnterCode on an account that must confirm the
// link with a passkey; see ScanWithPasskey. It returns ErrPairCodeUnknown
// for a code that is unknown or was requested for another number.
func (s *Simulator) EnterCodeWithPasskey(code, phone, pushName string) error {
	digits, err := wa.NormalizePhone(phone)
	if err != nil {
		return fmt.Errorf("%w: phone: %w", ErrInvalidRequest, err)
	}
	code = strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(code), "-", ""))
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pairCodes[code]
	if p == nil || p.done || p.claimed || p.pairPhone != digits {
		return ErrPairCodeUnknown
	}
	return s.askPasskeyLocked(p, digits, pushName)
}

// askPasskeyLocked claims p for the phone, stops the QR rotation, retires
// the shown codes and reports the passkey step. The caller holds s.mu.
func (s *Simulator) askPasskeyLocked(p *pairing, phone, pushName string) error {
	if s.passkeyWaitLocked(phone) != nil {
		return fmt.Errorf("scan with %s: %w", phone, ErrPasskeyPending)
	}
	p.claimed = true
	if p.timer != nil {
		p.timer.Stop()
	}
	delete(s.qrs, p.current)
	p.current = ""
	delete(s.pairCodes, p.pairCode)
	p.pairCode = ""
	p.passkey = &passkeyWait{phone: phone, pushName: pushName}
	p.send(wa.PairItem{Kind: wa.PairPasskey})
	return nil
}

// ConfirmPasskey plays phone confirming (approve) or rejecting WhatsApp's
// passkey prompt. With approve the link completes like Scan: it returns the
// linked device JID once the handler saw PairSuccess, or ErrNumberRejected
// when the app's PrePair rejects the number. Without approve the pairing
// ends with a PairError item wrapping wa.ErrPasskeyRejected, the connection
// closes and it returns an empty JID and nil. It returns
// ErrPasskeyNotRequested when no running pairing waits for phone.
func (s *Simulator) ConfirmPasskey(phone string, approve bool) (types.JID, error) {
	digits, err := wa.NormalizePhone(phone)
	if err != nil {
		return types.EmptyJID, fmt.Errorf("%w: phone: %w", ErrInvalidRequest, err)
	}
	s.mu.Lock()
	p := s.passkeyWaitLocked(digits)
	if p == nil {
		s.mu.Unlock()
		return types.EmptyJID, fmt.Errorf("confirm passkey of %s: %w", digits, ErrPasskeyNotRequested)
	}
	wait := p.passkey
	p.passkey = nil
	if !approve {
		done := s.rejectPasskeyLocked(p)
		s.mu.Unlock()
		<-done
		return types.EmptyJID, nil
	}
	s.mu.Unlock()

	jid, err := s.linkClaimed(p, digits, wait.pushName)
	if errors.Is(err, ErrQRUnknown) {
		// The pairing ended between the lookup and the link.
		return types.EmptyJID, fmt.Errorf("confirm passkey of %s: %w", digits, ErrPasskeyNotRequested)
	}
	return jid, err
}

// rejectPasskeyLocked ends p after the phone rejected the passkey prompt:
// an error item, a closed channel and a closed connection. The item goes through
// the session's event queue, so it follows every event posted before. The
// caller holds s.mu.
func (s *Simulator) rejectPasskeyLocked(p *pairing) <-chan struct{} {
	s.stopPairingLocked(p)
	p.sess.connected = false
	item := wa.PairItem{Kind: wa.PairError, Err: fmt.Errorf("phone rejected the passkey prompt: %w", wa.ErrPasskeyRejected)}
	return p.sess.post(nil, func() {
		p.send(item)
		close(p.out)
	})
}

// passkeyWaitLocked returns the running pairing that waits for phone's
// passkey, or nil. The caller holds s.mu.
func (s *Simulator) passkeyWaitLocked(phone string) *pairing {
	for _, p := range s.pairings {
		if !p.done && p.passkey != nil && p.passkey.phone == phone {
			return p
		}
	}
	return nil
}

// passkeyNumbersLocked lists the numbers whose passkey confirmation a
// pairing waits for, oldest pairing first. The caller holds s.mu.
func (s *Simulator) passkeyNumbersLocked() []string {
	out := []string{}
	for _, p := range s.pairings {
		if !p.done && p.passkey != nil {
			out = append(out, p.passkey.phone)
		}
	}
	return out
}
