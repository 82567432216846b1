package simulator

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/types"

	"github.com/wabridge/b24wa/connector/wa"
)

// InboundAvatar sets the customer's profile picture before the message is
// delivered; Data, when set, is used instead of Base64. MIME defaults to the
// type sniffed from the bytes.
type InboundAvatar struct {
	MIME   string `json:"mime"`
	Base64 string `json:"base64"`
	Data   []byte `json:"-"`
}

// avatar is a customer's profile picture on the simulated servers.
type avatar struct {
	id   string
	data []byte
	mime string
}

// SetAvatar sets the profile picture of a customer, addressed by phone
// number or by LID digits. Empty data removes it, after which
// ProfilePicture returns nil. Setting different bytes gives the picture a
// new id, as a new upload on WhatsApp does. Avatars are kept in memory only
// and are not saved with StatePath.
func (s *Simulator) SetAvatar(customer string, data []byte, mimeType string) error {
	user, err := wa.NormalizePhone(customer)
	if err != nil {
		user = strings.TrimSuffix(strings.TrimSpace(customer), "@"+types.HiddenUserServer)
		if user == "" || strings.Trim(user, "0123456789") != "" {
			return fmt.Errorf("%w: customer %q must be a phone number or LID digits", ErrInvalidRequest, customer)
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if len(data) == 0 {
		delete(s.avatars, user)
		return nil
	}
	if old, ok := s.avatars[user]; ok && bytes.Equal(old.data, data) && old.mime == mimeType {
		return nil
	}
	if mimeType == "" {
		mimeType = http.DetectContentType(data)
	}
	s.avatarSeq++
	s.avatars[user] = avatar{id: strconv.FormatUint(s.avatarSeq, 10), data: bytes.Clone(data), mime: mimeType}
	return nil
}

// setInboundAvatar applies InboundMessage.Avatar for the message's sender.
func (s *Simulator) setInboundAvatar(in InboundMessage) error {
	if in.Avatar == nil {
		return nil
	}
	data := in.Avatar.Data
	if data == nil {
		decoded, err := base64.StdEncoding.DecodeString(in.Avatar.Base64)
		if err != nil {
			return fmt.Errorf("%w: avatar.base64 is not valid standard base64: %w", ErrInvalidRequest, err)
		}
		data = decoded
	}
	customer := in.From
	if customer == "" {
		customer = in.LID
	}
	return s.SetAvatar(customer, data, in.Avatar.MIME)
}

// ProfilePicture returns the picture set with SetAvatar for the JID's user,
// or for the phone number a LID maps to, and nil when none is set.
func (sess *session) ProfilePicture(ctx context.Context, jid types.JID) (*wa.Picture, error) {
	s := sess.sim
	s.mu.Lock()
	defer s.mu.Unlock()
	if !sess.connected {
		return nil, fmt.Errorf("profile picture of %s: %w", jid, whatsmeow.ErrNotConnected)
	}
	picture, ok := s.avatars[jid.User]
	if !ok && jid.Server == types.HiddenUserServer {
		picture, ok = s.avatars[s.lidToPN[jid.User]]
	}
	if !ok {
		return nil, nil
	}
	return &wa.Picture{ID: picture.id, Data: bytes.Clone(picture.data), MimeType: picture.mime}, nil
}
