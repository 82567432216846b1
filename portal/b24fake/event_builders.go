package b24fake

// Event names as the queue server sends them.
const (
	EventMessageAdd    = "ONIMCONNECTORMESSAGEADD"
	EventMessageUpdate = "ONIMCONNECTORMESSAGEUPDATE"
	EventMessageDelete = "ONIMCONNECTORMESSAGEDELETE"
	EventDialogStart   = "ONIMCONNECTORDIALOGSTART"
	EventDialogFinish  = "ONIMCONNECTORDIALOGFINISH"
	EventStatusDelete  = "ONIMCONNECTORSTATUSDELETE"
	EventLineDelete    = "ONIMCONNECTORLINEDELETE"
	EventAppInstall    = "ONAPPINSTALL"
	EventAppUninstall  = "ONAPPUNINSTALL"
	EventAppUpdate     = "ONAPPUPDATE"
	EventAppPayment    = "ONAPPPAYMENT"
)

// OutboundFile is a file attached by an operator, as message.files[] of
// ONIMCONNECTORMESSAGEADD describes it. Link is where the app downloads it.
type OutboundFile struct {
	Name   string
	Type   string
	Link   string
	Size   int
	Width  int
	Height int
}

// EventMessage is one element of MESSAGES in a connector event.
type EventMessage struct {
	IMChatID    int
	IMMessageID int
	UserID      int    // author (operator) id
	Text        string // BB-code
	Files       []OutboundFile
	ChatID      string   // external chat.id
	ExternalIDs []string // message.id of update (list) and delete (first one) events
}

func (m EventMessage) element(kind string) map[string]any {
	message := map[string]any{}
	switch kind {
	case EventMessageAdd:
		message["user_id"] = m.UserID
		message["text"] = m.Text
		if len(m.Files) > 0 {
			message["files"] = filesData(m.Files)
		}
	case EventMessageUpdate:
		message["id"] = m.ExternalIDs
		message["text"] = m.Text
	case EventMessageDelete:
		if len(m.ExternalIDs) > 0 {
			message["id"] = m.ExternalIDs[0]
		}
	}
	return map[string]any{
		"im":      map[string]any{"chat_id": m.IMChatID, "message_id": m.IMMessageID},
		"message": message,
		"chat":    map[string]any{"id": m.ChatID},
	}
}

func filesData(files []OutboundFile) []any {
	out := make([]any, 0, len(files))
	for _, f := range files {
		file := map[string]any{"name": f.Name, "type": f.Type, "link": f.Link, "size": f.Size}
		if f.Width > 0 {
			file["width"], file["height"] = f.Width, f.Height
		}
		out = append(out, file)
	}
	return out
}

// MessagesData builds data of ONIMCONNECTORMESSAGEADD, UPDATE or DELETE.
func MessagesData(event, connector string, line int, msgs ...EventMessage) map[string]any {
	elements := make([]any, 0, len(msgs))
	for _, m := range msgs {
		elements = append(elements, m.element(event))
	}
	return map[string]any{"CONNECTOR": connector, "LINE": line, "MESSAGES": elements}
}

// StatusDeleteData builds data of ONIMCONNECTORSTATUSDELETE; its keys are
// lower case, unlike the other connector events.
func StatusDeleteData(connector string, line int) map[string]any {
	return map[string]any{"connector": connector, "line": line}
}

// DialogData builds data of ONIMCONNECTORDIALOGSTART or FINISH.
func DialogData(connector string, line int, chatID string, userID, sessionID int, closed bool) map[string]any {
	closedFlag := "N"
	if closed {
		closedFlag = "Y"
	}
	return map[string]any{"CONNECTOR": connector, "LINE": itoa(line), "DATA": []any{map[string]any{
		"connector": map[string]any{"connector_id": connector, "line_id": line, "chat_id": chatID, "user_id": userID},
		"session":   map[string]any{"id": sessionID, "closed": closedFlag, "parent_id": 0, "close_term": 10},
		"chat":      map[string]any{"id": chatID},
		"user":      map[string]any{"id": userID},
	}}}
}

// AppInstallData builds data of ONAPPINSTALL; send it WithRefreshToken.
func (p *Portal) AppInstallData() map[string]any {
	return map[string]any{"VERSION": itoa(p.opts.AppVersion), "ACTIVE": "Y", "INSTALLED": "Y", "LANGUAGE_ID": p.opts.Lang}
}

// AppUninstallData builds data of ONAPPUNINSTALL; send it WithoutTokens.
func (p *Portal) AppUninstallData(clean bool) map[string]any {
	flag := 0
	if clean {
		flag = 1
	}
	return map[string]any{"LANGUAGE_ID": p.opts.Lang, "CLEAN": flag}
}

// AppUpdateData builds data of ONAPPUPDATE; send it WithRefreshToken after
// RotateApplicationToken.
func (p *Portal) AppUpdateData(version, previous string) map[string]any {
	return map[string]any{"VERSION": version, "PREVIOUS_VERSION": previous, "LANGUAGE_ID": p.opts.Lang}
}

// AppPaymentData builds data of ONAPPPAYMENT from the current app status;
// send it WithoutTokens.
func (p *Portal) AppPaymentData() map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	expired := "N"
	if p.state.payExpired {
		expired = "Y"
	}
	data := map[string]any{"CODE": p.opts.AppCode, "VERSION": p.opts.AppVersion, "STATUS": p.state.appStatus,
		"PAYMENT_EXPIRED": expired, "LANGUAGE_ID": p.opts.Lang}
	if p.state.days != nil {
		data["DAYS"] = *p.state.days
	}
	return data
}
