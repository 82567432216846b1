package meow

import (
	"context"
	"fmt"

	"go.mau.fi/whatsmeow"

	"github.com/wabridge/b24wa/connector/wa"
)

// pairItemBuffer matches whatsmeow's QR channel, which holds a whole
// pairing: six codes and the final item.
const pairItemBuffer = 8

// PairQR gets whatsmeow's QR channel before connecting, as whatsmeow
// requires, and translates its items with wa.PairItemFromQR. Cancelling
// ctx stops the codes and disconnects.
func (s *Session) PairQR(ctx context.Context) (<-chan wa.PairItem, error) {
	qr, err := s.client.GetQRChannel(ctx)
	if err != nil {
		return nil, fmt.Errorf("start QR pairing: %w", err)
	}
	s.mu.Lock()
	s.pairSuccess = nil
	s.pairing = true
	s.mu.Unlock()

	s.resetStop()
	s.backend.track(s, true)
	if err := s.client.Connect(); err != nil {
		s.endPairing(false)
		s.client.Disconnect()
		return nil, fmt.Errorf("connect for QR pairing: %w", err)
	}

	out := make(chan wa.PairItem, pairItemBuffer)
	go s.translatePairing(ctx, qr, out)
	return out, nil
}

// translatePairing forwards whatsmeow's QR items until whatsmeow closes
// its channel. Items that find no reader after ctx ended are dropped.
func (s *Session) translatePairing(ctx context.Context, qr <-chan whatsmeow.QRChannelItem, out chan<- wa.PairItem) {
	defer close(out)
	paired := false
	for item := range qr {
		translated := s.translateQRItem(item)
		paired = translated.Kind == wa.PairSuccess
		select {
		case out <- translated:
		case <-ctx.Done():
		}
	}
	s.endPairing(paired)
}

// translateQRItem adds the result of events.PairSuccess to a success item.
// NOTE: the push name stays empty: whatsmeow learns the account's name from
// app state after pairing (events.PushNameSetting), later than this item.
func (s *Session) translateQRItem(item whatsmeow.QRChannelItem) wa.PairItem {
	if item.Event != whatsmeow.QRChannelSuccess.Event {
		return wa.PairItemFromQR(item, nil, "")
	}
	s.mu.Lock()
	success := s.pairSuccess
	s.mu.Unlock()
	return wa.PairItemFromQR(item, success, "")
}

func (s *Session) endPairing(paired bool) {
	s.mu.Lock()
	s.pairing = false
	s.mu.Unlock()
	if !paired {
		s.backend.track(s, false)
	}
}

// PairPhone requests a code to type on the phone with number phone, on the
// connection of the running QR pairing.
func (s *Session) PairPhone(ctx context.Context, phone string) (string, error) {
	s.mu.Lock()
	pairing := s.pairing
	s.mu.Unlock()
	if !pairing {
		return "", wa.ErrPairingNotRunning
	}
	code, err := s.client.PairPhone(ctx, phone, true, whatsmeow.PairClientChrome, s.backend.opts.PairDisplayName)
	if err != nil {
		return "", fmt.Errorf("request pairing code: %w", wa.ClassifyPairPhoneError(err))
	}
	return code, nil
}
