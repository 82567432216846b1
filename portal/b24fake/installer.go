package b24fake

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

// PlacementForm describes a POST of the portal into the app's iframe: the
// installer, the main page or a placement such as SETTING_CONNECTOR.
type PlacementForm struct {
	// UserID is the user who opened the page (default 1, the administrator);
	// AUTH_ID and REFRESH_ID are fresh tokens of that user.
	UserID int
	// Placement is PLACEMENT (default "DEFAULT").
	Placement string
	// Options is PLACEMENT_OPTIONS, sent as a JSON string (default {}).
	Options map[string]any
	// Lang is LANG (default the portal language).
	Lang string
	// OmitApplicationToken leaves APPLICATION_TOKEN and APPLICATION_SCOPE
	// out, as in older installer POSTs.
	OmitApplicationToken bool
}

// PlacementValues returns the query (DOMAIN, PROTOCOL, LANG, APP_SID) and the
// body (AUTH_ID, AUTH_EXPIRES, REFRESH_ID, SERVER_ENDPOINT, member_id,
// status, PLACEMENT, PLACEMENT_OPTIONS, APPLICATION_TOKEN, APPLICATION_SCOPE)
// of a placement POST. PROTOCOL is 0 for a plain-http fake.
func (p *Portal) PlacementValues(f PlacementForm) (query, body url.Values) {
	if f.UserID == 0 {
		f.UserID = 1
	}
	if f.Placement == "" {
		f.Placement = "DEFAULT"
	}
	if f.Lang == "" {
		f.Lang = p.opts.Lang
	}
	options := f.Options
	if options == nil {
		options = map[string]any{}
	}
	optionsJSON, _ := json.Marshal(options)
	p.mu.Lock()
	admin := p.state.users[f.UserID] != nil && p.state.users[f.UserID].Admin
	status := p.state.appStatus
	p.mu.Unlock()
	access, refresh := p.IssueTokens(f.UserID, admin)

	protocol := "1"
	if strings.HasPrefix(p.URL(), "http://") {
		protocol = "0"
	}
	query = url.Values{"DOMAIN": {p.Domain()}, "PROTOCOL": {protocol}, "LANG": {f.Lang}, "APP_SID": {randomHex(16)}}
	body = url.Values{
		"AUTH_ID": {access}, "AUTH_EXPIRES": {itoa(int(p.opts.TokenTTL.Seconds()))}, "REFRESH_ID": {refresh},
		"SERVER_ENDPOINT": {p.ServerEndpoint()}, "member_id": {p.opts.MemberID}, "status": {status},
		"PLACEMENT": {f.Placement}, "PLACEMENT_OPTIONS": {string(optionsJSON)},
	}
	if !f.OmitApplicationToken {
		body.Set("APPLICATION_TOKEN", p.ApplicationToken())
		body.Set("APPLICATION_SCOPE", "imopenlines,imconnector,im,placement")
	}
	return query, body
}

// NewPlacementRequest builds the POST of f to target (a path or an absolute
// URL of the app), ready for an echo router or an http.Client.
func (p *Portal) NewPlacementRequest(target string, f PlacementForm) *http.Request {
	query, body := p.PlacementValues(f)
	sep := "?"
	if strings.Contains(target, "?") {
		sep = "&"
	}
	req, err := http.NewRequest(http.MethodPost, target+sep+query.Encode(), strings.NewReader(body.Encode()))
	if err != nil {
		panic("b24fake: placement target " + target + ": " + err.Error())
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

// SettingConnectorOptions returns PLACEMENT_OPTIONS of the SETTING_CONNECTOR
// placement for connector on line, with the status flags of the line.
func (p *Portal) SettingConnectorOptions(connector string, line int) map[string]any {
	s, _ := p.LineStatus(connector, line)
	return map[string]any{
		"CONNECTOR": strings.ToLower(connector), "LINE": itoa(line), "STATUS": s.Status(),
		"ACTIVE_STATUS": s.Active, "CONNECTION_STATUS": s.Connection, "REGISTER_STATUS": s.Register,
		"ERROR_STATUS": s.Error,
		"URI":          "/contact_center/connector/?ID=" + strings.ToLower(connector) + "&IFRAME=Y&IFRAME_TYPE=SIDE_SLIDER",
	}
}
