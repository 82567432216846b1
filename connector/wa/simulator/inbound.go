package simulator

import (
	"encoding/base64"
	"fmt"
	"strings"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/wabridge/b24wa/connector/wa"
)

// InboundMessage is a message a customer writes to a linked business number
// or, with FromMe, one typed on the business phone itself. Exactly one kind
// of content is set: Text alone, Media (Text is its caption), Reaction,
// Edit (Text is the new text), Revoke, Location or Contact.
type InboundMessage struct {
	To       string `json:"to"`        // linked business number, digits
	From     string `json:"from"`      // customer number; optional when LID is set
	PushName string `json:"push_name"` // customer's profile name
	Text     string `json:"text"`
	ID       string `json:"id"` // message id; empty picks one
	// LID is the customer's hidden-number id (digits, "@lid" optional); the
	// message is then addressed by LID with the phone, when From is set, in
	// SenderAlt.
	LID      string           `json:"lid"`
	Media    *InboundMedia    `json:"media"`
	ReplyTo  string           `json:"reply_to"`
	Reaction *InboundReaction `json:"reaction"`
	Edit     string           `json:"edit"`   // id of the message whose text changes
	Revoke   string           `json:"revoke"` // id of the message deleted for everyone
	Location *InboundLocation `json:"location"`
	Contact  *InboundContact  `json:"contact"`
	FromMe   bool             `json:"from_me"`
	// Undecryptable delivers an UndecryptableMessage first and the message
	// itself after it, with RetryCount 1, as after a successful retry.
	Undecryptable bool `json:"undecryptable"`
	// Avatar, when set, becomes the customer's profile picture, as with
	// SetAvatar, before the message is delivered.
	Avatar *InboundAvatar `json:"avatar"`
}

// InboundMedia is an attachment; Data, when set, is used instead of Base64.
type InboundMedia struct {
	Kind   string `json:"kind"` // image, video, audio, voice, document or sticker
	MIME   string `json:"mime"`
	Name   string `json:"name"`
	Base64 string `json:"base64"`
	Data   []byte `json:"-"`
}

// InboundReaction reacts to message To; an empty Emoji removes a reaction.
type InboundReaction struct {
	To    string `json:"to"`
	Emoji string `json:"emoji"`
}

// InboundLocation is a shared map pin, in degrees.
type InboundLocation struct {
	Lat  float64 `json:"lat"`
	Lng  float64 `json:"lng"`
	Name string  `json:"name"`
}

// InboundContact is a shared contact card.
type InboundContact struct {
	Name  string `json:"name"`
	Phone string `json:"phone"`
}

// inboundParty is who writes and where, resolved from an InboundMessage.
type inboundParty struct {
	customerPN  types.JID
	customerLID types.JID
}

// Inbound delivers a customer's message to the device linked with in.To and
// returns the message id. It returns after the app's handler saw the message
// when the device is connected; otherwise the message waits in the queue.
// It returns ErrNotLinked for an unknown number and ErrInvalidRequest for
// malformed input. With Options.StatePath set, the message is saved before
// delivery, and a call with an id already accepted for the same number
// returns that id without a second message, so a caller may retry a call
// whose response it lost.
func (s *Simulator) Inbound(in InboundMessage) (types.MessageID, error) {
	to, party, media, err := parseInbound(in)
	if err != nil {
		return "", err
	}
	if err := s.setInboundAvatar(in); err != nil {
		return "", err
	}

	s.mu.Lock()
	dev := s.linkedDeviceLocked(to)
	if dev == nil {
		s.mu.Unlock()
		return "", fmt.Errorf("inbound to %s: %w", to, ErrNotLinked)
	}
	if s.retriedInboundLocked(to, in.ID) {
		err := s.saveLocked()
		s.mu.Unlock()
		s.flush(dev)
		return types.MessageID(in.ID), err
	}
	s.learnLIDLocked(&party)
	if media != nil {
		media.path = s.storeMediaLocked(media.data)
	}
	evt := s.buildMessageLocked(dev, in, party, media)
	if in.Undecryptable {
		s.enqueueLocked(dev, &events.UndecryptableMessage{Info: evt.Info})
		evt.RetryCount = 1
	}
	s.enqueueLocked(dev, evt)
	dev.remember(evt.Info.ID, evt.Message)
	if in.FromMe {
		dev.markFromMe(evt.Info.ID)
	}
	if err := s.saveLocked(); err != nil {
		s.mu.Unlock()
		return "", fmt.Errorf("inbound to %s: %w", to, err)
	}
	s.mu.Unlock()

	s.flush(dev)
	return evt.Info.ID, nil
}

// retriedInboundLocked reports whether an Inbound call with this explicit id
// was already accepted for the number, and records the id otherwise. It is
// false without Options.StatePath, where callers may replay an id on
// purpose. The caller holds s.mu.
func (s *Simulator) retriedInboundLocked(to, id string) bool {
	if id == "" || s.opts.StatePath == "" {
		return false
	}
	key := inboundKey(to, id)
	if s.inboundIDs[key] {
		return true
	}
	s.inboundIDs[key] = true
	return false
}

