package simulator

import (
	"fmt"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/wabridge/b24wa/connector/wa"
)

// completePairing links the phone of number phone to p's session, asking
// the session's PrePair first, and waits until the handler saw the outcome.
func (s *Simulator) completePairing(p *pairing, phone, pushName string) (types.JID, error) {
	digits, err := wa.NormalizePhone(phone)
	if err != nil {
		return types.EmptyJID, fmt.Errorf("%w: phone: %w", ErrInvalidRequest, err)
	}

	s.mu.Lock()
	if p.done || p.claimed {
		s.mu.Unlock()
		return types.EmptyJID, ErrQRUnknown
	}
	p.claimed = true
	// Stop rotation while the app decides, so the code cannot expire under
	// the phone that already scanned it.
	if p.timer != nil {
		p.timer.Stop()
	}
	s.mu.Unlock()
	return s.linkClaimed(p, digits, pushName)
}

// linkClaimed links the phone of number phone (digits) to p, which that
// phone has claimed, asking the session's PrePair first. It returns
// ErrQRUnknown when p ended meanwhile.
func (s *Simulator) linkClaimed(p *pairing, digits, pushName string) (types.JID, error) {
	s.mu.Lock()
	if p.done {
		s.mu.Unlock()
		return types.EmptyJID, ErrQRUnknown
	}
	sess := p.sess
	jid := s.nextDeviceJIDLocked(digits)
	lid := accountLID(digits)
	lid.Device = jid.Device
	platform := s.opts.Platform
	prePair := sess.opts.PrePair
	s.mu.Unlock()

	accepted := prePair == nil || prePair(jid, platform, "")

	s.mu.Lock()
	if p.done {
		s.mu.Unlock()
		return types.EmptyJID, ErrQRUnknown
	}
	if !accepted {
		done := s.rejectPairingLocked(p, jid, lid, platform)
		s.mu.Unlock()
		<-done
		return types.EmptyJID, fmt.Errorf("link %s: %w", jid, ErrNumberRejected)
	}
	done := s.acceptPairingLocked(p, jid, lid, digits, pushName, platform)
	s.mu.Unlock()
	<-done
	return jid, nil
}

// rejectPairingLocked ends p as whatsmeow does when PrePairCallback returns
// false: a PairError event, an error item and a closed connection. The
// caller holds s.mu.
func (s *Simulator) rejectPairingLocked(p *pairing, jid, lid types.JID, platform string) <-chan struct{} {
	s.stopPairingLocked(p)
	p.sess.connected = false
	rejected := whatsmeow.QRChannelItem{Event: whatsmeow.QRChannelEventError, Error: whatsmeow.ErrPairRejectedLocally}
	evt := &events.PairError{ID: jid, LID: lid, Platform: platform, Error: whatsmeow.ErrPairRejectedLocally}
	return p.sess.post(evt, func() {
		p.send(wa.PairItemFromQR(rejected, nil, ""))
		close(p.out)
	})
}

// acceptPairingLocked stores the new device, reports PairSuccess to the
// handler and then to the QR channel, and logs the device in, as whatsmeow
// does after the server's 515 restart. The caller holds s.mu.
func (s *Simulator) acceptPairingLocked(p *pairing, jid, lid types.JID, phone, pushName, platform string) <-chan struct{} {
	sess := p.sess
	dev := &device{jid: jid, lid: lid, phone: phone, pushName: pushName, platform: platform, linkedAt: s.clock.Now()}
	s.devices[jid] = dev
	sess.dev = dev
	s.stopPairingLocked(p)
	// whatsmeow stores the device before it reports PairSuccess, so the app
	// never records a link whose keys a crash could lose.
	s.persistLocked("pairing")

	success := &events.PairSuccess{ID: jid, LID: lid, Platform: platform}
	item := wa.PairItemFromQR(whatsmeow.QRChannelSuccess, success, pushName)
	done := sess.post(success, func() {
		p.send(item)
		close(p.out)
	})

	s.connSeq++
	sess.conn = s.connSeq
	sess.connected = true
	sess.loggedIn = true
	sess.autoReconnect = true
	sess.post(&events.Connected{}, func() { s.flush(dev) })
	return done
}

// LinkDevice links a new device for the business number phone without a QR
// scan, as if it had been paired earlier, and returns its JID for
// Backend.Open. Tests of other packages use it to start from a linked line.
func (s *Simulator) LinkDevice(phone, pushName string) (types.JID, error) {
	digits, err := wa.NormalizePhone(phone)
	if err != nil {
		return types.EmptyJID, fmt.Errorf("%w: phone: %w", ErrInvalidRequest, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return types.EmptyJID, ErrClosed
	}
	jid := s.nextDeviceJIDLocked(digits)
	lid := accountLID(digits)
	lid.Device = jid.Device
	s.devices[jid] = &device{
		jid: jid, lid: lid, phone: digits, pushName: pushName,
		platform: s.opts.Platform, linkedAt: s.clock.Now(),
	}
	if err := s.saveLocked(); err != nil {
		return types.EmptyJID, fmt.Errorf("link device %s: %w", jid, err)
	}
	return jid, nil
}
