package connector

import "errors"

// Errors of the line store and the session manager. Handlers map them to
// responses with errors.Is; each is returned wrapped with the line id or the
// value at fault.
var (
	// ErrLineNotFound is returned by LineStore and Manager methods for a line
	// id, or portal and open line id, that has no row.
	ErrLineNotFound = errors.New("line not found")
	// ErrNumberLinkedElsewhere is returned when a WhatsApp number that is
	// already linked to another line, of any portal, tries to pair.
	ErrNumberLinkedElsewhere = errors.New("WhatsApp number is already linked to another line")
	// ErrWrongNumber is returned when a line has an expected phone number and
	// a different number tries to pair.
	ErrWrongNumber = errors.New("WhatsApp number differs from the number expected for this line")
	// ErrNotLinked is returned by Logout and Reconnect for a line that has no
	// linked WhatsApp device.
	ErrNotLinked = errors.New("line has no linked WhatsApp device")
	// ErrPairingNotRunning is returned by PairingStatus, PairPhone and
	// CancelPairing when this instance runs no pairing attempt for the line,
	// for example after a restart: the page should start pairing again.
	ErrPairingNotRunning = errors.New("no pairing attempt is running for the line")
	// ErrNotOwner is returned by Manager methods for a line whose WhatsApp
	// session is leased by another live instance. Only that instance may
	// connect, pair or log out the line.
	ErrNotOwner = errors.New("line is owned by another instance")
	// ErrLineSuspended is returned by StartPairing for a line suspended for
	// non-payment; billing sets it to needs_scan once it is paid.
	ErrLineSuspended = errors.New("line is suspended until it is paid")
	// ErrLineLinked is returned by StartPairing with
	// PairingOptions.RequireUnlinked for a line that has a linked device.
	ErrLineLinked = errors.New("line already has a linked WhatsApp device")
	// ErrManagerClosed is returned by Manager methods after Close.
	ErrManagerClosed = errors.New("session manager is closed")
	// ErrManagerStarted is returned by a second call of Start.
	ErrManagerStarted = errors.New("session manager is already started")
)
