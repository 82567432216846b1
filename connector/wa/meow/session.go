package meow

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/wabridge/b24wa/connector/wa"
)

// Session is one line's device: a whatsmeow.Client and its configuration.
type Session struct {
	backend *Backend
	client  *whatsmeow.Client
	handler wa.EventHandler
	log     *slog.Logger

	mu sync.Mutex
	// pairSuccess is the last events.PairSuccess, read when the QR channel
	// reports success (its item carries no JID).
	pairSuccess *events.PairSuccess
	pairing     bool
	// stop is closed by Disconnect and Logout to end a reconnect wait.
	stop chan struct{}
	// reconnectFailures counts failed reconnects since the last Connected.
	reconnectFailures int
}

var _ wa.Session = (*Session)(nil)

// newSession builds the client with the settings at-least-once delivery
// needs and registers the handler.
func newSession(b *Backend, device *store.Device, handler wa.EventHandler, opts wa.OpenOptions, log *slog.Logger) *Session {
	client := whatsmeow.NewClient(device, wa.NewLogger(log))
	s := &Session{backend: b, client: client, handler: handler, log: log, stop: make(chan struct{})}

	// Acks are sent only after every handler returned, and not at all when
	// ours failed, so WhatsApp redelivers what the app could not store.
	client.SynchronousAck = true
	// Decrypted plaintext is kept until the handler succeeded, so a
	// redelivered message decrypts again after a failed handler or a crash.
	client.EnableDecryptedEventBuffer = true
	client.AutomaticMessageRerequestFromPhone = true
	client.EnableAutoReconnect = true
	client.InitialAutoReconnect = true
	client.AutoReconnectHook = s.reconnectHook
	client.BackgroundEventCtx = b.ctx
	client.GetMessageForRetry = s.messageForRetry
	if opts.PrePair != nil {
		client.PrePairCallback = opts.PrePair
	}
	client.AddEventHandlerWithSuccessStatus(s.handleEvent)
	return s
}

// JID returns the device JID, empty until paired and after logout.
func (s *Session) JID() types.JID { return s.client.Store.GetJID() }

// Connect connects a paired device. The connection lives until Disconnect,
// Logout or the backend's Close, not until ctx ends, because whatsmeow ties
// its reconnects and handlers to the context it connects with. A network
// failure of the first attempt is retried in the background.
func (s *Session) Connect(ctx context.Context) error {
	if s.client.Store.ID == nil {
		return fmt.Errorf("connect: %w", whatsmeow.ErrNotLoggedIn)
	}
	s.resetStop()
	s.backend.track(s, true)
	if err := s.client.Connect(); err != nil {
		return fmt.Errorf("connect %s: %w", s.JID(), err)
	}
	return nil
}

// Disconnect closes the socket, stops reconnects and keeps the keys.
func (s *Session) Disconnect() {
	s.closeStop()
	s.client.Disconnect()
	s.backend.track(s, false)
}

// Logout unlinks the device and deletes its keys. When the unlink request
// fails (for example offline) the keys are deleted all the same and the
// error wraps wa.ErrRemoteUnlinkFailed.
func (s *Session) Logout(ctx context.Context) error {
	jid := s.JID()
	if jid.IsEmpty() {
		return fmt.Errorf("logout: %w", whatsmeow.ErrNotLoggedIn)
	}
	s.closeStop()
	defer s.backend.track(s, false)

	err := s.client.Logout(ctx)
	if err == nil {
		return nil
	}
	remoteFailed := strings.HasPrefix(err.Error(), "error sending logout request")
	s.client.Disconnect()
	if s.client.Store.ID != nil {
		if delErr := s.client.Store.Delete(ctx); delErr != nil {
			return fmt.Errorf("logout %s: delete keys: %w (after: %w)", jid, delErr, err)
		}
	}
	if remoteFailed {
		s.log.Warn("Unlink request to WhatsApp failed; local keys deleted", "wa_jid", jid.String(), "error", err)
		return fmt.Errorf("logout %s: %w: %w", jid, wa.ErrRemoteUnlinkFailed, err)
	}
	return nil
}

// IsConnected reports a live socket.
func (s *Session) IsConnected() bool { return s.client.IsConnected() }

// IsLoggedIn reports a device that authenticated on its last connection.
func (s *Session) IsLoggedIn() bool { return s.client.IsLoggedIn() }

// NewMessageID returns whatsmeow's GenerateMessageID.
func (s *Session) NewMessageID() types.MessageID { return s.client.GenerateMessageID() }

// Upload encrypts and uploads media.
func (s *Session) Upload(ctx context.Context, data []byte, kind whatsmeow.MediaType) (whatsmeow.UploadResponse, error) {
	resp, err := s.client.Upload(ctx, data, kind)
	if err != nil {
		return resp, fmt.Errorf("upload %s: %w", kind, err)
	}
	return resp, nil
}

// Download fetches and decrypts the media of a received message.
func (s *Session) Download(ctx context.Context, msg whatsmeow.DownloadableMessage) ([]byte, error) {
	data, err := s.client.Download(ctx, msg)
	if err != nil {
		return nil, fmt.Errorf("download media: %w", err)
	}
	return data, nil
}

// MarkRead sends read receipts.
func (s *Session) MarkRead(ctx context.Context, chat, sender types.JID, ids []types.MessageID, at time.Time) error {
	if err := s.client.MarkRead(ctx, ids, at, chat, sender); err != nil {
		return fmt.Errorf("mark read in %s: %w", chat, err)
	}
	return nil
}

// BuildEdit is whatsmeow's builder.
func (s *Session) BuildEdit(chat types.JID, id types.MessageID, content *waE2E.Message) *waE2E.Message {
	return s.client.BuildEdit(chat, id, content)
}

// BuildRevoke is whatsmeow's builder.
func (s *Session) BuildRevoke(chat, sender types.JID, id types.MessageID) *waE2E.Message {
	return s.client.BuildRevoke(chat, sender, id)
}

// PNForLID looks the LID up in the store's global LID map.
func (s *Session) PNForLID(ctx context.Context, lid types.JID) (types.JID, error) {
	lids := s.client.Store.LIDs
	if lids == nil {
		lids = s.backend.container.LIDs()
	}
	pn, err := lids.GetPNForLID(ctx, lid)
	if err != nil {
		return types.EmptyJID, fmt.Errorf("phone number of %s: %w", lid, err)
	}
	return pn, nil
}

func (s *Session) resetStop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.stop:
		s.stop = make(chan struct{})
	default:
	}
}

func (s *Session) closeStop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
}

func (s *Session) stopChan() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stop
}
