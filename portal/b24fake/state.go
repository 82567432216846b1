package b24fake

import (
	"sort"
	"strings"
	"time"
)

// User is a portal user.
type User struct {
	ID       int
	Name     string
	LastName string
	Email    string
	Admin    bool
}

// Connector is a connector registered with imconnector.register. The flags
// hold what the portal stored: a flag sent as anything but a JSON boolean
// keeps its default, like the real server.
type Connector struct {
	ID                   string
	Name                 string
	Icon                 map[string]any
	IconDisabled         map[string]any
	PlacementHandler     string
	DelExternalMessages  bool
	EditInternalMessages bool
	DelInternalMessages  bool
	Newsletter           bool
	NeedSystemMessages   bool
	NeedSignature        bool
	ChatGroup            bool
	Comment              string
}

// LineStatus is a connector's state on one open line.
type LineStatus struct {
	Active     bool
	Connection bool
	Register   bool
	Error      bool
	Data       map[string]any
}

// Status is the final STATUS flag: active, connected, registered, no error.
func (s LineStatus) Status() bool { return s.Active && s.Connection && s.Register && !s.Error }

// Line is an open line (imopenlines config).
type Line struct {
	ID     int
	Name   string
	Active bool
}

// EventBinding is a row of event.get.
type EventBinding struct {
	Event    string // upper case, as event.get returns it
	Handler  string
	AuthType int
	Offline  bool
	UserID   int // the user whose token bound it
}

// FetchedFile is a file the portal downloaded from files[].url.
type FetchedFile struct {
	URL         string
	Name        string
	ContentType string
	Body        []byte
	Status      int    // HTTP status of the download, 0 when it failed before
	Err         string // why the download failed; empty on success
}

// ReceivedMessage is one element of imconnector.send.messages, in send order.
type ReceivedMessage struct {
	Connector  string
	Line       int
	User       map[string]any
	Message    map[string]any
	Chat       map[string]any
	Files      []FetchedFile
	Success    bool
	ErrorCode  string // element error, such as IMCONNECTOR_NOT_ALL_THE_REQUIRED_DATA
	UserID     int    // portal user created for user.id
	ChatID     int    // portal chat id (session.CHAT_ID)
	SessionID  int
	MessageID  int // portal message id
	ExternalID string
	Time       time.Time
}

// MessageChange is one element of imconnector.update.messages or
// imconnector.delete.messages.
type MessageChange struct {
	Connector  string
	Line       int
	ExternalID string
	ChatID     string // external chat.id
	Text       string
	Found      bool
	Time       time.Time
}

// StatusUpdate is one element of send.status.delivery or send.status.reading.
type StatusUpdate struct {
	Connector   string
	Line        int
	IMChatID    int
	IMMessageID int
	ExternalIDs []string
	ChatID      string
	Date        int64
	Time        time.Time
}

// Notification is a call of im.notify.system.add.
type Notification struct {
	UserID  int
	Message string
	Tag     string
}

// ChatName is a call of imconnector.chat.name.set.
type ChatName struct {
	Connector string
	Line      int
	ChatID    string
	Name      string
	UserID    string
}

// outbound is an operator message sent to the app through an event.
type outbound struct {
	connector   string
	line        int
	imChatID    int
	imMessageID int
	chatID      string
	text        string
	externalIDs []string // set by send.status.delivery (CONNECTOR_MID)
}

type chatRecord struct {
	chatID    int
	sessionID int
	userID    int
	messages  map[string]int // external message id → portal message id
}

type state struct {
	users        map[int]*User
	access       map[string]*accessToken
	refresh      map[string]*refreshToken
	connectors   map[string]*Connector
	lineStatus   map[string]map[int]*LineStatus
	lines        map[int]*Line
	bindings     []EventBinding
	received     []ReceivedMessage
	updates      []MessageChange
	deletes      []MessageChange
	delivery     []StatusUpdate
	reading      []StatusUpdate
	notes        []Notification
	chatNames    []ChatName
	extUsers     map[string]int
	chats        map[string]*chatRecord
	outbound     []*outbound
	calls        []Call
	oauthCalls   []OAuthCall
	injections   []*injection
	oauthErrors  []*injection
	nextID       int
	installed    bool
	uninstalled  bool
	payRequired  bool
	appStatus    string
	payExpired   bool
	days         *int
	appToken     string
	webhooks     map[string]int
	handlerCount int

	dialogMessages []DialogMessage
	files          map[int]*hostedFile // uploaded chat files by Disk file id
	shortLinks     map[string]int      // short link code ("~Ab3dE") to file id
	fileKey        []byte              // key of the SIGN of im.file.php links
	downloads      []FileDownload
}

