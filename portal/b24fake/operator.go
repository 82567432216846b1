package b24fake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Errors of the operator helpers, for actions the real portal would refuse
// or not report to the app.
var (
	ErrNotInstalled    = errors.New("b24fake: app installation is not finished, no events are sent")
	ErrLineNotActive   = errors.New("b24fake: no registered connector is active on the line")
	ErrNoHandler       = errors.New("b24fake: no handler is bound for the event")
	ErrMessageNotFound = errors.New("b24fake: operator message not found")
	ErrNotConfirmed    = errors.New("b24fake: message has no external id (delivery not confirmed)")
)

// OperatorMessage is a message an operator writes in the chat of a connector line.
type OperatorMessage struct {
	Line   int
	ChatID string // external chat.id of the dialog
	Text   string
	// Files are sent in message.files[] as given, for links the portal does
	// not host.
	Files []OutboundFile
	// Attachments are uploaded with UploadFile and sent after Files, with
	// links the portal serves.
	Attachments []DiskFile
	OperatorID  int // default 1
}

// Delivery is the answer of one bound handler to an event.
type Delivery struct {
	Handler string
	Status  int
	Err     error
}

// SentMessage describes an operator message that was sent to the app.
type SentMessage struct {
	Connector   string
	IMChatID    int
	IMMessageID int
	Text        string         // as sent, with the operator signature
	Files       []OutboundFile // message.files[] as sent
	Deliveries  []Delivery
}

// OperatorSends simulates an operator reply: the message gets portal ids,
// the signature "[b]Name:[/b][br] " when the connector has NEED_SIGNATURE,
// and ONIMCONNECTORMESSAGEADD goes to every handler bound for it, with the
// operator's tokens in auth.
func (p *Portal) OperatorSends(ctx context.Context, m OperatorMessage) (*SentMessage, error) {
	if m.OperatorID == 0 {
		m.OperatorID = 1
	}
	files := append([]OutboundFile(nil), m.Files...)
	for _, f := range m.Attachments {
		files = append(files, p.UploadFile(f))
	}
	p.mu.Lock()
	if !p.state.installed {
		p.mu.Unlock()
		return nil, ErrNotInstalled
	}
	connector := p.activeConnectorLocked(m.Line)
	if connector == "" {
		p.mu.Unlock()
		return nil, fmt.Errorf("%w: line %d", ErrLineNotActive, m.Line)
	}
	sent := &SentMessage{Connector: connector, Text: p.signedLocked(connector, m), Files: files}
	chat := p.findChatLocked(connector, m.Line, m.ChatID)
	if chat == nil {
		chat = p.chatLocked(connector, m.Line, m.ChatID, p.state.newID())
	}
	sent.IMChatID, sent.IMMessageID = chat.chatID, p.state.newID()
	p.state.outbound = append(p.state.outbound, &outbound{connector: connector, line: m.Line,
		imChatID: sent.IMChatID, imMessageID: sent.IMMessageID, chatID: m.ChatID, text: sent.Text})
	p.mu.Unlock()

	data := MessagesData(EventMessageAdd, connector, m.Line, EventMessage{IMChatID: sent.IMChatID,
		IMMessageID: sent.IMMessageID, UserID: m.OperatorID, Text: sent.Text, Files: files, ChatID: m.ChatID})
	deliveries, err := p.fire(ctx, EventMessageAdd, data, WithUser(m.OperatorID))
	sent.Deliveries = deliveries
	return sent, err
}

func (p *Portal) activeConnectorLocked(line int) string {
	for id := range p.state.connectors {
		if p.activeLocked(id, line) {
			return id
		}
	}
	return ""
}

func (p *Portal) signedLocked(connector string, m OperatorMessage) string {
	c := p.state.connectors[connector]
	u := p.state.users[m.OperatorID]
	if c == nil || !c.NeedSignature || u == nil {
		return m.Text
	}
	name := strings.TrimSpace(u.Name + " " + u.LastName)
	if m.Text == "" {
		return "[b]" + name + ":[/b]"
	}
	return "[b]" + name + ":[/b][br] " + m.Text
}

