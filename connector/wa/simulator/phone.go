package simulator

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/wabridge/b24wa/connector/wa"
)

// ReadRequest is a customer's read of messages the app sent.
type ReadRequest struct {
	Phone string   `json:"phone"` // linked business number
	From  string   `json:"from"`  // customer number
	LID   string   `json:"lid"`   // customer LID, instead of or besides From
	IDs   []string `json:"ids"`
}

// Outbound returns what the app sent through the business number phone,
// oldest first. It returns ErrNotLinked when no device of that number
// exists.
func (s *Simulator) Outbound(phone string) ([]OutboundMessage, error) {
	digits, err := wa.NormalizePhone(phone)
	if err != nil {
		return nil, fmt.Errorf("%w: phone: %w", ErrInvalidRequest, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	devices := s.findDevicesLocked(digits)
	if len(devices) == 0 {
		return nil, fmt.Errorf("outbound of %s: %w", digits, ErrNotLinked)
	}
	var out []OutboundMessage
	for _, dev := range devices {
		for _, msg := range dev.outbound {
			cp := *msg
			if msg.Media != nil {
				media := *msg.Media
				cp.Media = &media
			}
			out = append(out, cp)
		}
	}
	slices.SortStableFunc(out, func(a, b OutboundMessage) int { return a.Time.Compare(b.Time) })
	return out, nil
}

// MediaData returns the bytes stored under a direct path, for checking what
// the app uploaded.
func (s *Simulator) MediaData(directPath string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	data, ok := s.media[directPath]
	return bytes.Clone(data), ok
}

// ReadMarks returns the read receipts the app sent through phone.
func (s *Simulator) ReadMarks(phone string) ([]ReadMark, error) {
	digits, err := wa.NormalizePhone(phone)
	if err != nil {
		return nil, fmt.Errorf("%w: phone: %w", ErrInvalidRequest, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	devices := s.findDevicesLocked(digits)
	if len(devices) == 0 {
		return nil, fmt.Errorf("read marks of %s: %w", digits, ErrNotLinked)
	}
	var out []ReadMark
	for _, dev := range devices {
		out = append(out, dev.readMarks...)
	}
	return out, nil
}

// Read plays a customer opening the app's messages: a read receipt goes to
// the device and those messages turn to StatusRead.
func (s *Simulator) Read(req ReadRequest) error {
	party, err := readParty(req)
	if err != nil {
		return err
	}
	phone, err := wa.NormalizePhone(req.Phone)
	if err != nil {
		return fmt.Errorf("%w: phone: %w", ErrInvalidRequest, err)
	}
	if len(req.IDs) == 0 {
		return fmt.Errorf("%w: ids must list at least one message id", ErrInvalidRequest)
	}

	s.mu.Lock()
	dev := s.linkedDeviceLocked(phone)
	if dev == nil {
		s.mu.Unlock()
		return fmt.Errorf("read on %s: %w", phone, ErrNotLinked)
	}
	for _, out := range dev.outbound {
		if slices.Contains(req.IDs, out.ID) {
			out.Status = StatusRead
		}
	}
	s.enqueueLocked(dev, &events.Receipt{
		MessageSource: types.MessageSource{Chat: party, Sender: party},
		MessageIDs:    slices.Clone(req.IDs),
		Timestamp:     s.clock.Now(),
		Type:          types.ReceiptTypeRead,
		MessageSender: dev.jid.ToNonAD(),
	})
	if err := s.saveLocked(); err != nil {
		s.mu.Unlock()
		return fmt.Errorf("read on %s: %w", phone, err)
	}
	s.mu.Unlock()

	s.flush(dev)
	return nil
}

func readParty(req ReadRequest) (types.JID, error) {
	if req.LID != "" {
		lid := strings.TrimSuffix(strings.TrimSpace(req.LID), "@"+types.HiddenUserServer)
		if lid == "" || strings.Trim(lid, "0123456789") != "" {
			return types.EmptyJID, fmt.Errorf("%w: lid %q must be digits", ErrInvalidRequest, req.LID)
		}
		return types.NewJID(lid, types.HiddenUserServer), nil
	}
	from, err := wa.NormalizePhone(req.From)
	if err != nil {
		return types.EmptyJID, fmt.Errorf("%w: from: %w", ErrInvalidRequest, err)
	}
	return types.NewJID(from, types.DefaultUserServer), nil
}

// LogoutFromPhone plays "Log out" of the linked devices of phone in the
// phone's settings. A connected device gets LoggedOut and leaves the store at
// once. An offline one is rejected (LoggedOut with OnConnect) at its next
// connect, as WhatsApp does.
func (s *Simulator) LogoutFromPhone(phone string) error {
	digits, err := wa.NormalizePhone(phone)
	if err != nil {
		return fmt.Errorf("%w: phone: %w", ErrInvalidRequest, err)
	}
	s.mu.Lock()
	devices := s.findDevicesLocked(digits)
	if len(devices) == 0 {
		s.mu.Unlock()
		return fmt.Errorf("logout of %s: %w", digits, ErrNotLinked)
	}
	var waits []<-chan struct{}
	for _, dev := range devices {
		dev.unlinked = true
		sess := s.liveSessionLocked(dev)
		if sess == nil {
			continue
		}
		s.removeDeviceLocked(dev)
		waits = append(waits, sess.post(&events.LoggedOut{Reason: events.ConnectFailureLoggedOut}, nil))
	}
	err = s.saveLocked()
	s.mu.Unlock()
	wait(waits)
	if err != nil {
		return fmt.Errorf("logout of %s: %w", digits, err)
	}
	return nil
}

func wait(chans []<-chan struct{}) {
	for _, ch := range chans {
		<-ch
	}
}