func newState(o Options) state {
	return state{
		users:      map[int]*User{1: {ID: 1, Name: "Anna", LastName: "Admin", Email: "admin@example.com", Admin: true}},
		access:     map[string]*accessToken{},
		refresh:    map[string]*refreshToken{},
		connectors: map[string]*Connector{},
		lineStatus: map[string]map[int]*LineStatus{},
		lines:      map[int]*Line{1: {ID: 1, Name: "Open Channel", Active: true}},
		extUsers:   map[string]int{},
		chats:      map[string]*chatRecord{},
		nextID:     500,
		installed:  !o.NotInstalled,
		appStatus:  o.AppStatus,
		appToken:   o.ApplicationToken,
		webhooks:   map[string]int{},
		files:      map[int]*hostedFile{},
		shortLinks: map[string]int{},
		fileKey:    []byte(randomHex(16)),
	}
}

func (s *state) newID() int {
	s.nextID++
	return s.nextID
}

// AddUser adds or replaces a portal user.
func (p *Portal) AddUser(u User) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := u
	p.state.users[u.ID] = &c
}

// AddLine adds or renames an open line.
func (p *Portal) AddLine(id int, name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state.lines[id] = &Line{ID: id, Name: name, Active: true}
}

// FinishInstall is what BX24.installFinish does: app.info reports INSTALLED
// true and events start to be sent.
func (p *Portal) FinishInstall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state.installed = true
}

// SetAppStatus sets what app.info reports: the status letter, whether payment
// expired and the days left (nil for free apps).
func (p *Portal) SetAppStatus(status string, paymentExpired bool, days *int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state.appStatus, p.state.payExpired, p.state.days = status, paymentExpired, days
}

// SetPaymentRequired makes the OAuth server refuse refreshes with
// PAYMENT_REQUIRED, as for an app whose paid period ended.
func (p *Portal) SetPaymentRequired(required bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state.payRequired = required
}

// ApplicationToken is the token events carry in auth[application_token].
func (p *Portal) ApplicationToken() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state.appToken
}

// RotateApplicationToken replaces the application token, as an app update
// does, and returns the new one.
func (p *Portal) RotateApplicationToken() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state.appToken = randomHex(16)
	return p.state.appToken
}

// Uninstall removes the app: every token is revoked, the connectors are
// unregistered and refreshes fail with invalid_client.
func (p *Portal) Uninstall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state.uninstalled = true
	p.state.access = map[string]*accessToken{}
	p.state.refresh = map[string]*refreshToken{}
	p.state.connectors = map[string]*Connector{}
	p.state.lineStatus = map[string]map[int]*LineStatus{}
	p.state.bindings = nil
}

// Connectors returns the registered connectors by id.
func (p *Portal) Connectors() map[string]Connector {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]Connector, len(p.state.connectors))
	for id, c := range p.state.connectors {
		out[id] = *c
	}
	return out
}

// LineStatus returns the connector's state on a line; ok is false when the
// connector was never activated there.
func (p *Portal) LineStatus(connector string, line int) (LineStatus, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok := p.state.lineStatus[strings.ToLower(connector)][line]
	if !ok {
		return LineStatus{}, false
	}
	return *s, true
}

// ActiveLines returns the lines where connector is active, in order.
func (p *Portal) ActiveLines(connector string) []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	var lines []int
	for line, s := range p.state.lineStatus[strings.ToLower(connector)] {
		if s.Active {
			lines = append(lines, line)
		}
	}
	sort.Ints(lines)
	return lines
}

// BoundEvents returns the event bindings in bind order.
func (p *Portal) BoundEvents() []EventBinding {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]EventBinding(nil), p.state.bindings...)
}

// ReceivedMessages returns every imconnector.send.messages element in order.
func (p *Portal) ReceivedMessages() []ReceivedMessage {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]ReceivedMessage(nil), p.state.received...)
}

// UpdatedMessages returns every imconnector.update.messages element in order.
func (p *Portal) UpdatedMessages() []MessageChange {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]MessageChange(nil), p.state.updates...)
}

// DeletedMessages returns every imconnector.delete.messages element in order.
func (p *Portal) DeletedMessages() []MessageChange {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]MessageChange(nil), p.state.deletes...)
}

// DeliveryStatuses returns every send.status.delivery element in order.
func (p *Portal) DeliveryStatuses() []StatusUpdate {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]StatusUpdate(nil), p.state.delivery...)
}

// ReadStatuses returns every send.status.reading element in order.
func (p *Portal) ReadStatuses() []StatusUpdate {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]StatusUpdate(nil), p.state.reading...)
}

// Notifications returns every im.notify.system.add call in order.
func (p *Portal) Notifications() []Notification {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Notification(nil), p.state.notes...)
}

// ChatNames returns every imconnector.chat.name.set call in order.
func (p *Portal) ChatNames() []ChatName {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]ChatName(nil), p.state.chatNames...)
}
