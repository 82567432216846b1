package wa

import "errors"

// Errors that both backends return at the Session boundary, so the session
// manager and the bridge classify failures with errors.Is without knowing
// which backend runs. Each wraps the original whatsmeow error when there is
// one, so errors.Is against whatsmeow's own values keeps working.
var (
	// ErrPhoneInvalid is returned by NormalizePhone for characters other
	// than digits, spaces, brackets, dashes, dots and a leading plus.
	ErrPhoneInvalid = errors.New("phone number contains characters other than digits, spaces, brackets, dashes, dots and a leading plus")
	// ErrPhoneTooShort is returned by NormalizePhone and PairPhone for fewer
	// than 7 digits.
	ErrPhoneTooShort = errors.New("phone number is too short: at least 7 digits with the country code are required")
	// ErrPhoneTooLong is returned by NormalizePhone for more than 15 digits,
	// the E.164 maximum.
	ErrPhoneTooLong = errors.New("phone number is too long: at most 15 digits are allowed")
	// ErrPhoneNotInternational is returned by NormalizePhone and PairPhone
	// for a number starting with 0, which lacks the country code.
	ErrPhoneNotInternational = errors.New("phone number must start with the country code, not with 0")

	// ErrPairRateLimited is returned by PairPhone when WhatsApp rejected a
	// pairing code request with 429 rate-overlimit. Wait before requesting again.
	ErrPairRateLimited = errors.New("pairing code requests are rate-limited by WhatsApp, try again later")
	// ErrPairingNotRunning is returned by PairPhone when no QR pairing runs
	// on the session, because the code is requested on that connection.
	ErrPairingNotRunning = errors.New("pairing by code requires a running QR pairing on this session")
	// ErrPairRejected is the Err of a PairError item when OpenOptions.PrePair
	// rejected the number that scanned the code.
	ErrPairRejected = errors.New("pairing rejected for this phone number")
	// ErrClientOutdated is the Err of a PairError item when WhatsApp
	// rejected the client version (connect failure 405); whatsmeow must be
	// upgraded.
	ErrClientOutdated = errors.New("WhatsApp rejected the client version as outdated")
	// ErrScannedWithoutMultidevice is the Err of a PairError item when the
	// phone scanned the code without multi-device support.
	ErrScannedWithoutMultidevice = errors.New("the code was scanned by a phone without multi-device support")
	// ErrPasskeyRejected is the Err of a PairError item when the phone
	// refused or failed the passkey confirmation that WhatsApp asked for
	// after a PairPasskey item.
	ErrPasskeyRejected = errors.New("the phone did not confirm the link with its passkey")
	// ErrUnexpectedPairState is the Err of a PairError item when the
	// connection reported a state that cannot happen during pairing, for
	// example Connected on a device that was already paired.
	ErrUnexpectedPairState = errors.New("unexpected connection state during pairing")

	// ErrDeviceNotFound is returned by Backend.Open and DeleteDevice for a
	// JID that has no device in the store.
	ErrDeviceNotFound = errors.New("device not found in the store")
	// ErrRemoteUnlinkFailed is returned by Session.Logout when the unlink
	// request could not reach WhatsApp (for example while disconnected). The
	// local keys are deleted all the same, and the phone drops the stale device
	// when it never connects again.
	ErrRemoteUnlinkFailed = errors.New("unlinking the device on WhatsApp failed; local keys were deleted")

	// ErrReachoutTimelock is returned by Send for WhatsApp's error 463: the
	// number may not start new chats for a while and may only reply.
	ErrReachoutTimelock = errors.New("WhatsApp restricts messages to new contacts from this number (error 463)")
	// ErrNoLID is returned by Send when WhatsApp returned no hidden-number id
	// (LID) for the recipient's phone number.
	ErrNoLID = errors.New("WhatsApp returned no LID for the recipient")
	// ErrNotOnWhatsApp is returned by Send, wrapped together with ErrNoLID,
	// when the recipient's number is not registered on WhatsApp.
	ErrNotOnWhatsApp = errors.New("recipient is not on WhatsApp")
)
