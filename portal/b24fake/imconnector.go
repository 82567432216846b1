package b24fake

import (
	"net/http"
	"strings"
)

func lookupConnectorMethod(name string) handlerFunc {
	switch name {
	case "imconnector.register":
		return (*Portal).register
	case "imconnector.unregister":
		return (*Portal).unregister
	case "imconnector.activate":
		return (*Portal).activate
	case "imconnector.status":
		return (*Portal).connectorStatus
	case "imconnector.connector.data.set":
		return (*Portal).dataSet
	case "imconnector.list":
		return (*Portal).connectorList
	case "imconnector.set.error":
		return (*Portal).setError
	case "imconnector.chat.name.set":
		return (*Portal).chatNameSet
	case "imconnector.send.messages":
		return (*Portal).sendMessages
	case "imconnector.update.messages":
		return (*Portal).updateMessages
	case "imconnector.delete.messages":
		return (*Portal).deleteMessages
	case "imconnector.send.status.delivery":
		return (*Portal).statusDelivery
	case "imconnector.send.status.reading":
		return (*Portal).statusReading
	}
	return nil
}

// inResult is the in-200 answer {"result":bool,"error":..} of register and
// unregister.
func inResult(code, description string) map[string]any {
	if code == "" {
		return map[string]any{"result": true}
	}
	return map[string]any{"result": false, "error": code, "error_description": description}
}

func requireAdmin(req *request) *restError {
	// NOTE: the real permission is "modify connectors" of Open Lines; this fake
	// grants it to administrators only.
	if !req.user.Admin {
		return &restError{http.StatusBadRequest, "ACCESS_DENIED", "Access denied"}
	}
	return nil
}

