package sandbox

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/wabridge/b24wa/portal/b24fake"
)

// Delivery states of a bubble, as WhatsApp's ticks show them.
const (
	statusSent      = "sent"
	statusDelivered = "delivered"
	statusRead      = "read"
)

// customerView is one customer's WhatsApp chat with the business.
type customerView struct {
	Phone    string       `json:"phone"`
	Name     string       `json:"name"`
	Messages []bubbleView `json:"messages"`
}

// bubbleView is one message in the customer's chat. Mine marks what the
// customer wrote; the rest came from the business number.
type bubbleView struct {
	ID     string    `json:"id"`
	Mine   bool      `json:"mine"`
	Text   string    `json:"text"`
	Image  string    `json:"image,omitempty"` // URL of the picture
	Note   string    `json:"note,omitempty"`  // attachment that is not shown
	Time   time.Time `json:"time"`
	Status string    `json:"status"`
}

// chatView is one Open Line dialog as the portal stores it.
type chatView struct {
	ChatID   string            `json:"chat_id"`
	Name     string            `json:"name"`
	Messages []lineMessageView `json:"messages"`
}

type lineMessageView struct {
	Operator    bool       `json:"operator"`
	Author      string     `json:"author"`
	Text        string     `json:"text"`
	Files       []fileView `json:"files,omitempty"`
	Time        time.Time  `json:"time"`
	IMMessageID int        `json:"im_message_id,omitempty"`
	Delivered   bool       `json:"delivered"`
	Read        bool       `json:"read"`
	Error       string     `json:"error,omitempty"`
}

type fileView struct {
	Name  string `json:"name"`
	URL   string `json:"url,omitempty"`
	Image bool   `json:"image"`
	Error string `json:"error,omitempty"`
}

// customerViews builds every customer's chat. A customer's message counts
// as delivered once the portal received it and as read once the app sent a
// read receipt for it.
func (s *Sandbox) customerViews(received []b24fake.ReceivedMessage) []customerView {
	inPortal := map[string]bool{}
	for _, m := range received {
		inPortal[fmt.Sprint(m.Message["id"])] = true
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	views := make([]customerView, 0, len(s.world.customers))
	for _, c := range s.world.customers {
		view := customerView{Phone: c.Phone, Name: c.Name, Messages: []bubbleView{}}
		for _, m := range s.world.sent {
			if m.From == c.Phone {
				view.Messages = append(view.Messages, s.customerBubble(m, inPortal))
			}
		}
		for _, id := range s.world.outOrder {
			if out := s.world.outbound[id]; out.To == c.Phone {
				view.Messages = append(view.Messages, businessBubble(out))
			}
		}
		sort.SliceStable(view.Messages, func(i, j int) bool { return view.Messages[i].Time.Before(view.Messages[j].Time) })
		views = append(views, view)
	}
	return views
}

func (s *Sandbox) customerBubble(m *customerMessage, inPortal map[string]bool) bubbleView {
	b := bubbleView{ID: m.ID, Mine: true, Text: m.Text, Time: m.Time, Status: statusSent}
	if m.Image {
		b.Image = "/sandbox/media/customer/" + m.ID
	}
	switch {
	case s.world.readIDs[m.ID]:
		b.Status = statusRead
	case inPortal[m.ID]:
		b.Status = statusDelivered
	}
	return b
}

func businessBubble(m *phoneMessage) bubbleView {
	b := bubbleView{ID: m.ID, Text: m.Text, Time: m.Time, Status: m.Status}
	if m.Media != nil {
		b.Note = fmt.Sprintf("%s attachment %s (%d bytes)", m.Kind, m.Media.Name, m.Media.Size)
	}
	return b
}

// chatViews groups what the portal received and what operators sent by the
// dialog's external chat id, in time order.
func (s *Sandbox) chatViews(received []b24fake.ReceivedMessage) []chatView {
	var order []string
	chats := map[string]*chatView{}
	chatOf := func(id string) *chatView {
		if c, ok := chats[id]; ok {
			return c
		}
		c := &chatView{ChatID: id, Name: id, Messages: []lineMessageView{}}
		chats[id] = c
		order = append(order, id)
		return c
	}

	for i, m := range received {
		if m.Line != Line || !m.Success {
			continue
		}
		c := chatOf(fmt.Sprint(m.Chat["id"]))
		if name, ok := m.Chat["name"].(string); ok && name != "" {
			c.Name = name
		}
		c.Messages = append(c.Messages, receivedView(i, m))
	}
	for _, m := range s.operatorViews() {
		c := chatOf(m.chatID)
		c.Messages = append(c.Messages, m.view)
	}

	views := make([]chatView, 0, len(order))
	for _, id := range order {
		c := chats[id]
		sort.SliceStable(c.Messages, func(i, j int) bool { return c.Messages[i].Time.Before(c.Messages[j].Time) })
		views = append(views, *c)
	}
	return views
}

// receivedView shows element i of imconnector.send.messages.
func receivedView(i int, m b24fake.ReceivedMessage) lineMessageView {
	author := strings.TrimSpace(fmt.Sprintf("%s %s", textField(m.User, "name"), textField(m.User, "last_name")))
	if author == "" {
		author = textField(m.User, "phone")
	}
	view := lineMessageView{Author: author, Text: textField(m.Message, "text"), Time: m.Time}
	for k, f := range m.Files {
		file := fileView{Name: f.Name, Error: f.Err}
		if f.Err == "" {
			file.URL = fmt.Sprintf("/sandbox/media/portal/%d/%d", i, k)
			file.Image = shownImageTypes[f.ContentType]
		}
		view.Files = append(view.Files, file)
	}
	return view
}

type operatorEntry struct {
	chatID string
	view   lineMessageView
}

// operatorViews returns the operators' replies with the delivery and read
// statuses the app reported for them.
func (s *Sandbox) operatorViews() []operatorEntry {
	delivered := map[int]bool{}
	for _, st := range s.portal.DeliveryStatuses() {
		delivered[st.IMMessageID] = true
	}
	read := map[int]bool{}
	for _, st := range s.portal.ReadStatuses() {
		read[st.IMMessageID] = true
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]operatorEntry, 0, len(s.world.operator))
	for _, m := range s.world.operator {
		out = append(out, operatorEntry{chatID: m.ChatID, view: lineMessageView{
			Operator: true, Author: operatorName, Text: m.Text, Time: m.Time, IMMessageID: m.IMMessageID,
			Delivered: delivered[m.IMMessageID], Read: read[m.IMMessageID], Error: m.Error,
		}})
	}
	return out
}

// textField returns a string field of a decoded JSON object, or "".
func textField(m map[string]any, key string) string {
	v, ok := m[key]
	if !ok || v == nil {
		return ""
	}
	return fmt.Sprint(v)
}
