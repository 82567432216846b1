package portal

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// Placements the app is opened in.
const (
	PlacementDefault          = "DEFAULT"           // the app's main page
	PlacementSettingConnector = "SETTING_CONNECTOR" // connector settings in Contact Center
)

// PlacementRequest is the POST Bitrix24 sends when it opens the app page or
// a placement in an iframe. DOMAIN, PROTOCOL, LANG and APP_SID are usually in
// the query string, the rest in the body; either place is accepted.
type PlacementRequest struct {
	Domain           string
	Protocol         string
	Lang             string
	AppSID           string
	AuthID           string // access token of the user who opened the page
	AuthExpires      int64  // seconds
	RefreshID        string
	ServerEndpoint   string
	MemberID         string
	Status           string
	ApplicationToken string
	ApplicationScope string
	Placement        string // DEFAULT or a placement code such as SETTING_CONNECTOR
	Options          PlacementOptions
	RawOptions       string // PLACEMENT_OPTIONS as sent
}

// PlacementOptions is PLACEMENT_OPTIONS, a JSON object sent as a string.
// SETTING_CONNECTOR sends the connector, the line and its status flags.
type PlacementOptions struct {
	Connector        string // lower case
	Line             string
	ActiveStatus     bool
	Status           bool
	ConnectionStatus bool
	RegisterStatus   bool
	ErrorStatus      bool
	URI              string
	// Raw holds every option as text, including ones not listed above.
	Raw map[string]string
}

// ParsePlacementRequest reads a placement or installer POST from its query
// string and parsed form body. It returns ErrMalformedPlacement when
// PLACEMENT_OPTIONS is not a JSON object. The caller checks required fields.
func ParsePlacementRequest(query url.Values, form *Node) (PlacementRequest, error) {
	get := func(name string) string {
		if v := form.Value(name); v != "" {
			return v
		}
		return query.Get(name)
	}
	req := PlacementRequest{
		Domain:           get("DOMAIN"),
		Protocol:         get("PROTOCOL"),
		Lang:             get("LANG"),
		AppSID:           get("APP_SID"),
		AuthID:           get("AUTH_ID"),
		AuthExpires:      parseInt(get("AUTH_EXPIRES")),
		RefreshID:        get("REFRESH_ID"),
		ServerEndpoint:   get("SERVER_ENDPOINT"),
		MemberID:         get("member_id"),
		Status:           get("status"),
		ApplicationToken: get("APPLICATION_TOKEN"),
		ApplicationScope: get("APPLICATION_SCOPE"),
		Placement:        strings.ToUpper(get("PLACEMENT")),
		RawOptions:       get("PLACEMENT_OPTIONS"),
	}
	opts, err := parsePlacementOptions(req.RawOptions)
	if err != nil {
		return req, err
	}
	req.Options = opts
	return req, nil
}

// InstallRequest returns the fields of an installer POST.
func (r PlacementRequest) InstallRequest() InstallRequest {
	return InstallRequest{
		Domain: r.Domain, Protocol: r.Protocol, Lang: r.Lang, AppSID: r.AppSID,
		AuthID: r.AuthID, AuthExpires: r.AuthExpires, RefreshID: r.RefreshID,
		ServerEndpoint: r.ServerEndpoint, MemberID: r.MemberID, Status: r.Status,
		Placement: r.Placement, PlacementOptions: r.RawOptions,
		ApplicationToken: r.ApplicationToken, ApplicationScope: r.ApplicationScope,
	}
}

func parsePlacementOptions(raw string) (PlacementOptions, error) {
	opts := PlacementOptions{Raw: map[string]string{}}
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return opts, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &fields); err != nil {
		return opts, fmt.Errorf("%w: PLACEMENT_OPTIONS is not a JSON object: %v", ErrMalformedPlacement, err)
	}
	for k, v := range fields {
		opts.Raw[k] = jsonText(v)
	}
	opts.Connector = strings.ToLower(opts.Raw["CONNECTOR"])
	opts.Line = strings.TrimSpace(opts.Raw["LINE"])
	opts.ActiveStatus = flag(opts.Raw["ACTIVE_STATUS"])
	opts.Status = flag(opts.Raw["STATUS"])
	opts.ConnectionStatus = flag(opts.Raw["CONNECTION_STATUS"])
	opts.RegisterStatus = flag(opts.Raw["REGISTER_STATUS"])
	opts.ErrorStatus = flag(opts.Raw["ERROR_STATUS"])
	opts.URI = opts.Raw["URI"]
	return opts, nil
}
