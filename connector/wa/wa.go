// Package wa is the narrow boundary between the bridge and WhatsApp. The
// bridge sees a Backend that opens one Session per line. Two backends
// implement it: one on go.mau.fi/whatsmeow that talks to WhatsApp's servers,
// and an in-memory simulator that plays the phone and the servers for tests
// and offline tryouts. Both speak whatsmeow's own types: messages are
// *waE2E.Message protos and events are the values of whatsmeow's
// types/events package, so everything above this package runs the same code
// against either backend.
package wa

import (
	"context"
	"log/slog"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
)

// Backend opens WhatsApp sessions. Implementations must be safe for
// concurrent use.
type Backend interface {
	// Open returns the session of a linked device, or a fresh unpaired device
	// when jid is empty. Events of the session are passed to handler, which
	// must return nil only after it has durably stored what it needs: a
	// message is acknowledged to WhatsApp only when handler returned nil.
	Open(ctx context.Context, jid types.JID, handler EventHandler, opts OpenOptions) (Session, error)
	// Devices lists the JIDs of every linked device kept in the store.
	Devices(ctx context.Context) ([]types.JID, error)
	// DeleteDevice removes every key of the device from the store without
	// talking to WhatsApp. It is used when a session ended while offline.
	DeleteDevice(ctx context.Context, jid types.JID) error
	// Close disconnects every open session.
	Close() error
}

// EventHandler receives whatsmeow event values: *events.Message,
// *events.Receipt, *events.Connected, *events.Disconnected,
// *events.LoggedOut, *events.StreamReplaced, *events.TemporaryBan,
// *events.ClientOutdated, *events.KeepAliveTimeout, *events.KeepAliveRestored,
// *events.PairSuccess, *events.UndecryptableMessage, *events.ConnectFailure
// and others. A non-nil error for a message means "not stored": the message
// is not acknowledged and WhatsApp delivers it again.
type EventHandler func(evt any) error

// Session is one line's WhatsApp device.
type Session interface {
	// JID is the device's own JID, empty until paired.
	JID() types.JID
	// PairQR starts QR pairing on an unpaired device and connects it. The
	// channel carries QR codes on whatsmeow's schedule, then one final item
	// (success, timeout or error) and is closed.
	PairQR(ctx context.Context) (<-chan PairItem, error)
	// PairPhone requests from WhatsApp an 8-character code to type on the phone
	// whose number is phone (digits only, international form). PairQR must
	// be running, because pairing by code happens on the same connection.
	PairPhone(ctx context.Context, phone string) (string, error)
	// Connect connects a paired device; reconnects after that are automatic.
	Connect(ctx context.Context) error
	// Disconnect closes the socket and keeps the keys.
	Disconnect()
	// Logout unlinks the device on WhatsApp's side and deletes its keys.
	Logout(ctx context.Context) error
	// IsConnected reports a live socket; IsLoggedIn a device that is paired and
	// was not logged out. A line is connected only when both are true.
	IsConnected() bool
	IsLoggedIn() bool

	// NewMessageID returns a fresh message id to pass in SendOptions.ID, so a
	// send can be stored before it happens and repeated without duplicates.
	NewMessageID() types.MessageID
	// Send sends a message to a chat.
	Send(ctx context.Context, to types.JID, msg *waE2E.Message, opts SendOptions) (SendResult, error)
	// Upload stores media on WhatsApp's servers for a later Send.
	Upload(ctx context.Context, data []byte, kind whatsmeow.MediaType) (whatsmeow.UploadResponse, error)
	// Download fetches and decrypts the media of a received message.
	Download(ctx context.Context, msg whatsmeow.DownloadableMessage) ([]byte, error)
	// MarkRead sends read receipts for messages of sender in chat.
	MarkRead(ctx context.Context, chat, sender types.JID, ids []types.MessageID, at time.Time) error
	// BuildEdit and BuildRevoke wrap whatsmeow's builders of the protocol
	// messages that edit or revoke an earlier message.
	BuildEdit(chat types.JID, id types.MessageID, content *waE2E.Message) *waE2E.Message
	BuildRevoke(chat, sender types.JID, id types.MessageID) *waE2E.Message
	// PNForLID returns the phone-number JID of a hidden-number (LID) user when
	// the store has the mapping, or an empty JID.
	PNForLID(ctx context.Context, lid types.JID) (types.JID, error)
	// ProfilePicture downloads the full-size profile picture of a user or
	// group. It returns nil and a nil error when the contact has no picture
	// or hides it from this account.
	ProfilePicture(ctx context.Context, jid types.JID) (*Picture, error)
}

// Picture is a downloaded profile picture.
type Picture struct {
	// ID is WhatsApp's id of the picture. It changes when the contact sets a
	// new one, so comparing it to a stored id detects the change.
	ID       string
	Data     []byte
	MimeType string
}

// OpenOptions are optional parameters of Backend.Open.
type OpenOptions struct {
	// PrePair is called when a phone scanned the code, before pairing is
	// completed. Returning false rejects the number (for example one that is
	// already linked to another line), and the pairing fails.
	PrePair func(jid types.JID, platform, business string) bool
	// Log, when set, is the logger of this session, for example one with a
	// line_id attribute; nil uses the backend's logger.
	Log *slog.Logger
}

// SendOptions are optional parameters of Session.Send.
type SendOptions struct {
	// ID is the message id to use; empty lets the backend pick one.
	ID types.MessageID
}

// SendResult is WhatsApp's reply to a sent message.
type SendResult struct {
	ID        types.MessageID
	Timestamp time.Time
}

// PairKind is the type of a PairItem.
type PairKind string

// Pairing steps reported on the PairQR channel.
const (
	PairQRCode  PairKind = "code"    // Code is a new QR code, valid for Timeout
	PairPasskey PairKind = "passkey" // the phone requests confirmation with a passkey
	PairSuccess PairKind = "success" // JID, PushName and Platform are set
	PairTimeout PairKind = "timeout" // every code expired without a scan
	PairError   PairKind = "error"   // Err is the reason, for example a refused number
)

// PairItem is one step of QR pairing.
type PairItem struct {
	Kind     PairKind
	Code     string
	Timeout  time.Duration
	JID      types.JID
	PushName string
	Platform string
	Business string
	Err      error
}
