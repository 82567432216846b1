package simulator

import (
	"context"
	"fmt"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"

	"github.com/wabridge/b24wa/connector/wa"
)

// SendFailure makes sends to a customer number fail the way WhatsApp does.
type SendFailure string

// Send failures the simulator can play. Each returns the error whatsmeow
// would, classified by wa.ClassifySendError as the real backend does.
const (
	SendOK SendFailure = ""
	// SendNotOnWhatsApp: the number is not registered (wa.ErrNotOnWhatsApp
	// and wa.ErrNoLID).
	SendNotOnWhatsApp SendFailure = "not_on_whatsapp"
	// SendReachoutTimelock: "server returned error 463"
	// (wa.ErrReachoutTimelock, whatsmeow.ErrServerReturnedError).
	SendReachoutTimelock SendFailure = "reachout_timelock"
	// SendNoLID: "no LID found for <jid> from server" (wa.ErrNoLID).
	SendNoLID SendFailure = "no_lid"
)

// Delivery states of an OutboundMessage.
const (
	StatusSent      = "sent"
	StatusDelivered = "delivered"
	StatusRead      = "read"
)

// OutboundMessage is a message the app sent through a linked number.
type OutboundMessage struct {
	ID         string         `json:"id"`
	To         string         `json:"to"`     // recipient's user part: phone digits or LID
	ToJID      string         `json:"to_jid"` // full recipient JID
	Text       string         `json:"text,omitempty"`
	Kind       string         `json:"kind"` // text, image, video, audio, voice, document, sticker, location, contact, reaction, edit, revoke, other
	Media      *OutboundMedia `json:"media,omitempty"`
	ReplyTo    string         `json:"reply_to,omitempty"`
	ReactionTo string         `json:"reaction_to,omitempty"`
	EditOf     string         `json:"edit_of,omitempty"`
	RevokeOf   string         `json:"revoke_of,omitempty"`
	Status     string         `json:"status"`   // sent, delivered or read
	Attempts   int            `json:"attempts"` // sends with this id; more than 1 is a duplicate send
	Time       time.Time      `json:"time"`
	Message    *waE2E.Message `json:"-"`
}

// OutboundMedia describes an attachment the app sent.
type OutboundMedia struct {
	MIME       string `json:"mime"`
	Name       string `json:"name,omitempty"`
	Size       uint64 `json:"size"`
	DirectPath string `json:"direct_path,omitempty"`
}

// Send records msg as sent to to and, for content messages, queues the
// recipient's delivered receipt. Errors follow whatsmeow's SendMessage.
func (sess *session) Send(ctx context.Context, to types.JID, msg *waE2E.Message, opts wa.SendOptions) (wa.SendResult, error) {
	s := sess.sim
	s.mu.Lock()
	dev := sess.dev
	switch {
	case dev == nil:
		s.mu.Unlock()
		return wa.SendResult{}, fmt.Errorf("send message to %s: %w", to, whatsmeow.ErrNotLoggedIn)
	case to.Device > 0:
		s.mu.Unlock()
		return wa.SendResult{}, fmt.Errorf("send message to %s: %w", to, whatsmeow.ErrRecipientADJID)
	case !sess.connected || !sess.loggedIn:
		s.mu.Unlock()
		return wa.SendResult{}, fmt.Errorf("send message to %s: %w", to, whatsmeow.ErrNotConnected)
	}
	if err := s.sendFailureLocked(to); err != nil {
		s.mu.Unlock()
		return wa.SendResult{}, err
	}

	id := opts.ID
	if id == "" {
		id = newWebMessageID()
	}
	now := s.clock.Now()
	out := s.recordOutboundLocked(dev, to, id, msg, now)
	receipt := out.Attempts == 1 && isContent(out.Kind)
	if receipt {
		out.Status = StatusDelivered
		s.enqueueLocked(dev, &events.Receipt{
			MessageSource: types.MessageSource{Chat: to, Sender: to},
			MessageIDs:    []types.MessageID{id},
			Timestamp:     now,
			Type:          types.ReceiptTypeDelivered,
			MessageSender: dev.jid.ToNonAD(),
		})
	}
	// The server has the message once the save is done; a failed save is a
	// failed send, so the app sends again with the same id.
	if err := s.saveLocked(); err != nil {
		s.mu.Unlock()
		return wa.SendResult{}, fmt.Errorf("send message to %s: %w", to, err)
	}
	s.mu.Unlock()

	if receipt {
		go s.flush(dev)
	}
	return wa.SendResult{ID: id, Timestamp: now}, nil
}

