package b24fake

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// lookupMethod returns the handler of a lower-case method name, or nil.
func lookupMethod(name string) handlerFunc {
	switch name {
	case "app.info":
		return (*Portal).appInfo
	case "user.current":
		return (*Portal).userCurrent
	case "user.admin":
		return (*Portal).userAdmin
	case "event.bind":
		return (*Portal).eventBind
	case "event.unbind":
		return (*Portal).eventUnbind
	case "event.get":
		return (*Portal).eventGet
	case "im.notify.system.add":
		return (*Portal).notifySystemAdd
	case "im.message.add":
		return (*Portal).imMessageAdd
	case "imopenlines.config.list.get":
		return (*Portal).configListGet
	case "imopenlines.config.get":
		return (*Portal).configGet
	case "batch":
		return (*Portal).batch
	}
	return lookupConnectorMethod(name)
}

func (p *Portal) appInfo(req *request) (any, *restError) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var days any
	if p.state.days != nil {
		days = *p.state.days
	}
	payExpired := "N"
	if p.state.payExpired {
		payExpired = "Y"
	}
	return map[string]any{
		"ID": 5, "CODE": p.opts.AppCode, "VERSION": p.opts.AppVersion, "STATUS": p.state.appStatus,
		"INSTALLED": p.state.installed, "PAYMENT_EXPIRED": payExpired, "DAYS": days, "LANGUAGE_ID": p.opts.Lang,
		"LICENSE": p.opts.Lang + "_project", "LICENSE_TYPE": "project", "LICENSE_FAMILY": "project",
	}, nil
}

func (p *Portal) userCurrent(req *request) (any, *restError) {
	u := req.user
	return map[string]any{
		"ID": itoa(u.ID), "XML_ID": "", "ACTIVE": true, "NAME": u.Name, "LAST_NAME": u.LastName,
		"SECOND_NAME": "", "EMAIL": u.Email, "PERSONAL_GENDER": "", "IS_ONLINE": "Y",
		"TIME_ZONE": "", "TIME_ZONE_OFFSET": "0", "UF_DEPARTMENT": []int{1},
	}, nil
}

func (p *Portal) userAdmin(req *request) (any, *restError) {
	return req.user.Admin, nil
}

// knownEvents are the events the app's scopes can bind, upper case.
var knownEvents = []string{
	"ONAPPINSTALL", "ONAPPUNINSTALL", "ONAPPUPDATE", "ONAPPPAYMENT", "ONAPPTEST",
	"ONIMCONNECTORMESSAGEADD", "ONIMCONNECTORMESSAGEUPDATE", "ONIMCONNECTORMESSAGEDELETE",
	"ONIMCONNECTORDIALOGSTART", "ONIMCONNECTORDIALOGFINISH", "ONIMCONNECTORSTATUSDELETE", "ONIMCONNECTORLINEDELETE",
}

