package simulator

import "errors"

// Errors of the simulator's control API (the Go methods and the JSON routes
// that handlers.RegisterSimulator mounts). Errors of the wa.Backend and
// wa.Session methods are whatsmeow's or package wa's, as the real backend
// returns them.
var (
	// ErrQRUnknown is returned by Scan for a code that was never shown, was
	// superseded by a newer one or expired.
	ErrQRUnknown = errors.New("QR code is unknown or expired")
	// ErrPairCodeUnknown is returned by EnterCode for a pairing code that is
	// unknown, expired or was requested for another number.
	ErrPairCodeUnknown = errors.New("pairing code is unknown, expired or was requested for another number")
	// ErrNumberRejected is returned by Scan and EnterCode when the app's
	// PrePair callback rejected the number.
	ErrNumberRejected = errors.New("the app rejected this phone number")
	// ErrPasskeyPending is returned by ScanWithPasskey and
	// EnterCodeWithPasskey when the phone already has another link to
	// confirm with its passkey.
	ErrPasskeyPending = errors.New("this phone already has a link to confirm with its passkey")
	// ErrPasskeyNotRequested is returned by ConfirmPasskey when no running
	// pairing waits for the phone's passkey.
	ErrPasskeyNotRequested = errors.New("no pairing waits for a passkey confirmation from this phone")
	// ErrNotLinked is returned when no device is linked with the given
	// business number.
	ErrNotLinked = errors.New("no device is linked with this number")
	// ErrInvalidRequest is returned for a malformed control request; the
	// wrapping error names the field.
	ErrInvalidRequest = errors.New("invalid simulator request")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("simulator is closed")
)
