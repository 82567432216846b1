package b24fake

import (
	"fmt"
	"strings"
)

// elementErrorText is the server's text for IMCONNECTOR_NOT_ALL_THE_REQUIRED_DATA;
// element errors carry texts, not codes.
const elementErrorText = "Not all required data has been provided"

// messagesParam reads CONNECTOR, LINE and MESSAGES, checks the structure of
// every element and that the connector is active on the line.
func (p *Portal) messagesParam(req *request) (string, int, []map[string]any, *restError) {
	connector, line, rerr := connectorLine(req)
	if rerr != nil {
		return "", 0, nil, rerr
	}
	raw, ok := param(req.params, "MESSAGES")
	if !ok || raw == nil || asString(raw) != "" {
		if !ok || raw == nil {
			return "", 0, nil, argumentError("Argument 'MESSAGES' is null or empty")
		}
		return "", 0, nil, argumentError("Argument 'MESSAGES' must be of type array")
	}
	list, ok := asList(raw)
	if !ok || len(list) == 0 {
		return "", 0, nil, argumentError("Argument 'MESSAGES' must be an array of messages")
	}
	msgs := make([]map[string]any, 0, len(list))
	for _, item := range list {
		m := asMap(lowerKeys(item))
		if m == nil {
			return "", 0, nil, argumentError("Argument 'MESSAGES' must be an array of messages")
		}
		msgs = append(msgs, m)
	}
	p.mu.Lock()
	active := p.activeLocked(connector, line)
	p.mu.Unlock()
	if !active {
		return "", 0, nil, notActiveLine()
	}
	return connector, line, msgs, nil
}

func checkStructure(msgs []map[string]any) *restError {
	for _, m := range msgs {
		if asMap(m["user"]) == nil || asMap(m["message"]) == nil || asMap(m["chat"]) == nil {
			return argumentError("Incorrect structure of a message: user, message and chat are required")
		}
	}
	return nil
}

func (p *Portal) sendMessages(req *request) (any, *restError) {
	connector, line, msgs, rerr := p.messagesParam(req)
	if rerr != nil {
		return nil, rerr
	}
	if rerr := checkStructure(msgs); rerr != nil {
		return nil, rerr
	}
	results := make([]any, 0, len(msgs))
	for _, m := range msgs {
		files := p.fetchFiles(req, asMap(m["message"])["files"])
		results = append(results, p.receive(connector, line, m, files))
	}
	return map[string]any{"SUCCESS": true, "DATA": map[string]any{"RESULT": results}}, nil
}