// OperatorEdits simulates an operator editing a delivered message:
// ONIMCONNECTORMESSAGEUPDATE with message.id as the list of external ids that
// send.status.delivery stored. Undelivered messages produce no event.
func (p *Portal) OperatorEdits(ctx context.Context, imMessageID int, text string) ([]Delivery, error) {
	o, err := p.confirmedOutbound(imMessageID)
	if err != nil {
		return nil, err
	}
	data := MessagesData(EventMessageUpdate, o.connector, o.line, EventMessage{IMChatID: o.imChatID,
		IMMessageID: o.imMessageID, Text: text, ChatID: o.chatID, ExternalIDs: o.externalIDs})
	return p.fire(ctx, EventMessageUpdate, data)
}

// OperatorDeletes simulates an operator deleting a delivered message:
// ONIMCONNECTORMESSAGEDELETE with one element per external id.
func (p *Portal) OperatorDeletes(ctx context.Context, imMessageID int) ([]Delivery, error) {
	o, err := p.confirmedOutbound(imMessageID)
	if err != nil {
		return nil, err
	}
	var msgs []EventMessage
	for _, id := range o.externalIDs {
		msgs = append(msgs, EventMessage{IMChatID: o.imChatID, IMMessageID: o.imMessageID,
			ChatID: o.chatID, ExternalIDs: []string{id}})
	}
	return p.fire(ctx, EventMessageDelete, MessagesData(EventMessageDelete, o.connector, o.line, msgs...))
}

func (p *Portal) confirmedOutbound(imMessageID int) (outbound, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, o := range p.state.outbound {
		if o.imMessageID != imMessageID {
			continue
		}
		if len(o.externalIDs) == 0 {
			return outbound{}, ErrNotConfirmed
		}
		return *o, nil
	}
	return outbound{}, ErrMessageNotFound
}

// DisconnectLine simulates a user disconnecting the connector from a line in
// Contact Center: the line status is deleted and ONIMCONNECTORSTATUSDELETE
// is sent.
func (p *Portal) DisconnectLine(ctx context.Context, connector string, line int) ([]Delivery, error) {
	connector = strings.ToLower(connector)
	p.mu.Lock()
	delete(p.state.lineStatus[connector], line)
	p.mu.Unlock()
	return p.fire(ctx, EventStatusDelete, StatusDeleteData(connector, line))
}

// DeleteLine simulates deleting an open line: it disappears from the line
// list and ONIMCONNECTORLINEDELETE is sent with the line id as data.
func (p *Portal) DeleteLine(ctx context.Context, line int) ([]Delivery, error) {
	p.mu.Lock()
	delete(p.state.lines, line)
	for _, lines := range p.state.lineStatus {
		delete(lines, line)
	}
	p.mu.Unlock()
	return p.fire(ctx, EventLineDelete, line)
}

// fire sends an event to every online handler bound for it.
func (p *Portal) fire(ctx context.Context, name string, data any, opts ...EventOption) ([]Delivery, error) {
	p.mu.Lock()
	installed := p.state.installed
	var handlers []string
	for _, b := range p.state.bindings {
		if b.Event == name && !b.Offline {
			handlers = append(handlers, b.Handler)
		}
	}
	p.mu.Unlock()
	if !installed {
		return nil, ErrNotInstalled
	}
	if len(handlers) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNoHandler, name)
	}
	out := make([]Delivery, 0, len(handlers))
	for _, h := range handlers {
		d := Delivery{Handler: h}
		res, err := p.SendEvent(ctx, h, name, data, opts...)
		if err != nil {
			d.Err = err
		} else {
			d.Status = res.StatusCode
			_, _ = io.Copy(io.Discard, res.Body)
			_ = res.Body.Close()
		}
		out = append(out, d)
	}
	return out, nil
}
