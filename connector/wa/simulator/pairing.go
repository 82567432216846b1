package simulator

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/wabridge/b24wa/connector/wa"
)

// WhatsApp's QR schedule as whatsmeow (2025-12, qrchan.go) emits it: six
// codes, the first valid 60 s and the others 20 s each, then a timeout.
const (
	qrCodeCount    = 6
	qrFirstTimeout = 60 * time.Second
	qrNextTimeout  = 20 * time.Second
	// pairItemBuffer is the QR channel's capacity, as in whatsmeow: room for
	// every code, one passkey step and the final item, so emitting does not
	// block. A second passkey step after a code request could overflow it
	// when the app does not read the channel, and send then drops the item
	// with a warning.
	pairItemBuffer = 8
)

// linkingAlphabet is the base32 alphabet of whatsmeow's pairing codes.
var linkingAlphabet = base32.NewEncoding("123456789ABCDEFGHJKLMNPQRSTVWXYZ")

// pairKeys are the public halves a QR code carries: the device's noise key,
// identity key and ADV secret, fixed for the device like in whatsmeow's store.
type pairKeys struct {
	noise, identity, adv string
}

// pairing is one running QR pairing of an unpaired session.
type pairing struct {
	sess    *session
	out     chan wa.PairItem
	codes   []string
	next    int
	current string
	expires time.Time
	timer   Timer
	stopCtx func() bool
	done    bool
	started time.Time
	// claimed is set when a phone scanned the code or typed the pairing
	// code, so a second phone cannot complete the same pairing.
	claimed bool

	codeRequests int
	pairCode     string
	pairPhone    string
	// passkey is set while the phone that claimed the pairing has to
	// confirm the link with its passkey; see ScanWithPasskey.
	passkey *passkeyWait
}

// PairQR starts QR pairing and the pre-login connection. Codes follow
// whatsmeow's schedule on the simulator's clock; the last item is success,
// timeout or an error. Cancelling ctx closes the channel and the connection.
func (sess *session) PairQR(ctx context.Context) (<-chan wa.PairItem, error) {
	s := sess.sim
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return nil, ErrClosed
	case sess.dev != nil:
		return nil, fmt.Errorf("start QR pairing: %w", whatsmeow.ErrQRStoreContainsID)
	case sess.connected:
		return nil, fmt.Errorf("start QR pairing: %w", whatsmeow.ErrQRAlreadyConnected)
	}

	if sess.keys.noise == "" {
		sess.keys = pairKeys{noise: randomBase64(32), identity: randomBase64(32), adv: randomBase64(32)}
	}
	p := &pairing{sess: sess, out: make(chan wa.PairItem, pairItemBuffer), started: s.clock.Now()}
	for range qrCodeCount {
		ref := "2@" + randomBase64(48)
		p.codes = append(p.codes, strings.Join([]string{ref, sess.keys.noise, sess.keys.identity, sess.keys.adv}, ","))
	}
	sess.pairing = p
	sess.connected = true
	s.pairings = append(s.pairings, p)

	if s.outdated {
		sess.post(&events.ClientOutdated{}, nil)
		s.finishPairingLocked(p, &whatsmeow.QRChannelClientOutdated, nil)
		return p.out, nil
	}
	sess.post(&events.QR{Codes: append([]string(nil), p.codes...)}, nil)
	s.emitCodeLocked(p)
	p.stopCtx = context.AfterFunc(ctx, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if !p.done {
			s.finishPairingLocked(p, nil, nil)
		}
	})
	return p.out, nil
}

// emitCodeLocked shows the next code, or ends the pairing with a timeout
// when all six expired. The caller holds s.mu.
func (s *Simulator) emitCodeLocked(p *pairing) {
	if p.done {
		return
	}
	delete(s.qrs, p.current)
	if p.next >= len(p.codes) {
		s.finishPairingLocked(p, &whatsmeow.QRChannelTimeout, nil)
		return
	}
	timeout := qrNextTimeout
	if p.next == 0 {
		timeout = qrFirstTimeout
	}
	code := p.codes[p.next]
	p.next++
	p.current = code
	p.expires = s.clock.Now().Add(timeout)
	s.qrs[code] = p
	item := whatsmeow.QRChannelItem{Event: whatsmeow.QRChannelEventCode, Code: code, Timeout: timeout}
	p.send(wa.PairItemFromQR(item, nil, ""))
	p.timer = s.clock.AfterFunc(timeout, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.emitCodeLocked(p)
	})
}

// finishPairingLocked stops p. When final is not nil its translation is sent
// before the channel closes; success carries the pairing result for it. A
// pairing that ends without success also ends the pre-login connection.
// The caller holds s.mu.
func (s *Simulator) finishPairingLocked(p *pairing, final *whatsmeow.QRChannelItem, success *events.PairSuccess) {
	if p.done {
		return
	}
	s.stopPairingLocked(p)
	if success == nil {
		p.sess.connected = false
	}
	if final != nil {
		pushName := ""
		if p.sess.dev != nil {
			pushName = p.sess.dev.pushName
		}
		p.send(wa.PairItemFromQR(*final, success, pushName))
	}
	close(p.out)
}

