package meow

import (
	"fmt"

	"go.mau.fi/whatsmeow/types/events"
)

// handleEvent passes a whatsmeow event to the app's handler. Its result is
// whatsmeow's success status: false withholds the ack of a message, receipt
// or notification, so WhatsApp delivers it again.
func (s *Session) handleEvent(evt any) bool {
	s.observe(evt)
	err := s.handler(evt)
	if err == nil {
		return true
	}
	if carriesPairingState(evt) {
		// whatsmeow stops calling later handlers at the first false, and
		// the QR channel's handler comes after ours: it must still see this.
		s.log.Error("Event handler failed on a connection event", "event", fmt.Sprintf("%T", evt), "error", err)
		return true
	}
	s.log.Warn("Event handler failed; the event is not acknowledged and WhatsApp will deliver it again",
		"event", fmt.Sprintf("%T", evt), "error", err)
	return false
}

// observe keeps what the session itself needs from an event.
func (s *Session) observe(evt any) {
	switch e := evt.(type) {
	case *events.PairSuccess:
		s.mu.Lock()
		s.pairSuccess = e
		s.mu.Unlock()
	case *events.Connected:
		s.mu.Lock()
		s.reconnectFailures = 0
		s.mu.Unlock()
	}
}

// carriesPairingState reports the events whatsmeow's QR channel listens to;
// none of them is acknowledged to WhatsApp.
func carriesPairingState(evt any) bool {
	switch evt.(type) {
	case *events.QR, *events.PairSuccess, *events.PairError, *events.QRScannedWithoutMultidevice,
		*events.ClientOutdated, *events.Connected, *events.Disconnected, *events.ConnectFailure,
		*events.LoggedOut, *events.TemporaryBan:
		return true
	}
	return false
}
