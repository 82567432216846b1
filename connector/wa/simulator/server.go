package simulator

import (
	"fmt"
	"sort"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/wabridge/b24wa/connector/wa"
)

// Drop closes the connections of the devices of phone (of every device when
// phone is empty) from the server's side: handlers get Disconnected and the
// sessions reconnect after Options.ReconnectDelay on the simulator's clock.
// It returns how many connections it closed.
func (s *Simulator) Drop(phone string) (int, error) {
	digits, err := optionalPhone(phone)
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	var waits []<-chan struct{}
	for sess := range s.sessions {
		if digits != "" && (sess.dev == nil || sess.dev.phone != digits) {
			continue
		}
		if done := s.dropLocked(sess); done != nil {
			waits = append(waits, done)
		}
	}
	s.mu.Unlock()
	wait(waits)
	return len(waits), nil
}

// DropAll drops every connection, like a network outage.
func (s *Simulator) DropAll() int {
	n, _ := s.Drop("")
	return n
}

// Ban bans the account of phone for expire: connected sessions get
// TemporaryBan and stay disconnected, and connects fail with it until the
// ban ends.
func (s *Simulator) Ban(phone string, code events.TempBanReason, expire time.Duration) error {
	digits, err := wa.NormalizePhone(phone)
	if err != nil {
		return fmt.Errorf("%w: phone: %w", ErrInvalidRequest, err)
	}
	if expire <= 0 {
		return fmt.Errorf("%w: ban duration must be positive, got %s", ErrInvalidRequest, expire)
	}
	s.mu.Lock()
	devices := s.findDevicesLocked(digits)
	if len(devices) == 0 {
		s.mu.Unlock()
		return fmt.Errorf("ban %s: %w", digits, ErrNotLinked)
	}
	until := s.clock.Now().Add(expire)
	var waits []<-chan struct{}
	for _, dev := range devices {
		dev.banCode, dev.banUntil = code, until
		if sess := s.liveSessionLocked(dev); sess != nil {
			s.disconnectLocked(sess)
			sess.loggedIn = false
			waits = append(waits, sess.post(&events.TemporaryBan{Code: code, Expire: expire}, nil))
		}
	}
	err = s.saveLocked()
	s.mu.Unlock()
	wait(waits)
	if err != nil {
		return fmt.Errorf("ban %s: %w", digits, err)
	}
	return nil
}

// SetOutdated plays WhatsApp raising its minimum client version: while set,
// connected sessions get ClientOutdated and disconnect, connects fail with
// ClientOutdated and pairings end with wa.ErrClientOutdated.
func (s *Simulator) SetOutdated(outdated bool) {
	s.mu.Lock()
	s.outdated = outdated
	s.persistLocked("outdated")
	var waits []<-chan struct{}
	if outdated {
		for sess := range s.sessions {
			if p := sess.pairing; p != nil {
				waits = append(waits, sess.post(&events.ClientOutdated{}, nil))
				s.finishPairingLocked(p, &whatsmeow.QRChannelClientOutdated, nil)
				continue
			}
			if sess.connected {
				s.disconnectLocked(sess)
				sess.loggedIn = false
				waits = append(waits, sess.post(&events.ClientOutdated{}, nil))
			}
		}
	}
	s.mu.Unlock()
	wait(waits)
}

// Replace plays a second client connecting with the keys of phone's
// devices: their sessions get StreamReplaced and do not reconnect.
func (s *Simulator) Replace(phone string) (int, error) {
	digits, err := wa.NormalizePhone(phone)
	if err != nil {
		return 0, fmt.Errorf("%w: phone: %w", ErrInvalidRequest, err)
	}
	s.mu.Lock()
	var waits []<-chan struct{}
	for _, dev := range s.findDevicesLocked(digits) {
		if sess := s.liveSessionLocked(dev); sess != nil {
			s.disconnectLocked(sess)
			sess.loggedIn = false
			waits = append(waits, sess.post(&events.StreamReplaced{}, nil))
		}
	}
	s.mu.Unlock()
	wait(waits)
	return len(waits), nil
}

