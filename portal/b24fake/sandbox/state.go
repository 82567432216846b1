package sandbox

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// stateView is GET /sandbox/api/state, everything the page shows. The page
// polls it about once a second.
type stateView struct {
	Portal    portalView     `json:"portal"`
	Phone     phoneView      `json:"phone"`
	Customers []customerView `json:"customers"`
	Chats     []chatView     `json:"chats"`
}

type portalView struct {
	Domain   string `json:"domain"`
	MemberID string `json:"member_id"`
	AppURL   string `json:"app_url"`
	// Registered is true once the app registered its connector, and
	// Installed once the install wizard finished (BX24.installFinish).
	Registered  bool   `json:"registered"`
	Installed   bool   `json:"installed"`
	Events      int    `json:"events"`
	LineName    string `json:"line_name"`
	LineActive  bool   `json:"line_active"`
	LineHealthy bool   `json:"line_healthy"`
}

type phoneView struct {
	// Error is the reason the simulator could not be reached, empty when it
	// could.
	Error   string       `json:"error,omitempty"`
	Pairing bool         `json:"pairing"`
	Linked  []string     `json:"linked"`
	Devices []deviceView `json:"devices"`
}

type deviceView struct {
	Phone     string    `json:"phone"`
	PushName  string    `json:"push_name"`
	LinkedAt  time.Time `json:"linked_at"`
	Connected bool      `json:"connected"`
	LoggedIn  bool      `json:"logged_in"`
	Unlinked  bool      `json:"unlinked"`
}

func (s *Sandbox) state(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := requestContext(r)
	defer cancel()
	view := stateView{Portal: s.portalView(), Phone: s.phoneView(ctx)}
	s.refreshMessages(ctx, view.Phone.Linked)

	received := s.portal.ReceivedMessages()
	view.Customers = s.customerViews(received)
	view.Chats = s.chatViews(received)
	writeJSON(w, http.StatusOK, view)
}

func (s *Sandbox) portalView() portalView {
	p := s.portal
	_, registered := p.Connectors()[s.opts.ConnectorID]
	status, _ := p.LineStatus(s.opts.ConnectorID, Line)
	s.mu.Lock()
	installed := s.world.installFinished
	s.mu.Unlock()
	return portalView{
		Domain: p.Domain(), MemberID: p.MemberID(), AppURL: s.app.base,
		Registered: registered, Installed: installed, Events: len(p.BoundEvents()),
		LineName: lineName, LineActive: status.Active, LineHealthy: status.Status(),
	}
}

func (s *Sandbox) phoneView(ctx context.Context) phoneView {
	view := phoneView{Linked: []string{}, Devices: []deviceView{}}
	st, err := s.app.state(ctx)
	if err != nil {
		view.Error = simulatorProblem(err)
		return view
	}
	view.Pairing = st.Pairings > 0
	view.Linked = append(view.Linked, st.LinkedNumbers...)
	for _, d := range st.Devices {
		view.Devices = append(view.Devices, deviceView{Phone: d.Phone, PushName: d.PushName, LinkedAt: d.LinkedAt,
			Connected: d.Connected, LoggedIn: d.LoggedIn, Unlinked: d.Unlinked})
	}
	return view
}

// simulatorProblem explains a failed call of the simulator control API.
func simulatorProblem(err error) string {
	var ae *appError
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		return "the app has no simulator control API: start it with WHATSAPP_BACKEND=simulator"
	}
	return err.Error()
}

// refreshMessages copies the app's WhatsApp messages and read receipts of
// the linked numbers into the world. A number that is gone keeps the
// messages already copied.
func (s *Sandbox) refreshMessages(ctx context.Context, linked []string) {
	s.mu.Lock()
	active := s.world.hasConversation()
	s.mu.Unlock()
	if !active {
		return
	}
	for _, phone := range linked {
		out, err := s.app.outbound(ctx, phone)
		if err != nil {
			s.log.Debug("Reading the simulator's outbound messages failed", "phone", phone, "error", err)
			continue
		}
		marks, err := s.app.readMarks(ctx, phone)
		if err != nil {
			s.log.Debug("Reading the simulator's read marks failed", "phone", phone, "error", err)
		}
		s.mu.Lock()
		s.world.mergeOutbound(phone, out)
		s.world.mergeReadMarks(marks)
		s.mu.Unlock()
	}
}
