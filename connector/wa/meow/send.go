package meow

import (
	"context"
	"errors"
	"fmt"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"

	"github.com/wabridge/b24wa/connector/wa"
)

// Send stores msg in the container's sent-message store and then sends it,
// so a retry receipt can be handled even after a restart (whatsmeow keeps
// only the last 256 sent messages in memory). Errors are classified with
// wa.ClassifySendError. A recipient without LID is checked with
// IsOnWhatsApp and marked wa.ErrNotOnWhatsApp when not registered.
func (s *Session) Send(ctx context.Context, to types.JID, msg *waE2E.Message, opts wa.SendOptions) (wa.SendResult, error) {
	own := s.JID()
	if own.IsEmpty() {
		return wa.SendResult{}, fmt.Errorf("send message to %s: %w", to, whatsmeow.ErrNotLoggedIn)
	}
	id := opts.ID
	if id == "" {
		id = s.client.GenerateMessageID()
	}
	if err := s.backend.container.PutSentMessage(ctx, own, to, id, msg); err != nil {
		return wa.SendResult{}, fmt.Errorf("store message %s before sending: %w", id, err)
	}

	resp, err := s.client.SendMessage(ctx, to, msg, whatsmeow.SendRequestExtra{ID: id})
	if err != nil {
		err = wa.ClassifySendError(err)
		if errors.Is(err, wa.ErrNoLID) && !s.registered(ctx, to) {
			err = wa.NotOnWhatsApp(err)
		}
		return wa.SendResult{}, fmt.Errorf("send message %s to %s: %w", id, to, err)
	}
	return wa.SendResult{ID: resp.ID, Timestamp: resp.Timestamp}, nil
}

// registered reports whether a phone-number JID is on WhatsApp. It returns
// true when the lookup fails, so only a definite "no" changes the error.
func (s *Session) registered(ctx context.Context, to types.JID) bool {
	if to.Server != types.DefaultUserServer {
		return true
	}
	resp, err := s.client.IsOnWhatsApp(ctx, []string{"+" + to.User})
	if err != nil || len(resp) != 1 {
		return true
	}
	return resp[0].IsIn
}

// messageForRetry is whatsmeow's GetMessageForRetry: a message that left
// whatsmeow's in-memory cache is read from the sent-message store.
func (s *Session) messageForRetry(requester, to types.JID, id types.MessageID) *waE2E.Message {
	own := s.JID()
	if own.IsEmpty() {
		return nil
	}
	return s.backend.container.MessageForRetry(own)(requester, to, id)
}
