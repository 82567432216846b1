package b24fake

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// maxAttachBytes is the largest ATTACH that im.message.add accepts, 30 KB
// according to the method's documentation.
const maxAttachBytes = 30 * 1024

// chatDialogID matches the dialog ids of group chats as the server's
// Bitrix\Im\Common::isChatId does: chatNNN, sgNNN (workgroup) and crmNNN.
var chatDialogID = regexp.MustCompile(`(?i)^(chat|sg|crm)([0-9]+)$`)

// DialogMessage is a message posted with im.message.add.
type DialogMessage struct {
	ID         int    // the message id returned as result
	DialogID   string // DIALOG_ID as sent
	ChatID     int    // chat of a chatNNN dialog, 0 for a private dialog
	ToUserID   int    // recipient of a private dialog, 0 for a chat
	FromUserID int    // user whose token or webhook made the call
	// Message is MESSAGE with surrounding spaces trimmed. The server also
	// puts "[b]<app name>[/b]\n" before the text of a SYSTEM=Y message
	// posted by an app, which this fake leaves out.
	Message    string
	Attach     any  // ATTACH as sent, nil without one
	System     bool // SYSTEM=Y
	URLPreview bool // false only for URL_PREVIEW=N
	Time       time.Time
}

// DialogMessages returns every message posted with im.message.add, in order.
func (p *Portal) DialogMessages() []DialogMessage {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]DialogMessage(nil), p.state.dialogMessages...)
}

// DialogMessagesIn returns the im.message.add messages posted into one chat
// (the im.chat_id of connector events), in order.
func (p *Portal) DialogMessagesIn(chatID int) []DialogMessage {
	var out []DialogMessage
	for _, m := range p.DialogMessages() {
		if m.ChatID == chatID {
			out = append(out, m)
		}
	}
	return out
}

// imMessageAdd follows CIMRestService::messageAdd of the im module: MESSAGE
// is checked first, then the dialog, then ATTACH. A chat id that names no
// chat passes the checks and fails when the message is stored, with
// PARAMS_ERROR "Message isn't added".
// NOTE: the server also rejects users without access to the chat and keeps
// SYSTEM=Y only when the caller has access to the dialog; this fake lets any
// user post into any existing chat, and never forwards the message to the
// connector (SYSTEM=Y messages are not forwarded there either).
func (p *Portal) imMessageAdd(req *request) (any, *restError) {
	message, attach, rerr := messageText(req.params)
	if rerr != nil {
		return nil, rerr
	}
	m := DialogMessage{Message: message, Attach: attach, FromUserID: req.user.ID, URLPreview: true}
	if rerr := p.dialogTarget(req.params, &m); rerr != nil {
		return nil, rerr
	}
	if rerr := checkAttach(attach); rerr != nil {
		return nil, rerr
	}
	m.System = paramString(req.params, "SYSTEM") == "Y"
	m.URLPreview = paramString(req.params, "URL_PREVIEW") != "N"

	p.mu.Lock()
	defer p.mu.Unlock()
	if m.ChatID > 0 && !p.chatExistsLocked(m.ChatID) {
		return nil, &restError{http.StatusBadRequest, "PARAMS_ERROR", "Message isn't added"}
	}
	m.ID, m.Time = p.state.newID(), p.now()
	p.state.dialogMessages = append(p.state.dialogMessages, m)
	return m.ID, nil
}

// messageText reads MESSAGE and ATTACH, one of which must be non-empty.
func messageText(params map[string]any) (string, any, *restError) {
	attach, hasAttach := param(params, "ATTACH")
	if isEmptyPHP(attach) {
		attach, hasAttach = nil, false
	}
	raw, ok := param(params, "MESSAGE")
	if !ok {
		if !hasAttach {
			return "", nil, messageEmpty("Message can't be empty")
		}
		return "", attach, nil
	}
	text, isString := raw.(string)
	if !isString {
		return "", nil, messageEmpty("Wrong message type")
	}
	text = strings.TrimSpace(text)
	if text == "" && !hasAttach {
		return "", nil, messageEmpty("Message can't be empty")
	}
	return text, attach, nil
}

