package simulator

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"strings"
	"sync"
	"time"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
)

// device is a linked companion device as both the store and WhatsApp's
// servers know it.
type device struct {
	jid      types.JID // phone:N@s.whatsapp.net
	lid      types.JID // the account's own LID, device 0
	phone    string
	pushName string
	platform string
	linkedAt time.Time

	// unlinked is set when the phone removed the device while no session was
	// connected; the next connect gets LoggedOut and deletes the device.
	unlinked bool
	// removed is set once the device left the store.
	removed bool

	banCode  events.TempBanReason
	banUntil time.Time

	// queue holds the events WhatsApp keeps for the device until a handler
	// acknowledges them (returns nil), oldest first.
	queue     []*queued
	outbound  []*OutboundMessage
	readMarks []ReadMark
	// known is the content of every message in the device's chats by id,
	// so replies quote it and reactions know whose message they target.
	// NOTE: it grows for the simulator's lifetime, which suits tests and
	// tryouts but not a long-running load.
	known map[types.MessageID]*waE2E.Message
	// fromMe marks messages typed on the business phone itself.
	fromMe map[types.MessageID]bool

	// flushMu serialises deliveries of queued events, so they reach the
	// handler in order even when several goroutines trigger delivery.
	flushMu sync.Mutex
}

// queued is an event waiting for acknowledgement.
type queued struct {
	evt any
	// attempt is the connection number of the last delivery attempt. An
	// event is delivered at most once per connection, because WhatsApp
	// redelivers unacknowledged messages only after a reconnect.
	attempt uint64
}

// ReadMark is a read receipt the app sent for a customer's messages.
type ReadMark struct {
	Chat   string    `json:"chat"`
	Sender string    `json:"sender"`
	IDs    []string  `json:"ids"`
	At     time.Time `json:"at"`
}

// nextDeviceJIDLocked hands out the next companion device number for a
// business phone, so a re-link gets a new suffix as on WhatsApp. The caller
// holds s.mu.
func (s *Simulator) nextDeviceJIDLocked(phone string) types.JID {
	s.deviceSeq[phone]++
	jid := types.NewJID(phone, types.DefaultUserServer)
	jid.Device = s.deviceSeq[phone]
	return jid
}

// accountLID derives a stable 15-digit hidden-number id for a business
// phone, the way every WhatsApp account has one.
func accountLID(phone string) types.JID {
	h := fnv.New64a()
	_, _ = h.Write([]byte(phone))
	return types.NewJID(fmt.Sprintf("1%014d", h.Sum64()%1e14), types.HiddenUserServer)
}

// randomHex returns n random bytes as upper-case hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return strings.ToUpper(hex.EncodeToString(b))
}

// newCustomerMessageID returns an id in the form phones use.
func newCustomerMessageID() types.MessageID {
	return "3A" + randomHex(9)
}

// newWebMessageID returns an id in the form whatsmeow's GenerateMessageID
// uses: the 3EB0 prefix and 18 hex digits.
func newWebMessageID() types.MessageID {
	return "3EB0" + randomHex(9)
}
