package portal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// connectorIcon is the ICON block of imconnector.register.
type connectorIcon struct {
	DataImage string `json:"DATA_IMAGE"`
	Color     string `json:"COLOR,omitempty"`
	Size      string `json:"SIZE,omitempty"`
	Position  string `json:"POSITION,omitempty"`
}

// registerParams is the body of imconnector.register. The portal applies
// the flags only when they are JSON booleans (it compares with === true), so
// they are bool fields sent in a JSON body, never form strings.
type registerParams struct {
	ID                   string        `json:"ID"`
	Name                 string        `json:"NAME"`
	Icon                 connectorIcon `json:"ICON"`
	IconDisabled         connectorIcon `json:"ICON_DISABLED"`
	PlacementHandler     string        `json:"PLACEMENT_HANDLER"`
	DelExternalMessages  bool          `json:"DEL_EXTERNAL_MESSAGES"`
	EditInternalMessages bool          `json:"EDIT_INTERNAL_MESSAGES"`
	DelInternalMessages  bool          `json:"DEL_INTERNAL_MESSAGES"`
	Newsletter           bool          `json:"NEWSLETTER"`
	NeedSystemMessages   bool          `json:"NEED_SYSTEM_MESSAGES"`
	NeedSignature        bool          `json:"NEED_SIGNATURE"`
	// ChatGroup stays false: group mode switches off the CRM tracker, and a
	// WhatsApp customer is a 1:1 dialog.
	ChatGroup bool `json:"CHAT_GROUP"`
}

// boundEvent is one row of event.get.
type boundEvent struct {
	Event    string          `json:"event"`
	Handler  string          `json:"handler"`
	AuthType json.RawMessage `json:"auth_type"`
	Offline  json.RawMessage `json:"offline"`
}

// Register registers the connector and binds every event in EventBindings
// to PublicURL+"/events" on a stored portal. Both halves are idempotent:
// imconnector.register with the same ID updates the connector, and only
// missing bindings are added. A binding of ours to another URL (an older
// PUBLIC_URL) is removed and bound again.
func (in *Installer) Register(ctx context.Context, p *Portal) error {
	if err := in.registerConnector(ctx, p.ID); err != nil {
		return &InstallError{Step: StepRegister, Err: fmt.Errorf("%w: %w", ErrRegistrationFailed, err)}
	}
	if err := in.bindEvents(ctx, p.ID); err != nil {
		return &InstallError{Step: StepBind, Err: fmt.Errorf("%w: %w", ErrRegistrationFailed, err)}
	}
	in.opts.Log.InfoContext(ctx, "Connector registered and events bound", "portal_id", p.ID, "member_id", p.MemberID)
	return nil
}

func (in *Installer) registerConnector(ctx context.Context, portalID uint64) error {
	image := svgDataURI(in.opts.IconSVG)
	params := registerParams{
		ID:                   in.opts.ConnectorID,
		Name:                 in.opts.ConnectorName,
		Icon:                 connectorIcon{DataImage: image, Color: in.opts.IconColor, Size: "90%", Position: "center"},
		IconDisabled:         connectorIcon{DataImage: image, Color: "#ebeff2", Size: "90%", Position: "center"},
		PlacementHandler:     in.opts.PublicURL + "/settings",
		DelExternalMessages:  true,
		EditInternalMessages: true,
		DelInternalMessages:  true,
		Newsletter:           true,
		NeedSystemMessages:   true,
		NeedSignature:        true,
		ChatGroup:            false,
	}
	var raw json.RawMessage
	if err := in.client.Call(ctx, portalID, "imconnector.register", params, &raw); err != nil {
		return err
	}
	if err := CheckResultTrue(raw); err != nil {
		return fmt.Errorf("imconnector.register: %w", err)
	}
	return nil
}

// svgDataURI returns the data: URI form imconnector.register expects, with
// the SVG percent-encoded (spaces as %20, not '+').
func svgDataURI(svg []byte) string {
	return "data:image/svg+xml," + strings.ReplaceAll(url.QueryEscape(string(svg)), "+", "%20")
}

func (in *Installer) bindEvents(ctx context.Context, portalID uint64) error {
	var rows []boundEvent
	if err := in.client.Call(ctx, portalID, "event.get", nil, &rows); err != nil {
		return err
	}
	handler := in.opts.PublicURL + "/events"
	for _, name := range EventBindings {
		bound := false
		for _, row := range rows {
			if !strings.EqualFold(row.Event, name) || isOfflineRow(row) {
				continue
			}
			if sameURL(row.Handler, handler) {
				bound = true
				continue
			}
			if err := in.unbind(ctx, portalID, name, row); err != nil {
				return err
			}
		}
		if bound {
			continue
		}
		if err := in.bind(ctx, portalID, name, handler); err != nil {
			return err
		}
	}
	return nil
}

func (in *Installer) unbind(ctx context.Context, portalID uint64, name string, row boundEvent) error {
	params := map[string]any{"event": name, "handler": row.Handler}
	if authType := jsonText(row.AuthType); authType != "" && authType != "0" {
		params["auth_type"] = authType
	}
	if err := in.client.Call(ctx, portalID, "event.unbind", params, nil); err != nil {
		return fmt.Errorf("unbind %s from the old handler %s: %w", name, row.Handler, err)
	}
	in.opts.Log.InfoContext(ctx, "Unbound an event from an old handler URL", "portal_id", portalID,
		"event", name, "handler", row.Handler)
	return nil
}

func (in *Installer) bind(ctx context.Context, portalID uint64, name, handler string) error {
	err := in.client.Call(ctx, portalID, "event.bind", map[string]any{"event": name, "handler": handler}, nil)
	if err != nil && !isAlreadyBound(err) {
		return fmt.Errorf("bind %s: %w", name, err)
	}
	return nil
}

// isAlreadyBound recognises the error of a duplicate event.bind: ERROR_CORE
// with "Handler already binded" in the description.
func isAlreadyBound(err error) bool {
	var apiErr *APIError
	if !errors.As(err, &apiErr) || !strings.EqualFold(apiErr.Code, CodeErrorCore) {
		return false
	}
	return strings.Contains(strings.ToLower(apiErr.Description), "already binded")
}

func isOfflineRow(row boundEvent) bool {
	return flag(jsonText(row.Offline))
}

// sameURL compares handler URLs ignoring the case of scheme and host and a
// trailing slash.
func sameURL(a, b string) bool {
	ua, errA := url.Parse(a)
	ub, errB := url.Parse(b)
	if errA != nil || errB != nil {
		return a == b
	}
	return strings.EqualFold(ua.Scheme, ub.Scheme) && strings.EqualFold(ua.Host, ub.Host) &&
		strings.TrimSuffix(ua.Path, "/") == strings.TrimSuffix(ub.Path, "/") && ua.RawQuery == ub.RawQuery
}