func messageEmpty(description string) *restError {
	return &restError{http.StatusBadRequest, "MESSAGE_EMPTY", description}
}

// dialogTarget resolves DIALOG_ID, or the older CHAT_ID and USER_ID
// parameters, into m.ChatID or m.ToUserID.
func (p *Portal) dialogTarget(params map[string]any, m *DialogMessage) *restError {
	chat, hasChat := param(params, "CHAT_ID")
	user, hasUser := param(params, "USER_ID")
	if dialog, ok := param(params, "DIALOG_ID"); ok {
		m.DialogID = asString(dialog)
		chat, hasChat, user, hasUser = nil, false, nil, false
		if match := chatDialogID.FindStringSubmatch(m.DialogID); match != nil {
			chat, hasChat = chatOfDialog(match), true
		} else {
			user, hasUser = m.DialogID, true
		}
	}
	switch {
	case hasUser:
		m.ToUserID = phpIntval(asString(user))
		if m.ToUserID <= 0 {
			return &restError{http.StatusBadRequest, "USER_ID_EMPTY", "User ID can't be empty"}
		}
		if !p.userExists(m.ToUserID) {
			return &restError{http.StatusBadRequest, "USER_NOT_FOUND", "User not found"}
		}
	case hasChat:
		m.ChatID = phpIntval(asString(chat))
		if m.ChatID <= 0 {
			return &restError{http.StatusBadRequest, "CHAT_ID_EMPTY", "Chat ID can't be empty"}
		}
	default:
		return &restError{http.StatusBadRequest, "PARAMS_ERROR", "Incorrect params"}
	}
	return nil
}

// chatOfDialog returns the chat id of a matched dialog id. This fake has no
// workgroup or CRM chats, so sgNNN and crmNNN resolve to no chat (0), as the
// server resolves a workgroup without a chat.
func chatOfDialog(match []string) string {
	if strings.EqualFold(match[1], "chat") {
		return match[2]
	}
	return "0"
}

// checkAttach applies the server's ATTACH checks: a JSON array or object (or
// a string holding one) of at most maxAttachBytes.
func checkAttach(attach any) *restError {
	if attach == nil {
		return nil
	}
	if s, ok := attach.(string); ok {
		var decoded any
		if err := json.Unmarshal([]byte(s), &decoded); err != nil {
			return attachError()
		}
		attach = decoded
	}
	switch t := attach.(type) {
	case []any:
		if len(t) == 0 {
			return attachError()
		}
	case map[string]any:
		if len(t) == 0 {
			return attachError()
		}
	default:
		return attachError()
	}
	encoded, _ := json.Marshal(attach)
	if len(encoded) > maxAttachBytes {
		return &restError{http.StatusBadRequest, "ATTACH_OVERSIZE", "You have exceeded the maximum allowable size of attach"}
	}
	return nil
}

func attachError() *restError {
	return &restError{http.StatusBadRequest, "ATTACH_ERROR", "Incorrect attach params"}
}

// isEmptyPHP reports what PHP's empty() reports for a parameter value.
func isEmptyPHP(v any) bool {
	switch t := v.(type) {
	case nil:
		return true
	case string:
		return t == "" || t == "0"
	case bool:
		return !t
	case []any:
		return len(t) == 0
	case map[string]any:
		return len(t) == 0
	case json.Number:
		return t.String() == "0"
	}
	return false
}

// phpIntval converts like PHP's intval: leading digits, 0 when there are none.
func phpIntval(s string) int {
	s = strings.TrimSpace(s)
	end := 0
	if end < len(s) && (s[end] == '-' || s[end] == '+') {
		end++
	}
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	n, _ := asInt(s[:end])
	return n
}

func (p *Portal) userExists(id int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.state.users[id]; ok {
		return true
	}
	for _, ext := range p.state.extUsers {
		if ext == id {
			return true
		}
	}
	return false
}

// chatExistsLocked reports whether an open line dialog has chat id id.
func (p *Portal) chatExistsLocked(id int) bool {
	for _, c := range p.state.chats {
		if c.chatID == id {
			return true
		}
	}
	return false
}
