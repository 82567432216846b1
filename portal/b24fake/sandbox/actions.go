package sandbox

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/wabridge/b24wa/portal/b24fake"
)

// operatorName is the name of user 1, the fake portal's administrator, who
// replies in the Open Line panel.
const operatorName = "Anna Admin"

// finishInstall plays BX24.installFinish: the install wizard closes and the
// portal starts sending events. The app must have registered its connector.
func (s *Sandbox) finishInstall(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.portal.Connectors()[s.opts.ConnectorID]; !ok {
		s.fail(w, r, conflict("the app has not registered the connector %s; the install frame shows what failed", s.opts.ConnectorID))
		return
	}
	s.portal.FinishInstall()
	s.mu.Lock()
	s.world.installFinished = true
	s.mu.Unlock()
	s.log.Info("Sandbox install finished", "member_id", s.portal.MemberID())
	writeJSON(w, http.StatusOK, map[string]bool{"installed": true})
}

type scanRequest struct {
	Phone    string `json:"phone"`
	PushName string `json:"push_name"`
}

// scan plays the business phone scanning the QR code that the settings
// frame shows.
func (s *Sandbox) scan(w http.ResponseWriter, r *http.Request) {
	var req scanRequest
	if !readJSON(w, r, &req) {
		return
	}
	ctx, cancel := requestContext(r)
	defer cancel()
	qr, err := s.app.currentQR(ctx)
	var ae *appError
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		s.fail(w, r, conflict("no QR code is on screen; open the connector settings and start linking first"))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	jid, err := s.app.scan(ctx, qr, req.Phone, req.PushName)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"jid": jid})
}

// logoutPhone plays "Log out" of the linked device in the phone's settings.
func (s *Sandbox) logoutPhone(w http.ResponseWriter, r *http.Request) {
	var req scanRequest
	if !readJSON(w, r, &req) {
		return
	}
	ctx, cancel := requestContext(r)
	defer cancel()
	if err := s.app.logout(ctx, req.Phone); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"logged_out": true})
}

type customerRequest struct {
	From  string `json:"from"`
	Name  string `json:"name"`
	Text  string `json:"text"`
	Image bool   `json:"image"`
}

// customerSend writes a customer's message to the linked business number.
func (s *Sandbox) customerSend(w http.ResponseWriter, r *http.Request) {
	var req customerRequest
	if !readJSON(w, r, &req) {
		return
	}
	from := digits(req.From)
	req.Text = strings.TrimSpace(req.Text)
	if from == "" || (req.Text == "" && !req.Image) {
		s.fail(w, r, badRequest("the customer's number and a text or a picture are required"))
		return
	}
	ctx, cancel := requestContext(r)
	defer cancel()
	business, err := s.linkedNumber(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}

	in := simInbound{To: business, From: from, PushName: strings.TrimSpace(req.Name), Text: req.Text}
	var picture []byte
	if req.Image {
		picture = samplePicture(time.Now())
		in.Media = &simMedia{Kind: "image", MIME: "image/png", Name: "picture.png",
			Base64: base64.StdEncoding.EncodeToString(picture)}
	}
	id, err := s.app.inbound(ctx, in)
	if err != nil {
		s.fail(w, r, err)
		return
	}

	s.mu.Lock()
	s.world.rememberCustomer(from, in.PushName)
	s.world.sent = append(s.world.sent, &customerMessage{ID: id, From: from, Text: req.Text, Image: req.Image,
		Time: time.Now()})
	if picture != nil {
		s.world.images[id] = picture
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"id": id})
}

// customerRead plays the customer opening the chat: the business messages
// not read yet get a read receipt.
func (s *Sandbox) customerRead(w http.ResponseWriter, r *http.Request) {
	var req customerRequest
	if !readJSON(w, r, &req) {
		return
	}
	from := digits(req.From)
	unread := map[string][]string{} // business number → message ids
	s.mu.Lock()
	for _, id := range s.world.outOrder {
		m := s.world.outbound[id]
		if m.To == from && m.Status != statusRead && m.Kind != "reaction" {
			unread[m.Business] = append(unread[m.Business], m.ID)
		}
	}
	s.mu.Unlock()

	ctx, cancel := requestContext(r)
	defer cancel()
	count := 0
	for business, ids := range unread {
		if err := s.app.read(ctx, business, from, ids); err != nil {
			s.fail(w, r, err)
			return
		}
		count += len(ids)
	}
	writeJSON(w, http.StatusOK, map[string]int{"read": count})
}

type operatorRequest struct {
	ChatID string `json:"chat_id"`
	Text   string `json:"text"`
}

// operatorSend plays an operator replying in the Open Line chat. The portal
// sends OnImConnectorMessageAdd to the app.
func (s *Sandbox) operatorSend(w http.ResponseWriter, r *http.Request) {
	var req operatorRequest
	if !readJSON(w, r, &req) {
		return
	}
	req.Text = strings.TrimSpace(req.Text)
	if req.ChatID == "" || req.Text == "" {
		s.fail(w, r, badRequest("chat_id and text are required"))
		return
	}
	ctx, cancel := requestContext(r)
	defer cancel()
	sent, err := s.portal.OperatorSends(ctx, b24fake.OperatorMessage{Line: Line, ChatID: req.ChatID, Text: req.Text})
	if err != nil {
		s.fail(w, r, operatorProblem(err))
		return
	}

	msg := &operatorMessage{ChatID: req.ChatID, IMChatID: sent.IMChatID, IMMessageID: sent.IMMessageID,
		Text: req.Text, Time: time.Now()}
	for _, d := range sent.Deliveries {
		switch {
		case d.Err != nil:
			msg.Error = fmt.Sprintf("the portal could not send the event to %s: %v", d.Handler, d.Err)
		case d.Status != http.StatusOK:
			msg.Error = fmt.Sprintf("the app's event handler %s responded with status %d", d.Handler, d.Status)
		}
	}
	if msg.Error != "" {
		s.log.Warn("The app did not take an operator message", "im_message_id", sent.IMMessageID, "error", msg.Error)
	}
	s.mu.Lock()
	s.world.operator = append(s.world.operator, msg)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]int{"im_message_id": sent.IMMessageID})
}

// operatorProblem explains why the portal could not send an operator's
// message to the app.
func operatorProblem(err error) error {
	switch {
	case errors.Is(err, b24fake.ErrNotInstalled):
		return conflict("the install is not finished, so the portal sends no events")
	case errors.Is(err, b24fake.ErrLineNotActive):
		return conflict("the connector is not active on %s; link a WhatsApp number first", lineName)
	case errors.Is(err, b24fake.ErrNoHandler):
		return conflict("the app bound no handler for OnImConnectorMessageAdd")
	}
	return err
}