// SetSendFailure makes sends to the customer number phone fail; SendOK
// clears it.
func (s *Simulator) SetSendFailure(phone string, failure SendFailure) error {
	digits, err := wa.NormalizePhone(phone)
	if err != nil {
		return fmt.Errorf("%w: phone: %w", ErrInvalidRequest, err)
	}
	switch failure {
	case SendOK, SendNotOnWhatsApp, SendReachoutTimelock, SendNoLID:
	default:
		return fmt.Errorf("%w: failure %q is not one of not_on_whatsapp, reachout_timelock, no_lid or empty", ErrInvalidRequest, failure)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if failure == SendOK {
		delete(s.sendFailures, digits)
	} else {
		s.sendFailures[digits] = failure
	}
	return s.saveLocked()
}

// State is a snapshot of the simulator for GET /simulator/state.
type State struct {
	Devices       []DeviceState `json:"devices"`
	LinkedNumbers []string      `json:"linked_numbers"`
	Pairings      int           `json:"pairings"` // running QR pairings
	Outdated      bool          `json:"outdated"`
	// PasskeyWaits lists the numbers whose passkey confirmation a running
	// pairing waits for; see ConfirmPasskey.
	PasskeyWaits []string `json:"passkey_waits"`
}

// DeviceState describes one device in the store.
type DeviceState struct {
	JID       string     `json:"jid"`
	LID       string     `json:"lid"`
	Phone     string     `json:"phone"`
	PushName  string     `json:"push_name"`
	Platform  string     `json:"platform"`
	LinkedAt  time.Time  `json:"linked_at"`
	Connected bool       `json:"connected"`
	LoggedIn  bool       `json:"logged_in"`
	Unlinked  bool       `json:"unlinked"` // removed on the phone, refused at next connect
	BanUntil  *time.Time `json:"ban_until,omitempty"`
	Queued    int        `json:"queued"` // events waiting for acknowledgement
	Outbound  int        `json:"outbound"`
}

// State returns every device with its connection flags.
func (s *Simulator) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	state := State{
		Devices: []DeviceState{}, LinkedNumbers: []string{}, Pairings: len(s.pairings),
		PasskeyWaits: s.passkeyNumbersLocked(), Outdated: s.outdated,
	}
	numbers := map[string]bool{}
	now := s.clock.Now()
	for _, dev := range s.devices {
		ds := DeviceState{
			JID: dev.jid.String(), LID: dev.lid.String(), Phone: dev.phone, PushName: dev.pushName,
			Platform: dev.platform, LinkedAt: dev.linkedAt, Unlinked: dev.unlinked,
			Queued: len(dev.queue), Outbound: len(dev.outbound),
		}
		for sess := range s.sessions {
			if sess.dev == dev {
				ds.Connected = ds.Connected || sess.connected
				ds.LoggedIn = ds.LoggedIn || (sess.connected && sess.loggedIn)
			}
		}
		if now.Before(dev.banUntil) {
			until := dev.banUntil
			ds.BanUntil = &until
		}
		if !dev.unlinked && !numbers[dev.phone] {
			numbers[dev.phone] = true
			state.LinkedNumbers = append(state.LinkedNumbers, dev.phone)
		}
		state.Devices = append(state.Devices, ds)
	}
	sort.Slice(state.Devices, func(i, j int) bool { return state.Devices[i].JID < state.Devices[j].JID })
	sort.Strings(state.LinkedNumbers)
	return state
}

func optionalPhone(phone string) (string, error) {
	if phone == "" {
		return "", nil
	}
	digits, err := wa.NormalizePhone(phone)
	if err != nil {
		return "", fmt.Errorf("%w: phone: %w", ErrInvalidRequest, err)
	}
	return digits, nil
}