func (p *Portal) register(req *request) (any, *restError) {
	if rerr := requireAdmin(req); rerr != nil {
		return nil, rerr
	}
	id := strings.ToLower(strings.TrimSpace(paramString(req.params, "ID")))
	icon, _ := param(req.params, "ICON")
	switch {
	case id == "":
		return inResult("CONNECTOR_ID_REQUIRED", "Connector ID is required"), nil
	case strings.Contains(id, "."):
		return inResult("APPLICATION_REGISTRATION_ERROR_POINT", "The connector ID must not contain a point"), nil
	case strings.TrimSpace(paramString(req.params, "NAME")) == "":
		return inResult("NAME_REQUIRED", "Connector name is required"), nil
	case asString(asMap(lowerKeys(icon))["data_image"]) == "":
		return inResult("ICON_REQUIRED", "Connector icon is required"), nil
	case paramString(req.params, "PLACEMENT_HANDLER") == "":
		return inResult("NO_PLACEMENT_HANDLER", "Placement handler is required"), nil
	}
	iconDisabled, _ := param(req.params, "ICON_DISABLED")
	c := &Connector{
		ID: id, Name: paramString(req.params, "NAME"), Icon: asMap(icon), IconDisabled: asMap(iconDisabled),
		PlacementHandler:     paramString(req.params, "PLACEMENT_HANDLER"),
		DelExternalMessages:  strictBool(req.params, "DEL_EXTERNAL_MESSAGES", true),
		EditInternalMessages: strictBool(req.params, "EDIT_INTERNAL_MESSAGES", true),
		DelInternalMessages:  strictBool(req.params, "DEL_INTERNAL_MESSAGES", true),
		Newsletter:           strictBool(req.params, "NEWSLETTER", true),
		NeedSystemMessages:   strictBool(req.params, "NEED_SYSTEM_MESSAGES", true),
		NeedSignature:        strictBool(req.params, "NEED_SIGNATURE", true),
		ChatGroup:            strictBool(req.params, "CHAT_GROUP", false),
		Comment:              paramString(req.params, "COMMENT"),
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state.connectors[id] = c
	return inResult("", ""), nil
}

// strictBool honours a flag only when it is a JSON boolean, as the server
// compares with === true; "Y", "1" and form values fall back to def.
func strictBool(params map[string]any, name string, def bool) bool {
	v, ok := param(params, name)
	if b, isBool := v.(bool); ok && isBool {
		return b
	}
	return def
}

func (p *Portal) unregister(req *request) (any, *restError) {
	if rerr := requireAdmin(req); rerr != nil {
		return nil, rerr
	}
	id := strings.ToLower(paramString(req.params, "ID"))
	if id == "" {
		return inResult("NO_APPLICATION_ID", "Connector ID is required"), nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.state.connectors[id]; !ok {
		return inResult("APPLICATION_UNREGISTRATION_ERROR", "Failed to unregister the connector"), nil
	}
	delete(p.state.connectors, id)
	delete(p.state.lineStatus, id)
	return inResult("", ""), nil
}

// connectorLine reads CONNECTOR and LINE, both required.
func connectorLine(req *request) (string, int, *restError) {
	connector := strings.ToLower(paramString(req.params, "CONNECTOR"))
	if connector == "" {
		return "", 0, argumentError("Argument 'CONNECTOR' is null or empty")
	}
	line, ok := asInt(paramString(req.params, "LINE"))
	if !ok {
		return "", 0, argumentError("Argument 'LINE' is null or empty")
	}
	return connector, line, nil
}

func (p *Portal) activate(req *request) (any, *restError) {
	if rerr := requireAdmin(req); rerr != nil {
		return nil, rerr
	}
	connector, line, rerr := connectorLine(req)
	if rerr != nil {
		return nil, rerr
	}
	active := paramString(req.params, "ACTIVE")
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.state.connectors[connector]; !ok {
		return nil, &restError{http.StatusBadRequest, "IMCONNECTOR_NO_CORRECT_PROVIDER", "Connector is not registered"}
	}
	if active == "" || active == "0" {
		delete(p.state.lineStatus[connector], line)
		return true, nil
	}
	s := p.statusLocked(connector, line)
	s.Active, s.Connection, s.Register, s.Error = true, true, true, false
	return true, nil
}

func (p *Portal) statusLocked(connector string, line int) *LineStatus {
	if p.state.lineStatus[connector] == nil {
		p.state.lineStatus[connector] = map[int]*LineStatus{}
	}
	s, ok := p.state.lineStatus[connector][line]
	if !ok {
		s = &LineStatus{}
		p.state.lineStatus[connector][line] = s
	}
	return s
}

func (p *Portal) connectorStatus(req *request) (any, *restError) {
	connector := strings.ToLower(paramString(req.params, "CONNECTOR"))
	line, _ := asInt(paramString(req.params, "LINE"))
	p.mu.Lock()
	defer p.mu.Unlock()
	s := LineStatus{}
	if found, ok := p.state.lineStatus[connector][line]; ok {
		s = *found
	}
	return map[string]any{
		"LINE": line, "CONNECTOR": connector, "ERROR": s.Error,
		"CONFIGURED": s.Active && s.Connection && s.Register, "STATUS": s.Status(),
	}, nil
}

func (p *Portal) dataSet(req *request) (any, *restError) {
	if rerr := requireAdmin(req); rerr != nil {
		return nil, rerr
	}
	connector, line, rerr := connectorLine(req)
	if rerr != nil {
		return nil, rerr
	}
	data, _ := param(req.params, "DATA")
	if asMap(data) == nil {
		return nil, argumentError("Argument 'DATA' is null or empty")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.state.connectors[connector]; !ok {
		return nil, &restError{http.StatusBadRequest, "IMCONNECTOR_NO_CORRECT_PROVIDER", "Connector is not registered"}
	}
	s := p.statusLocked(connector, line)
	merged := map[string]any{}
	for k, v := range s.Data {
		merged[k] = v
	}
	for k, v := range asMap(data) {
		merged[k] = v
	}
	s.Data, s.Connection, s.Register = merged, true, true
	return true, nil
}

func (p *Portal) connectorList(req *request) (any, *restError) {
	if rerr := requireAdmin(req); rerr != nil {
		return nil, rerr
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]any{"livechat": "Live Chat", "telegrambot": "Telegram", "network": "Bitrix24.Network"}
	for id, c := range p.state.connectors {
		out[id] = c.Name
	}
	return out, nil
}

func (p *Portal) setError(req *request) (any, *restError) {
	connector, line, rerr := connectorLine(req)
	if rerr != nil {
		return nil, rerr
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok := p.state.lineStatus[connector][line]
	if !ok {
		return nil, notActiveLine()
	}
	s.Error = true
	return true, nil
}

func notActiveLine() *restError {
	return &restError{http.StatusBadRequest, "NOT_ACTIVE_LINE", "The line with this ID is inactive or does not exist"}
}

// activeLocked reports whether connector is registered and active on line.
func (p *Portal) activeLocked(connector string, line int) bool {
	if _, ok := p.state.connectors[connector]; !ok {
		return false
	}
	s, ok := p.state.lineStatus[connector][line]
	return ok && s.Active && !s.Error
}

func (p *Portal) chatNameSet(req *request) (any, *restError) {
	connector, line, rerr := connectorLine(req)
	if rerr != nil {
		return nil, rerr
	}
	chatID, name := paramString(req.params, "CHAT_ID"), paramString(req.params, "NAME")
	userID := paramString(req.params, "USER_ID")
	if chatID == "" || name == "" {
		return nil, argumentError("Argument 'CHAT_ID' or 'NAME' is null or empty")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.activeLocked(connector, line) {
		return nil, notActiveLine()
	}
	if !p.state.connectors[connector].ChatGroup && userID == "" {
		return nil, argumentError("Argument 'USER_ID' is null or empty")
	}
	p.state.chatNames = append(p.state.chatNames, ChatName{connector, line, chatID, name, userID})
	return map[string]any{"SUCCESS": true, "DATA": map[string]any{"RESULT": map[string]any{}}}, nil
}