// receive stores one customer message and returns its element of the answer.
func (p *Portal) receive(connector string, line int, m map[string]any, files []FetchedFile) map[string]any {
	user, message, chat := asMap(m["user"]), asMap(m["message"]), asMap(m["chat"])
	extUser, extChat := asString(user["id"]), asString(chat["id"])
	text := asString(message["text"])
	var fetched []any
	for _, f := range files {
		if f.Err == "" {
			fetched = append(fetched, map[string]any{"name": f.Name, "type": f.ContentType, "size": len(f.Body)})
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	rec := ReceivedMessage{
		Connector: connector, Line: line, User: user, Message: message, Chat: chat, Files: files,
		ExternalID: asString(message["id"]), Time: p.now(),
	}
	element := map[string]any{"message": message, "chat": chat}
	if extUser == "" || extChat == "" || (strings.TrimSpace(text) == "" && len(fetched) == 0) {
		rec.ErrorCode = "IMCONNECTOR_NOT_ALL_THE_REQUIRED_DATA"
		p.state.received = append(p.state.received, rec)
		element["SUCCESS"], element["ERRORS"] = false, []string{elementErrorText}
		return element
	}
	userID := p.externalUserLocked(connector, extUser)
	chatRec := p.chatLocked(connector, line, extChat, userID)
	rec.Success, rec.UserID, rec.ChatID, rec.SessionID = true, userID, chatRec.chatID, chatRec.sessionID
	rec.MessageID = p.state.newID()
	chatRec.messages[rec.ExternalID] = rec.MessageID
	p.state.received = append(p.state.received, rec)

	answerMessage := map[string]any{"id": message["id"], "date": map[string]any{}, "text": text, "files": orEmpty(fetched)}
	answerChat := map[string]any{"id": extChat}
	if name := asString(chat["name"]); name != "" {
		answerChat["name"] = name
	}
	if u := asString(chat["url"]); u != "" {
		answerChat["description"] = "Link to the original post: " + u
	}
	element = map[string]any{
		"user": itoa(userID), "message": answerMessage, "chat": answerChat, "extra": extra(user, message),
		"SUCCESS": true, "session": map[string]any{"ID": itoa(chatRec.sessionID), "CHAT_ID": itoa(chatRec.chatID)},
	}
	return element
}

func orEmpty(list []any) []any {
	if list == nil {
		return []any{}
	}
	return list
}

func extra(user, message map[string]any) map[string]any {
	out := map[string]any{}
	if asString(user["skip_phone_validate"]) == "Y" {
		out["skip_phone_validate"] = "Y"
	}
	if asString(message["disable_crm"]) == "Y" {
		out["disable_tracker"] = "Y"
	}
	return out
}

// externalUserLocked returns the portal user created for the connector's
// external user id (XML_ID "<connector>|<id>").
func (p *Portal) externalUserLocked(connector, extUser string) int {
	key := connector + "|" + extUser
	id, ok := p.state.extUsers[key]
	if !ok {
		id = p.state.newID()
		p.state.extUsers[key] = id
	}
	return id
}

// chatLocked returns the dialog of USER_CODE "<connector>|<line>|<chat.id>|<user>",
// creating its chat and session on first use.
func (p *Portal) chatLocked(connector string, line int, extChat string, userID int) *chatRecord {
	key := fmt.Sprintf("%s|%d|%s|%d", connector, line, extChat, userID)
	c, ok := p.state.chats[key]
	if !ok {
		c = &chatRecord{chatID: p.state.newID(), sessionID: p.state.newID(), userID: userID, messages: map[string]int{}}
		p.state.chats[key] = c
	}
	return c
}

// findChatLocked returns the dialog of an external chat id on a line, for
// any user.
func (p *Portal) findChatLocked(connector string, line int, extChat string) *chatRecord {
	prefix := fmt.Sprintf("%s|%d|%s|", connector, line, extChat)
	for key, c := range p.state.chats {
		if strings.HasPrefix(key, prefix) {
			return c
		}
	}
	return nil
}

func (p *Portal) updateMessages(req *request) (any, *restError) {
	return p.changeMessages(req, false)
}

func (p *Portal) deleteMessages(req *request) (any, *restError) {
	return p.changeMessages(req, true)
}

// changeMessages looks messages up by message.id within their chat, as
// update and delete do on the server.
func (p *Portal) changeMessages(req *request, deleting bool) (any, *restError) {
	connector, line, msgs, rerr := p.messagesParam(req)
	if rerr != nil {
		return nil, rerr
	}
	if rerr := checkStructure(msgs); rerr != nil {
		return nil, rerr
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	results := make([]any, 0, len(msgs))
	for _, m := range msgs {
		user, message, chat := asMap(m["user"]), asMap(m["message"]), asMap(m["chat"])
		change := MessageChange{Connector: connector, Line: line, ExternalID: asString(message["id"]),
			ChatID: asString(chat["id"]), Text: asString(message["text"]), Time: p.now()}
		userID := p.state.extUsers[connector+"|"+asString(user["id"])]
		if c := p.findChatLocked(connector, line, change.ChatID); c != nil {
			_, change.Found = c.messages[change.ExternalID]
		}
		element := map[string]any{"user": itoa(userID), "message": message, "chat": chat, "SUCCESS": change.Found}
		if !change.Found {
			// NOTE: the text of a failed lookup is not documented; only SUCCESS false is certain.
			element["ERRORS"] = []string{"Message not found"}
		}
		if deleting {
			p.state.deletes = append(p.state.deletes, change)
		} else {
			p.state.updates = append(p.state.updates, change)
		}
		results = append(results, element)
	}
	return map[string]any{"SUCCESS": true, "DATA": map[string]any{"RESULT": results}}, nil
}

func (p *Portal) statusDelivery(req *request) (any, *restError) {
	return p.statuses(req, true)
}

func (p *Portal) statusReading(req *request) (any, *restError) {
	return p.statuses(req, false)
}

// statuses records delivery or reading confirmations. For delivery,
// message.id must be an array even for one id, because the server stores it
// as CONNECTOR_MID and later iterates over it.
func (p *Portal) statuses(req *request, delivery bool) (any, *restError) {
	connector, line, msgs, rerr := p.messagesParam(req)
	if rerr != nil {
		return nil, rerr
	}
	updates := make([]StatusUpdate, 0, len(msgs))
	for i, m := range msgs {
		im, message, chat := asMap(m["im"]), asMap(m["message"]), asMap(m["chat"])
		imChat, ok1 := asInt(im["chat_id"])
		imMessage, ok2 := asInt(im["message_id"])
		if !ok1 || !ok2 {
			return nil, argumentError("Element %d: im.chat_id and im.message_id are required", i)
		}
		ids, isList := asList(message["id"])
		if delivery && (!isList || len(ids) == 0) {
			return nil, argumentError("Element %d: message.id must be an array", i)
		}
		u := StatusUpdate{Connector: connector, Line: line, IMChatID: imChat, IMMessageID: imMessage,
			ChatID: asString(chat["id"]), Time: p.now()}
		for _, id := range ids {
			u.ExternalIDs = append(u.ExternalIDs, asString(id))
		}
		if !isList && message["id"] != nil {
			u.ExternalIDs = []string{asString(message["id"])}
		}
		date, _ := asInt(message["date"])
		u.Date = int64(date)
		updates = append(updates, u)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, u := range updates {
		if delivery {
			p.state.delivery = append(p.state.delivery, u)
			p.confirmOutboundLocked(u)
		} else {
			p.state.reading = append(p.state.reading, u)
		}
	}
	return map[string]any{"SUCCESS": true, "DATA": []any{}}, nil
}

// confirmOutboundLocked stores the external ids of a delivered operator
// message (CONNECTOR_MID), which later edit and delete events carry.
func (p *Portal) confirmOutboundLocked(u StatusUpdate) {
	for _, o := range p.state.outbound {
		if o.imMessageID == u.IMMessageID && o.imChatID == u.IMChatID {
			o.externalIDs = append([]string(nil), u.ExternalIDs...)
		}
	}
}