// stopPairingLocked marks p done and removes its codes and timers, keeping
// the channel open for a final item. The caller holds s.mu.
func (s *Simulator) stopPairingLocked(p *pairing) {
	p.done = true
	if p.timer != nil {
		p.timer.Stop()
	}
	if p.stopCtx != nil {
		p.stopCtx()
	}
	delete(s.qrs, p.current)
	if p.pairCode != "" {
		delete(s.pairCodes, p.pairCode)
	}
	for i, other := range s.pairings {
		if other == p {
			s.pairings = append(s.pairings[:i], s.pairings[i+1:]...)
			break
		}
	}
	if p.sess.pairing == p {
		p.sess.pairing = nil
	}
}

// send delivers an item without blocking; the buffer holds a whole pairing.
func (p *pairing) send(item wa.PairItem) {
	select {
	case p.out <- item:
	default:
		p.sess.log.Warn("Simulator dropped a pairing item: channel full", "kind", item.Kind)
	}
}

// PairPhone returns a code to type on the phone; EnterCode plays the phone.
// Errors are whatsmeow's, classified by wa.ClassifyPairPhoneError.
func (sess *session) PairPhone(ctx context.Context, phone string) (string, error) {
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, phone)
	if len(digits) <= 6 {
		return "", wa.ClassifyPairPhoneError(whatsmeow.ErrPhoneNumberTooShort)
	}
	if strings.HasPrefix(digits, "0") {
		return "", wa.ClassifyPairPhoneError(whatsmeow.ErrPhoneNumberIsNotInternational)
	}

	s := sess.sim
	s.mu.Lock()
	defer s.mu.Unlock()
	p := sess.pairing
	if p == nil || p.done {
		return "", wa.ErrPairingNotRunning
	}
	p.codeRequests++
	if p.codeRequests > s.opts.PairCodeLimit {
		return "", wa.ClassifyPairPhoneError(fmt.Errorf("request pairing code: %w", whatsmeow.ErrIQRateOverLimit))
	}
	if p.pairCode != "" {
		delete(s.pairCodes, p.pairCode)
	}
	if p.passkey != nil {
		// NOTE: how WhatsApp treats a code request while a phone holds a
		// passkey prompt is not known. The simulator drops the prompt, so
		// the code can link the device instead.
		p.passkey = nil
		p.claimed = false
	}
	raw := make([]byte, 5)
	_, _ = rand.Read(raw)
	code := linkingAlphabet.EncodeToString(raw)
	p.pairCode = code
	p.pairPhone = digits
	s.pairCodes[code] = p
	return code[:4] + "-" + code[4:], nil
}

// Scan plays the phone of number phone scanning qr. It returns the linked
// device JID once the app's handler saw PairSuccess, ErrQRUnknown for a code
// that is not the current one of a running pairing, and ErrNumberRejected
// when the app's PrePair refused the number.
func (s *Simulator) Scan(qr, phone, pushName string) (types.JID, error) {
	s.mu.Lock()
	p := s.qrs[qr]
	if p == nil || p.done || p.claimed || !s.clock.Now().Before(p.expires) {
		s.mu.Unlock()
		return types.EmptyJID, ErrQRUnknown
	}
	s.mu.Unlock()
	return s.completePairing(p, phone, pushName)
}

// EnterCode plays the phone of number phone typing a pairing code that
// PairPhone returned (with or without the dash).
func (s *Simulator) EnterCode(code, phone, pushName string) (types.JID, error) {
	digits, err := wa.NormalizePhone(phone)
	if err != nil {
		return types.EmptyJID, fmt.Errorf("%w: phone: %w", ErrInvalidRequest, err)
	}
	code = strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(code), "-", ""))
	s.mu.Lock()
	p := s.pairCodes[code]
	if p == nil || p.done || p.claimed || p.pairPhone != digits {
		s.mu.Unlock()
		return types.EmptyJID, ErrPairCodeUnknown
	}
	s.mu.Unlock()
	return s.completePairing(p, phone, pushName)
}

// CurrentQR returns the code a session's running pairing shows now.
func (s *Simulator) CurrentQR(ws wa.Session) (string, bool) {
	sess, ok := ws.(*session)
	if !ok {
		return "", false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if sess.pairing == nil || sess.pairing.done || sess.pairing.current == "" {
		return "", false
	}
	return sess.pairing.current, true
}

// LatestQR returns the current code of the most recently started pairing,
// for tests and people that do not hold the session.
func (s *Simulator) LatestQR() (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.pairings) - 1; i >= 0; i-- {
		if p := s.pairings[i]; !p.done && p.current != "" {
			return p.current, true
		}
	}
	return "", false
}

func randomBase64(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}