// parseInbound validates in and decodes its phone numbers and media.
func parseInbound(in InboundMessage) (string, inboundParty, *mediaUpload, error) {
	var party inboundParty
	to, err := wa.NormalizePhone(in.To)
	if err != nil {
		return "", party, nil, fmt.Errorf("%w: to: %w", ErrInvalidRequest, err)
	}
	if in.From == "" && in.LID == "" {
		return "", party, nil, fmt.Errorf("%w: from or lid is required", ErrInvalidRequest)
	}
	if in.From != "" {
		from, err := wa.NormalizePhone(in.From)
		if err != nil {
			return "", party, nil, fmt.Errorf("%w: from: %w", ErrInvalidRequest, err)
		}
		party.customerPN = types.NewJID(from, types.DefaultUserServer)
	}
	if in.LID != "" {
		lid := strings.TrimSuffix(strings.TrimSpace(in.LID), "@"+types.HiddenUserServer)
		if lid == "" || strings.Trim(lid, "0123456789") != "" {
			return "", party, nil, fmt.Errorf("%w: lid %q must be digits", ErrInvalidRequest, in.LID)
		}
		party.customerLID = types.NewJID(lid, types.HiddenUserServer)
	}
	if err := checkContent(in); err != nil {
		return "", party, nil, err
	}
	media, err := decodeMedia(in.Media)
	if err != nil {
		return "", party, nil, err
	}
	return to, party, media, nil
}

// checkContent requires exactly one kind of content.
func checkContent(in InboundMessage) error {
	kinds := 0
	for _, set := range []bool{in.Media != nil, in.Reaction != nil, in.Edit != "", in.Revoke != "", in.Location != nil, in.Contact != nil} {
		if set {
			kinds++
		}
	}
	switch {
	case kinds > 1:
		return fmt.Errorf("%w: set only one of media, reaction, edit, revoke, location and contact", ErrInvalidRequest)
	case kinds == 0 && in.Text == "":
		return fmt.Errorf("%w: the message has no content: set text, media, reaction, edit, revoke, location or contact", ErrInvalidRequest)
	case in.Edit != "" && in.Text == "":
		return fmt.Errorf("%w: edit needs the new text in text", ErrInvalidRequest)
	case in.Reaction != nil && in.Reaction.To == "":
		return fmt.Errorf("%w: reaction.to is required", ErrInvalidRequest)
	case in.Contact != nil && in.Contact.Name == "":
		return fmt.Errorf("%w: contact.name is required", ErrInvalidRequest)
	}
	return nil
}

// mediaUpload is an attachment's bytes and where the simulated media server
// keeps them.
type mediaUpload struct {
	kind, mime, name string
	data             []byte
	path             string
}

func decodeMedia(m *InboundMedia) (*mediaUpload, error) {
	if m == nil {
		return nil, nil
	}
	if _, ok := mediaKinds[m.Kind]; !ok {
		return nil, fmt.Errorf("%w: media.kind %q is not one of image, video, audio, voice, document, sticker", ErrInvalidRequest, m.Kind)
	}
	data := m.Data
	if data == nil {
		decoded, err := base64.StdEncoding.DecodeString(m.Base64)
		if err != nil {
			return nil, fmt.Errorf("%w: media.base64 is not valid standard base64: %w", ErrInvalidRequest, err)
		}
		data = decoded
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: media has no bytes", ErrInvalidRequest)
	}
	mime := m.MIME
	if mime == "" {
		mime = mediaKinds[m.Kind].defaultMIME
	}
	return &mediaUpload{kind: m.Kind, mime: mime, name: m.Name, data: data}, nil
}

// learnLIDLocked records a LID↔phone pair when a message carries both, and
// fills the missing half from earlier messages. The caller holds s.mu.
func (s *Simulator) learnLIDLocked(party *inboundParty) {
	switch {
	case !party.customerLID.IsEmpty() && !party.customerPN.IsEmpty():
		s.lidToPN[party.customerLID.User] = party.customerPN.User
	case party.customerLID.IsEmpty():
		for lid, pn := range s.lidToPN {
			if pn == party.customerPN.User {
				party.customerLID = types.NewJID(lid, types.HiddenUserServer)
				break
			}
		}
	}
}

// remember keeps a message's content so replies can quote it.
func (dev *device) remember(id types.MessageID, content *waE2E.Message) {
	if dev.known == nil {
		dev.known = make(map[types.MessageID]*waE2E.Message)
	}
	dev.known[id] = content
}

func (dev *device) markFromMe(id types.MessageID) {
	if dev.fromMe == nil {
		dev.fromMe = make(map[types.MessageID]bool)
	}
	dev.fromMe[id] = true
}
