package connector

import (
	"context"
	"time"

	"github.com/wabridge/b24wa/connector/wa"
)

// Sessions is the session manager as the settings pages, scan links, the
// bridge and billing use it. Manager implements it.
type Sessions interface {
	// StartPairing starts QR pairing for a line, or returns the attempt
	// already running for it, so a second click reuses the first.
	StartPairing(ctx context.Context, lineID uint64, opts PairingOptions) (*PairingStatus, error)
	// PairingStatus returns the current state of the line's pairing attempt
	// and records that someone is looking at it; QR sessions that time out
	// are restarted only while someone looks and before opts.Until.
	PairingStatus(ctx context.Context, lineID uint64) (*PairingStatus, error)
	// PairPhone switches a running pairing attempt to a code typed on the
	// phone. phone may be in any common format; it is normalised first.
	PairPhone(ctx context.Context, lineID uint64, phone string) (*PairingStatus, error)
	// CancelPairing stops a running attempt and deletes the unpaired device.
	CancelPairing(ctx context.Context, lineID uint64) error
	// Logout unlinks the line's device, deletes its keys, closes its device
	// session row with reason and sets the line's state (logged_out, or
	// suspended for reason "payment").
	Logout(ctx context.Context, lineID uint64, reason string) error
	// Session returns the live WhatsApp session of a connected line owned by
	// this instance.
	Session(lineID uint64) (wa.Session, bool)
}

// PairingOptions tune one pairing attempt.
type PairingOptions struct {
	// Via records how the device was linked: "qr" on the settings page,
	// "scan_link" through a public link.
	Via string
	// Until bounds automatic QR restarts, for example a scan link's expiry.
	// Zero means the manager's default bound.
	Until time.Time
	// ScanLinkID is the link that started or joined the attempt, marked used
	// on success unless it was revoked meanwhile.
	ScanLinkID uint64
	// RequireUnlinked makes StartPairing return ErrLineLinked for a line
	// that has a device, where it would otherwise log that device out. The
	// public scan link pages set it.
	RequireUnlinked bool
}

// Pairing steps as shown to the person scanning.
const (
	PairingStarting = "starting" // connecting to WhatsApp, no code yet
	PairingQR       = "qr"       // QR is the code to show
	PairingCode     = "code"     // PairCode is the code to type on the phone
	PairingPasskey  = "passkey"  // the phone requests confirmation with a passkey
	PairingSuccess  = "success"  // linked; Phone and PushName are set
	PairingExpired  = "expired"  // codes timed out and no restart is allowed
	PairingFailed   = "failed"   // ErrorKey is the reason
)

// PairingStatus is a snapshot of a pairing attempt.
type PairingStatus struct {
	LineID      uint64
	Step        string
	QR          string    // raw QR content, rendered to an image by the page
	QRExpiresAt time.Time // when WhatsApp rotates this code
	PairCode    string
	Phone       string
	PushName    string
	// ErrorKey is a translation key for a failure the user can act on, for
	// example pairing.error.number_linked_elsewhere.
	ErrorKey  string
	Restarts  int
	StartedAt time.Time
	Until     time.Time
	// Via is the route that started the attempt (a PairingOptions.Via value).
	Via string
	// ScanLinkID is the scan link that started or last joined the attempt,
	// or 0.
	ScanLinkID uint64
}
