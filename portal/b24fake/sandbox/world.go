package sandbox

import (
	"strings"
	"time"
)

// world is the page's own record beside the portal's and the simulator's:
// what the customers and operators wrote through it, and copies of the
// app's WhatsApp messages, because the simulator drops a device's messages
// when the device logs out.
type world struct {
	installFinished bool

	customers []*customer
	sent      []*customerMessage
	images    map[string][]byte // customer message id → PNG
	operator  []*operatorMessage

	// outbound are the app's WhatsApp messages by id, in first-seen order.
	outbound map[string]*phoneMessage
	outOrder []string
	// readIDs are the customer message ids the app sent read receipts for.
	readIDs map[string]bool
}

func newWorld() world {
	return world{
		images:   map[string][]byte{},
		outbound: map[string]*phoneMessage{},
		readIDs:  map[string]bool{},
	}
}

// customer is a WhatsApp user the page has written as.
type customer struct {
	Phone string // digits
	Name  string
}

// customerMessage is a message a customer wrote to the business number.
type customerMessage struct {
	ID    string
	From  string // customer number, digits
	Text  string
	Image bool
	Time  time.Time
}

// operatorMessage is an operator's reply sent through the portal.
type operatorMessage struct {
	ChatID      string // external chat id of the Open Line dialog
	IMChatID    int
	IMMessageID int
	Text        string
	Time        time.Time
	// Error is the reason the app did not take the event, empty when it did.
	Error string
}

// phoneMessage is a message the app sent through a business number.
type phoneMessage struct {
	simOutbound
	Business string
}

// rememberCustomer adds a customer or renames a known one.
func (w *world) rememberCustomer(phone, name string) {
	for _, c := range w.customers {
		if c.Phone == phone {
			if name != "" {
				c.Name = name
			}
			return
		}
	}
	w.customers = append(w.customers, &customer{Phone: phone, Name: name})
}

// mergeOutbound records the app's messages sent through business, keeping
// the newest status of each.
func (w *world) mergeOutbound(business string, msgs []simOutbound) {
	for _, m := range msgs {
		if known, ok := w.outbound[m.ID]; ok {
			known.simOutbound = m
			continue
		}
		w.outbound[m.ID] = &phoneMessage{simOutbound: m, Business: business}
		w.outOrder = append(w.outOrder, m.ID)
	}
}

// mergeReadMarks records the customer messages the app marked as read.
func (w *world) mergeReadMarks(marks []simReadMark) {
	for _, m := range marks {
		for _, id := range m.IDs {
			w.readIDs[id] = true
		}
	}
}

// hasConversation reports whether anyone wrote through the page yet, so
// polling can skip the simulator's message lists until then.
func (w *world) hasConversation() bool {
	return len(w.sent) > 0 || len(w.operator) > 0
}

// digits returns the digits of a phone number as WhatsApp addresses it.
// Like the simulator, it reads an 11-digit number starting with 8 and no
// plus sign as a Russian number starting with 7.
func digits(raw string) string {
	raw = strings.TrimSpace(raw)
	var b strings.Builder
	for _, r := range raw {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	out := b.String()
	if !strings.HasPrefix(raw, "+") && len(out) == 11 && out[0] == '8' {
		out = "7" + out[1:]
	}
	return out
}
