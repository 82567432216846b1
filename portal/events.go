package portal

import (
	"fmt"
	"strconv"
	"strings"
)

// Event names as the event field of a delivered event carries them (upper
// case). The names passed to event.bind are in EventBindings.
const (
	EventMessageAdd    = "ONIMCONNECTORMESSAGEADD"
	EventMessageUpdate = "ONIMCONNECTORMESSAGEUPDATE"
	EventMessageDelete = "ONIMCONNECTORMESSAGEDELETE"
	EventDialogStart   = "ONIMCONNECTORDIALOGSTART"
	EventDialogFinish  = "ONIMCONNECTORDIALOGFINISH"
	EventStatusDelete  = "ONIMCONNECTORSTATUSDELETE"
	EventLineDelete    = "ONIMCONNECTORLINEDELETE"
	EventAppInstall    = "ONAPPINSTALL"
	EventAppUpdate     = "ONAPPUPDATE"
	EventAppUninstall  = "ONAPPUNINSTALL"
	EventAppPayment    = "ONAPPPAYMENT"
)

// EventBindings are the events the installer binds to the /events handler,
// in the spelling of the event.bind documentation. ONAPPINSTALL is not among
// them because Bitrix24 sends it to the install handler of the app card.
var EventBindings = []string{
	"OnImConnectorMessageAdd",
	"OnImConnectorMessageUpdate",
	"OnImConnectorMessageDelete",
	"OnImConnectorDialogStart",
	"OnImConnectorDialogFinish",
	"OnImConnectorStatusDelete",
	"OnImConnectorLineDelete",
	"OnAppUninstall",
	"OnAppUpdate",
	"OnAppPayment",
}

// IsConnectorEvent reports whether name is one of the imconnector events that
// go to the ConnectorEventSink.
func IsConnectorEvent(name string) bool {
	switch strings.ToUpper(name) {
	case EventMessageAdd, EventMessageUpdate, EventMessageDelete, EventDialogStart,
		EventDialogFinish, EventStatusDelete, EventLineDelete:
		return true
	}
	return false
}

// Event is one event delivered by Bitrix24 to a bound handler.
type Event struct {
	// Name is the event field in upper case, for example ONIMCONNECTORMESSAGEADD.
	Name string
	// HandlerID is event_handler_id, or eventId in the variant some events
	// use; empty when neither is sent.
	HandlerID string
	// TS is the ts field: Unix seconds when the portal queued the event, 0
	// when absent.
	TS int64
	// Auth is the auth block. Events caused by automation rules carry no
	// tokens, and ONAPPUNINSTALL carries none either.
	Auth EventAuth
	// Data is the data field as a tree; for ONIMCONNECTORLINEDELETE it is a
	// scalar.
	Data *Node
}

// EventAuth is the auth block of an event. Expiry fields are 0 when absent.
type EventAuth struct {
	AccessToken      string
	RefreshToken     string // sent only with ONAPPINSTALL and ONAPPUPDATE
	Expires          int64  // Unix seconds
	ExpiresIn        int64  // seconds
	Scope            string
	Domain           string
	ServerEndpoint   string
	ClientEndpoint   string
	Status           string
	MemberID         string
	UserID           int64
	ApplicationToken string
}

// HasTokens reports whether the event carries an access token.
func (a EventAuth) HasTokens() bool { return a.AccessToken != "" }

// DecodeEvent reads an event from a parsed form. It requires the event name
// and tolerates every documented variant of the rest: missing auth, eventId
// in place of event_handler_id, numbers sent as strings.
func DecodeEvent(form *Node) (*Event, error) {
	name := strings.ToUpper(strings.TrimSpace(form.Value("event")))
	if name == "" {
		return nil, fmt.Errorf("%w: the event field is missing", ErrMalformedEvent)
	}
	ev := &Event{Name: name, Data: form.Get("data")}
	ev.HandlerID = form.Value("event_handler_id")
	if ev.HandlerID == "" {
		ev.HandlerID = form.Value("eventId")
	}
	ev.TS = parseInt(form.Value("ts"))

	auth := form.Get("auth")
	ev.Auth = EventAuth{
		AccessToken:      auth.Value("access_token"),
		RefreshToken:     auth.Value("refresh_token"),
		Expires:          parseInt(auth.Value("expires")),
		ExpiresIn:        parseInt(auth.Value("expires_in")),
		Scope:            auth.Value("scope"),
		Domain:           strings.ToLower(auth.Value("domain")),
		ServerEndpoint:   auth.Value("server_endpoint"),
		ClientEndpoint:   auth.Value("client_endpoint"),
		Status:           auth.Value("status"),
		MemberID:         auth.Value("member_id"),
		UserID:           parseInt(auth.Value("user_id")),
		ApplicationToken: auth.Value("application_token"),
	}
	return ev, nil
}

// ParseEvent parses a form body with the given limits and decodes the event.
func ParseEvent(body string, limits FormLimits) (*Event, error) {
	form, err := ParseForm(body, limits)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedEvent, err)
	}
	return DecodeEvent(form)
}

// parseInt reads a decimal integer and returns 0 for anything else, because
// optional numeric fields are informational and a bad one must not drop the
// event.
func parseInt(s string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// flag reads a PHP-style boolean: "1", "Y", "true" are true.
func flag(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "y", "true":
		return true
	}
	return false
}
