package wastore

import "errors"

// Errors returned by the Container and the per-device stores.
var (
	// ErrDeviceJIDMissing is returned by PutDevice and DeleteDevice for a
	// device that has no JID yet, that is, one that was never paired.
	ErrDeviceJIDMissing = errors.New("device JID must be known before it is stored")
	// ErrDeviceIncomplete is returned by PutDevice for a device without its
	// noise key, identity key, signed pre-key or ADV secret.
	ErrDeviceIncomplete = errors.New("device keys are missing")
	// ErrInvalidLength is returned when a stored key, signature or hash does
	// not have the length whatsmeow requires, which means the row is corrupt.
	ErrInvalidLength = errors.New("stored value has an invalid length")
	// ErrInvalidJID is returned by the LID store for a JID on the wrong
	// server, for example a phone-number JID where a LID is expected.
	ErrInvalidJID = errors.New("invalid JID for LID mapping")
)