func (p *Portal) eventBind(req *request) (any, *restError) {
	name := strings.ToUpper(paramString(req.params, "event"))
	if !slices.Contains(knownEvents, name) {
		return nil, &restError{http.StatusBadRequest, "ERROR_EVENT_NOT_FOUND", "Event not found"}
	}
	authType, _ := asInt(paramString(req.params, "auth_type"))
	offline := strings.EqualFold(paramString(req.params, "event_type"), "offline")
	if (offline || (authType != 0 && authType != req.user.ID)) && !req.user.Admin {
		return nil, &restError{http.StatusForbidden, "ACCESS_DENIED", "Access denied"}
	}
	handler := paramString(req.params, "handler")
	if !offline {
		if rerr := checkHandlerURL(handler); rerr != nil {
			return nil, rerr
		}
	} else {
		handler = ""
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, b := range p.state.bindings {
		if b.Event == name && b.Handler == handler && b.AuthType == authType && b.Offline == offline {
			return nil, &restError{http.StatusBadRequest, "ERROR_CORE", "Unable to set event handler: Handler already binded"}
		}
	}
	p.state.bindings = append(p.state.bindings,
		EventBinding{Event: name, Handler: handler, AuthType: authType, Offline: offline, UserID: req.user.ID})
	return true, nil
}

// checkHandlerURL applies the server's rule: an absolute http(s) URL whose
// host contains a dot.
func checkHandlerURL(handler string) *restError {
	u, err := url.Parse(handler)
	if err != nil || u.Host == "" || !strings.Contains(u.Hostname(), ".") {
		return &restError{http.StatusBadRequest, "ERROR_WRONG_HANDLER_URL", "Wrong handler URL"}
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return &restError{http.StatusBadRequest, "ERROR_UNSUPPORTED_PROTOCOL", "Unsupported event handler protocol"}
	}
	return nil
}

func (p *Portal) eventUnbind(req *request) (any, *restError) {
	name := strings.ToUpper(paramString(req.params, "event"))
	handler := paramString(req.params, "handler")
	authType, hasAuthType := asInt(paramString(req.params, "auth_type"))
	p.mu.Lock()
	defer p.mu.Unlock()
	kept := p.state.bindings[:0]
	count := 0
	for _, b := range p.state.bindings {
		match := b.Event == name && (handler == "" || b.Handler == handler) && (!hasAuthType || b.AuthType == authType)
		if match {
			count++
			continue
		}
		kept = append(kept, b)
	}
	p.state.bindings = kept
	return map[string]any{"count": count}, nil
}

func (p *Portal) eventGet(req *request) (any, *restError) {
	p.mu.Lock()
	defer p.mu.Unlock()
	rows := []map[string]any{}
	for _, b := range p.state.bindings {
		if b.Offline {
			rows = append(rows, map[string]any{"event": b.Event, "connector_id": "", "offline": 1})
			continue
		}
		rows = append(rows, map[string]any{"event": b.Event, "handler": b.Handler, "auth_type": itoa(b.AuthType), "offline": 0})
	}
	return rows, nil
}

func (p *Portal) notifySystemAdd(req *request) (any, *restError) {
	userID, ok := asInt(paramString(req.params, "USER_ID"))
	if !ok || userID <= 0 {
		return nil, &restError{http.StatusBadRequest, "USER_ID_EMPTY", "User ID can't be empty"}
	}
	message := paramString(req.params, "MESSAGE")
	if strings.TrimSpace(message) == "" {
		return nil, &restError{http.StatusBadRequest, "MESSAGE_EMPTY", "Message can't be empty"}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state.notes = append(p.state.notes, Notification{UserID: userID, Message: message, Tag: paramString(req.params, "TAG")})
	return p.state.newID(), nil
}

func (p *Portal) configListGet(req *request) (any, *restError) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ids := make([]int, 0, len(p.state.lines))
	for id := range p.state.lines {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	rows := []map[string]any{}
	for _, id := range ids {
		rows = append(rows, lineRow(p.state.lines[id], p.opts.Lang))
	}
	return rows, nil
}

func (p *Portal) configGet(req *request) (any, *restError) {
	id, ok := asInt(paramString(req.params, "CONFIG_ID"))
	p.mu.Lock()
	defer p.mu.Unlock()
	line, exists := p.state.lines[id]
	if !ok || !exists {
		// NOTE: the error code for an unknown line id is not documented; this one is a guess.
		return nil, &restError{http.StatusBadRequest, "CONFIG_NOT_FOUND", "Open line not found"}
	}
	return lineRow(line, p.opts.Lang), nil
}

func lineRow(l *Line, lang string) map[string]any {
	active := "N"
	if l.Active {
		active = "Y"
	}
	return map[string]any{
		"ID": itoa(l.ID), "ACTIVE": active, "LINE_NAME": l.Name, "CRM": "Y", "CRM_CREATE": "lead",
		"VOTE_MESSAGE": "Y", "VOTE_MESSAGE_2_TEXT": "Please rate the quality of service. Send: 1 - good, 0 - bad",
		"LANGUAGE_ID": lang, "QUEUE_TYPE": "evenly",
	}
}
