package wa

import (
	"errors"
	"fmt"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/types/events"
)

// PairItemFromQR translates an item of whatsmeow's QR channel into a
// PairItem. success is the events.PairSuccess the session saw before the
// channel reported success (nil when none was seen), and pushName the
// account's name when known (whatsmeow learns it only after pairing, so it
// is often empty). Both backends use it, so the session manager receives the
// same items from either.
func PairItemFromQR(item whatsmeow.QRChannelItem, success *events.PairSuccess, pushName string) PairItem {
	switch item.Event {
	case whatsmeow.QRChannelEventCode:
		return PairItem{Kind: PairQRCode, Code: item.Code, Timeout: item.Timeout}
	case whatsmeow.QRChannelSuccess.Event:
		out := PairItem{Kind: PairSuccess, PushName: pushName}
		if success != nil {
			out.JID = success.ID
			out.Platform = success.Platform
			out.Business = success.BusinessName
		}
		return out
	case whatsmeow.QRChannelTimeout.Event:
		return PairItem{Kind: PairTimeout}
	case whatsmeow.QRChannelClientOutdated.Event:
		return PairItem{Kind: PairError, Err: ErrClientOutdated}
	case whatsmeow.QRChannelScannedWithoutMultidevice.Event:
		return PairItem{Kind: PairError, Err: ErrScannedWithoutMultidevice}
	case whatsmeow.QRChannelErrUnexpectedEvent.Event:
		return PairItem{Kind: PairError, Err: ErrUnexpectedPairState}
	case whatsmeow.QRChannelEventError:
		return PairItem{Kind: PairError, Err: classifyPairError(item.Error)}
	default:
		return PairItem{Kind: PairError, Err: fmt.Errorf("%w: QR channel event %q", ErrUnexpectedPairState, item.Event)}
	}
}

func classifyPairError(err error) error {
	if err == nil {
		return ErrUnexpectedPairState
	}
	if errors.Is(err, whatsmeow.ErrPairRejectedLocally) {
		return fmt.Errorf("%w: %w", ErrPairRejected, err)
	}
	return fmt.Errorf("pairing failed: %w", err)
}

// ClassifyPairPhoneError maps the errors of whatsmeow's PairPhone to this
// package's sentinels (ErrPhoneTooShort, ErrPhoneNotInternational,
// ErrPairRateLimited), keeping the original in the chain. Other errors, and
// nil, are returned unchanged.
func ClassifyPairPhoneError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, whatsmeow.ErrPhoneNumberTooShort):
		return fmt.Errorf("%w: %w", ErrPhoneTooShort, err)
	case errors.Is(err, whatsmeow.ErrPhoneNumberIsNotInternational):
		return fmt.Errorf("%w: %w", ErrPhoneNotInternational, err)
	case errors.Is(err, whatsmeow.ErrIQRateOverLimit):
		return fmt.Errorf("%w: %w", ErrPairRateLimited, err)
	default:
		return err
	}
}
