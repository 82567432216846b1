package bridge

import (
	"encoding/json"
	"fmt"

	"github.com/wabridge/b24wa/connector"
)

// Delivery kinds. Inbound kinds map to one imconnector method each;
// outbound kinds to one WhatsApp action.
const (
	kindMessage = "message" // in: send.messages; out: send to WhatsApp
	kindUpdate  = "update"  // in: update.messages (customer edit, decrypted retry)
	kindDelete  = "delete"  // in: delete.messages (customer revoke)
	kindRead    = "read"    // in: send.status.reading
	kindEdit    = "edit"    // out: WhatsApp edit of an operator message
	kindRevoke  = "revoke"  // out: WhatsApp revoke of an operator message
)

// inPayload is the data an inbound delivery needs to reach Bitrix24. The
// customer's name and phone are read from the chats row when sending, so a
// phone number learnt later is used.
type inPayload struct {
	ChatID   uint64   `json:"chat_id"`             // chats.id
	WaID     string   `json:"wa_id"`               // message.id for Bitrix24
	TargetID string   `json:"target_id,omitempty"` // original message of an update or delete
	Date     int64    `json:"date"`                // Unix seconds of the WhatsApp message
	Text     string   `json:"text,omitempty"`      // BB-code text
	Files    []inFile `json:"files,omitempty"`
	// FromMe marks a message typed on the business phone itself.
	FromMe bool `json:"from_me,omitempty"`
	// Placeholder marks a message whose content could not be decrypted yet.
	Placeholder bool `json:"placeholder,omitempty"`
	// Excerpt is a short plain-text form for later quotes and reactions.
	Excerpt string `json:"excerpt,omitempty"`
	// ReadIDs are the WhatsApp ids of operator messages the customer read.
	ReadIDs []string `json:"read_ids,omitempty"`
	// Picture is the customer's re-hosted profile picture, set only on the
	// message after which the picture was first seen or changed.
	Picture *inPicture `json:"picture,omitempty"`
}

// inPicture is a re-hosted profile picture sent as user.picture.url.
type inPicture struct {
	URL string `json:"url"`
	ID  string `json:"id"` // WhatsApp's picture id, stored as chats.avatar_id once sent
}

// inFile is a re-hosted file as imconnector.send.messages takes it.
type inFile struct {
	URL  string `json:"url"`
	Name string `json:"name"`
	Type string `json:"type,omitempty"`
}

// outPayload is an operator message, edit or delete from Bitrix24.
type outPayload struct {
	ImChatID    string    `json:"im_chat_id"`
	ImMessageID string    `json:"im_message_id"`
	ChatExtID   string    `json:"chat_ext_id"` // chat.id: the customer's person id
	UserID      string    `json:"user_id,omitempty"`
	Text        string    `json:"text,omitempty"` // BB-code
	Files       []outFile `json:"files,omitempty"`
	// TargetIDs are the WhatsApp ids an edit or delete applies to.
	TargetIDs []string `json:"target_ids,omitempty"`
	// Parts are the WhatsApp messages planned for this delivery, each with
	// its id chosen before the first send, so a repeated send reuses it.
	Parts []outPart `json:"parts,omitempty"`
	// Sent is set once every part reached WhatsApp; after that only the
	// delivery confirmation to Bitrix24 is left.
	Sent bool `json:"sent,omitempty"`
	// TimelockRetries counts retries after WhatsApp error 463.
	TimelockRetries int `json:"timelock_retries,omitempty"`
	// Notes are operator notes already posted, so a retry does not repeat them.
	Notes []string `json:"notes,omitempty"`
}

// outFile is one element of message.files of the event.
type outFile struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Link string `json:"link"`
	Size int64  `json:"size"`
}

// outPart is one WhatsApp message of an operator message: its text, or one
// of its files (File is the index into Files).
type outPart struct {
	WaID string `json:"wa_id"`
	File int    `json:"file"` // -1 for the text part
	Sent bool   `json:"sent,omitempty"`
}

func encodePayload(v any) (string, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode delivery payload: %w", err)
	}
	return string(data), nil
}

func decodeIn(d *connector.Delivery) (*inPayload, error) {
	var p inPayload
	if err := json.Unmarshal([]byte(d.Payload), &p); err != nil {
		return nil, fmt.Errorf("decode payload of delivery %d: %w", d.ID, err)
	}
	return &p, nil
}

func decodeOut(d *connector.Delivery) (*outPayload, error) {
	var p outPayload
	if err := json.Unmarshal([]byte(d.Payload), &p); err != nil {
		return nil, fmt.Errorf("decode payload of delivery %d: %w", d.ID, err)
	}
	return &p, nil
}
