package portal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// AppInfo is the result of app.info: the app's status on one portal.
type AppInfo struct {
	ID             string
	Code           string
	Version        string
	Status         string // F, D, T, P, L or S
	Installed      bool   // false until the installer page calls BX24.installFinish
	PaymentExpired bool
	Days           *int // days of licence left, negative after expiry; nil for free apps
	LanguageID     string
	License        string
}

// knownPortal returns the stored portal of memberID, or nil when there is
// none.
func (in *Installer) knownPortal(ctx context.Context, memberID string) (*Portal, error) {
	p, err := in.store.ByMemberID(ctx, memberID)
	if errors.Is(err, ErrPortalNotFound) {
		return nil, nil
	}
	return p, err
}

// endpointFor returns the client endpoint and domain to verify an install
// against. A known portal keeps the endpoint stored at its first install, so
// a later request cannot point its member_id at another address; a new one
// gets https://<domain>/rest/ (http only for loopback hosts when insecure
// http is allowed), validated before any request is sent.
func (in *Installer) endpointFor(known *Portal, domain, protocol string) (string, string, error) {
	if known != nil && known.ClientEndpoint != "" {
		return known.ClientEndpoint, known.Domain, nil
	}
	return in.buildEndpoint(domain, protocol)
}

// buildEndpoint turns a DOMAIN value (host or host:port, never a URL) into
// the portal's client endpoint.
func (in *Installer) buildEndpoint(domain, protocol string) (string, string, error) {
	host := strings.ToLower(strings.TrimSpace(domain))
	if !validHost(host) {
		return "", "", fmt.Errorf("%w: DOMAIN %q is not a host name", ErrInvalidEndpoint, domain)
	}
	scheme := "https"
	if protocol == "0" && in.opts.AllowInsecureHTTP {
		scheme = "http"
	}
	u, err := ValidateEndpoint(scheme+"://"+host+"/rest/", in.opts.AllowInsecureHTTP)
	if err != nil {
		return "", "", err
	}
	return u.String(), host, nil
}

// validHost reports whether s is a bare host with an optional port: no
// scheme, user, path, query or fragment.
func validHost(s string) bool {
	if s == "" || len(s) > 253 || strings.ContainsAny(s, "/\\@?#% \t\r\n") {
		return false
	}
	u, err := url.Parse("https://" + s + "/")
	return err == nil && u.Host == s && u.Hostname() != "" && u.Path == "/"
}

// verifyTokens calls app.info at endpoint with accessToken. A token that the
// portal accepts proves that the request came from someone holding it for
// this app on this portal. requireInstalled also demands INSTALLED=true,
// which holds for events but not yet on the installer page.
func (in *Installer) verifyTokens(ctx context.Context, endpoint, accessToken string, requireInstalled bool) (*AppInfo, error) {
	if accessToken == "" {
		return nil, fmt.Errorf("%w: no access token to check", ErrTokensNotVerified)
	}
	var raw json.RawMessage
	if err := in.client.CallAs(ctx, endpoint, accessToken, "app.info", nil, &raw); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTokensNotVerified, err)
	}
	info, err := decodeAppInfo(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTokensNotVerified, err)
	}
	if in.opts.AppCode != "" && !strings.EqualFold(info.Code, in.opts.AppCode) {
		return nil, fmt.Errorf("%w: app.info returned app code %q, expected %q", ErrTokensNotVerified, info.Code, in.opts.AppCode)
	}
	if requireInstalled && !info.Installed {
		return nil, fmt.Errorf("%w: app.info reports the app as not installed", ErrTokensNotVerified)
	}
	return info, nil
}

// RefreshLicence reads app.info with the portal's stored tokens and stores
// the licence it reports.
func (in *Installer) RefreshLicence(ctx context.Context, p *Portal) (*AppInfo, error) {
	var raw json.RawMessage
	if err := in.client.Call(ctx, p.ID, "app.info", nil, &raw); err != nil {
		return nil, err
	}
	info, err := decodeAppInfo(raw)
	if err != nil {
		return nil, err
	}
	if err := in.recordLicence(ctx, p, info); err != nil {
		return nil, err
	}
	return info, nil
}

func (in *Installer) recordLicence(ctx context.Context, p *Portal, info *AppInfo) error {
	return in.store.SetLicence(ctx, p.ID, info.Status, info.PaymentExpired, info.Days)
}

// DefaultOAuthHosts returns the OAuth servers of Bitrix24 cloud portals
// that a server_endpoint from a request may name. oauth.bitrix24.tech
// appears in the English REST documentation's event examples.
func DefaultOAuthHosts() []string {
	return []string{"oauth.bitrix.info", "oauth.bitrix24.tech"}
}

// serverEndpoint returns the OAuth server address from a request, or "" so
// that the stored or default one is kept. The client sends the app's
// client_secret to this address when it refreshes tokens. The sender of an
// installer POST controls its body, so only hosts in OAuthHosts are accepted,
// plus loopback hosts when insecure http is allowed.
func (in *Installer) serverEndpoint(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || !in.trustedOAuthHost(u.Hostname()) {
		in.opts.Log.Warn("Ignoring a server endpoint that is not a known OAuth server", "server_endpoint", raw)
		return ""
	}
	u, err = ValidateEndpoint(raw, in.opts.AllowInsecureHTTP)
	if err != nil {
		in.opts.Log.Warn("Ignoring the server endpoint of an install request", "error", err)
		return ""
	}
	return u.String()
}

func (in *Installer) trustedOAuthHost(host string) bool {
	host = strings.ToLower(host)
	for _, h := range in.opts.OAuthHosts {
		if strings.EqualFold(h, host) {
			return true
		}
	}
	if !in.opts.AllowInsecureHTTP {
		return false
	}
	addr, err := netip.ParseAddr(host)
	return host == "localhost" || (err == nil && addr.IsLoopback())
}

// decodeAppInfo reads app.info leniently: IDs and versions come as numbers
// or strings, INSTALLED as a JSON boolean or 0/1, DAYS as null or a number.
func decodeAppInfo(raw json.RawMessage) (*AppInfo, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, fmt.Errorf("decode app.info result %.200s: %w", raw, err)
	}
	info := &AppInfo{
		ID:             jsonText(fields["ID"]),
		Code:           jsonText(fields["CODE"]),
		Version:        jsonText(fields["VERSION"]),
		Status:         jsonText(fields["STATUS"]),
		Installed:      flag(jsonText(fields["INSTALLED"])),
		PaymentExpired: flag(jsonText(fields["PAYMENT_EXPIRED"])),
		LanguageID:     jsonText(fields["LANGUAGE_ID"]),
		License:        jsonText(fields["LICENSE"]),
	}
	if days := jsonText(fields["DAYS"]); days != "" {
		n, err := strconv.Atoi(days)
		if err == nil {
			info.Days = &n
		}
	}
	return info, nil
}

// jsonText returns a JSON scalar as text: strings unquoted, numbers as
// written, true as "1", false and null as "".
func jsonText(raw json.RawMessage) string {
	s := strings.TrimSpace(string(raw))
	switch s {
	case "", "null", "false":
		return ""
	case "true":
		return "1"
	}
	if strings.HasPrefix(s, `"`) {
		var text string
		if err := json.Unmarshal(raw, &text); err == nil {
			return text
		}
		return ""
	}
	return s
}