// sendFailureLocked returns the configured failure for a recipient, looking
// a LID recipient's phone up too. The caller holds s.mu.
func (s *Simulator) sendFailureLocked(to types.JID) error {
	failure := s.sendFailures[to.User]
	if to.Server == types.HiddenUserServer {
		if phone, ok := s.lidToPN[to.User]; ok && failure == SendOK {
			failure = s.sendFailures[phone]
		}
	}
	noLID := fmt.Errorf("no LID found for %s from server", to)
	switch failure {
	case SendNotOnWhatsApp:
		return wa.NotOnWhatsApp(wa.ClassifySendError(noLID))
	case SendNoLID:
		return wa.ClassifySendError(noLID)
	case SendReachoutTimelock:
		return wa.ClassifySendError(fmt.Errorf("%w %d", whatsmeow.ErrServerReturnedError, 463))
	default:
		return nil
	}
}

// recordOutboundLocked adds a send to dev's outbound list, or counts a
// repeated send of the same id. The caller holds s.mu.
func (s *Simulator) recordOutboundLocked(dev *device, to types.JID, id types.MessageID, msg *waE2E.Message, now time.Time) *OutboundMessage {
	for _, out := range dev.outbound {
		if out.ID == id && out.ToJID == to.String() {
			out.Attempts++
			return out
		}
	}
	out := describeOutgoing(msg)
	out.ID = id
	out.To = to.User
	out.ToJID = to.String()
	out.Status = StatusSent
	out.Attempts = 1
	out.Time = now
	out.Message = proto.Clone(msg).(*waE2E.Message)
	if out.Media != nil {
		if data, ok := s.media[out.Media.DirectPath]; ok {
			out.Media.Size = uint64(len(data))
		}
	}
	dev.outbound = append(dev.outbound, out)
	dev.remember(id, out.Message)
	return out
}

func isContent(kind string) bool {
	return kind != "edit" && kind != "revoke" && kind != "reaction"
}

// MarkRead records read receipts the app sends for a customer's messages.
func (sess *session) MarkRead(ctx context.Context, chat, sender types.JID, ids []types.MessageID, at time.Time) error {
	if len(ids) == 0 {
		return fmt.Errorf("mark read in %s: no message IDs specified", chat)
	}
	s := sess.sim
	s.mu.Lock()
	defer s.mu.Unlock()
	if sess.dev == nil || !sess.connected {
		return fmt.Errorf("mark read in %s: %w", chat, whatsmeow.ErrNotConnected)
	}
	sess.dev.readMarks = append(sess.dev.readMarks, ReadMark{
		Chat: chat.String(), Sender: sender.String(), IDs: append([]string(nil), ids...), At: at,
	})
	if err := s.saveLocked(); err != nil {
		return fmt.Errorf("mark read in %s: %w", chat, err)
	}
	return nil
}

// BuildEdit uses whatsmeow's builder, which reads no client state.
func (sess *session) BuildEdit(chat types.JID, id types.MessageID, content *waE2E.Message) *waE2E.Message {
	var cli *whatsmeow.Client
	return cli.BuildEdit(chat, id, content)
}

// BuildRevoke uses whatsmeow's builder and then marks the key as the
// device's own when sender is empty or the device's account, as whatsmeow
// does with a logged-in client.
func (sess *session) BuildRevoke(chat, sender types.JID, id types.MessageID) *waE2E.Message {
	var cli *whatsmeow.Client
	msg := cli.BuildRevoke(chat, sender, id)
	own := sess.JID()
	s := sess.sim
	s.mu.Lock()
	var ownLID types.JID
	if sess.dev != nil {
		ownLID = sess.dev.lid
	}
	s.mu.Unlock()
	if sender.IsEmpty() || sender.User == own.User || sender.User == ownLID.User {
		key := msg.GetProtocolMessage().GetKey()
		key.FromMe = proto.Bool(true)
		key.Participant = nil
	}
	return msg
}
