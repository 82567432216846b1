package portal

import (
	"fmt"
	"strings"
)

// ConnectorMessages is the data of ONIMCONNECTORMESSAGEADD, UPDATE and DELETE.
type ConnectorMessages struct {
	Connector string // lower case
	Line      string // open line id; sent as a number or a string
	Messages  []ConnectorMessage
}

// ConnectorMessage is one element of data[MESSAGES].
type ConnectorMessage struct {
	// BitrixChatID and BitrixMessageID are im.chat_id and im.message_id,
	// which imconnector.send.status.delivery must echo back.
	BitrixChatID    string
	BitrixMessageID string
	// ExternalChatID is chat.id: the chat id the app gave in send.messages.
	ExternalChatID string
	// UserID is message.user_id, the Bitrix24 author (operator or bot).
	UserID string
	// Text is message.text in BB-code, with the operator signature when the
	// connector asked for it.
	Text string
	// ExternalIDs is message.id: the app's message ids. UPDATE sends a list,
	// DELETE one scalar per element, ADD none.
	ExternalIDs []string
	Files       []MessageFile
}

// MessageFile is one element of message.files. Width and Height are set for
// images only; numbers are 0 when absent.
type MessageFile struct {
	Name   string
	Type   string
	Link   string // signed public link on the portal; the fragment is not part of the file
	Size   int64  // bytes
	Width  int64  // pixels
	Height int64  // pixels
}

// Messages decodes the data of a message add, update or delete event. Every
// element must have im.chat_id and im.message_id, because without them the
// delivery cannot be confirmed.
func (e *Event) Messages() (*ConnectorMessages, error) {
	switch e.Name {
	case EventMessageAdd, EventMessageUpdate, EventMessageDelete:
	default:
		return nil, fmt.Errorf("%w: %s carries no messages", ErrMalformedEvent, e.Name)
	}
	out := &ConnectorMessages{Connector: e.Connector(), Line: e.Line()}
	list := e.Data.Get("MESSAGES")
	if list.Len() == 0 {
		return nil, fmt.Errorf("%w: %s has no data[MESSAGES]", ErrMalformedEvent, e.Name)
	}
	for i, item := range list.Items() {
		msg := decodeMessage(item)
		if msg.BitrixChatID == "" || msg.BitrixMessageID == "" {
			return nil, fmt.Errorf("%w: %s data[MESSAGES][%d] lacks im[chat_id] or im[message_id]",
				ErrMalformedEvent, e.Name, i)
		}
		out.Messages = append(out.Messages, msg)
	}
	return out, nil
}

func decodeMessage(item *Node) ConnectorMessage {
	msg := ConnectorMessage{
		BitrixChatID:    item.Value("im", "chat_id"),
		BitrixMessageID: item.Value("im", "message_id"),
		ExternalChatID:  item.Value("chat", "id"),
		UserID:          item.Value("message", "user_id"),
		Text:            item.Value("message", "text"),
		ExternalIDs:     item.Get("message", "id").Values(),
	}
	for _, f := range item.Get("message", "files").Items() {
		msg.Files = append(msg.Files, MessageFile{
			Name:   f.Value("name"),
			Type:   f.Value("type"),
			Link:   f.Value("link"),
			Size:   parseInt(f.Value("size")),
			Width:  parseInt(f.Value("width")),
			Height: parseInt(f.Value("height")),
		})
	}
	return msg
}

// Dialogs is the data of ONIMCONNECTORDIALOGSTART and DIALOGFINISH.
type Dialogs struct {
	Connector string
	Line      string
	Dialogs   []Dialog
}

// Dialog is one element of data[DATA]: an open-line session of one chat.
type Dialog struct {
	ExternalChatID string // connector.chat_id, else chat.id
	SessionID      string // session.id
	Closed         bool   // session.closed is "Y": sent with DIALOGFINISH
	CloseTerm      int64  // session.close_term: minutes until the session is fully closed
	UserID         string // user.id, else connector.user_id: the portal user of the client
}

// Dialogs decodes the data of a dialog start or finish event. An event
// without data[DATA] decodes to no dialogs.
func (e *Event) Dialogs() (*Dialogs, error) {
	if e.Name != EventDialogStart && e.Name != EventDialogFinish {
		return nil, fmt.Errorf("%w: %s carries no dialogs", ErrMalformedEvent, e.Name)
	}
	out := &Dialogs{Connector: e.Connector(), Line: e.Line()}
	for _, item := range e.Data.Get("DATA").Items() {
		d := Dialog{
			ExternalChatID: firstNonEmpty(item.Value("connector", "chat_id"), item.Value("chat", "id")),
			SessionID:      item.Value("session", "id"),
			Closed:         flag(item.Value("session", "closed")),
			CloseTerm:      parseInt(item.Value("session", "close_term")),
			UserID:         firstNonEmpty(item.Value("user", "id"), item.Value("connector", "user_id")),
		}
		out.Dialogs = append(out.Dialogs, d)
	}
	return out, nil
}

// Connector returns data[CONNECTOR] in lower case, or data[connector] for
// ONIMCONNECTORSTATUSDELETE, which uses lower-case keys. It is "" for
// events without a connector.
func (e *Event) Connector() string {
	return strings.ToLower(firstNonEmpty(e.Data.Value("CONNECTOR"), e.Data.Value("connector")))
}

// Line returns the open line id of a connector event: data[LINE],
// data[line], or the scalar data of ONIMCONNECTORLINEDELETE.
func (e *Event) Line() string {
	if e.Data.IsScalar() {
		return strings.TrimSpace(e.Data.Value())
	}
	return strings.TrimSpace(firstNonEmpty(e.Data.Value("LINE"), e.Data.Value("line")))
}

// DeletedLine returns the line id of ONIMCONNECTORLINEDELETE, whose data is
// the bare id (data=107).
func (e *Event) DeletedLine() (string, error) {
	if e.Name != EventLineDelete {
		return "", fmt.Errorf("%w: %s is not a line delete", ErrMalformedEvent, e.Name)
	}
	line := e.Line()
	if line == "" {
		return "", fmt.Errorf("%w: %s has no line id in data", ErrMalformedEvent, e.Name)
	}
	return line, nil
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// StatusDelete is the data of ONIMCONNECTORSTATUSDELETE: the connector was
// disconnected from a line in Contact Center.
type StatusDelete struct {
	Connector string
	Line      string
}

// StatusDeleted decodes ONIMCONNECTORSTATUSDELETE, whose data keys are lower
// case (data[connector], data[line]).
func (e *Event) StatusDeleted() (*StatusDelete, error) {
	if e.Name != EventStatusDelete {
		return nil, fmt.Errorf("%w: %s is not a status delete", ErrMalformedEvent, e.Name)
	}
	out := &StatusDelete{Connector: e.Connector(), Line: e.Line()}
	if out.Line == "" {
		return nil, fmt.Errorf("%w: %s has no data[line]", ErrMalformedEvent, e.Name)
	}
	return out, nil
}
