package portal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
)

// Install steps, named in InstallError so that the installer page can show
// which one failed.
const (
	StepRequest  = "request"  // reading the installer POST or event
	StepVerify   = "verify"   // confirming the tokens with app.info
	StepSave     = "save"     // storing the portal
	StepRegister = "register" // imconnector.register
	StepBind     = "bind"     // event.get, event.unbind, event.bind
)

// InstallError is a failed install: the step and its cause.
type InstallError struct {
	Step string
	Err  error
}

// Error returns the step and the cause.
func (e *InstallError) Error() string { return "install: " + e.Step + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *InstallError) Unwrap() error { return e.Err }

// InstallStep returns the step of an InstallError in err's chain, or "".
func InstallStep(err error) string {
	var ie *InstallError
	if errors.As(err, &ie) {
		return ie.Step
	}
	return ""
}

// InstallOptions configure an Installer.
type InstallOptions struct {
	// ConnectorID is the Open Lines connector id (lower case, no dots).
	ConnectorID string
	// ConnectorName is the tile name in Contact Center (default "WhatsApp").
	ConnectorName string
	// PublicURL is the app's base URL without a trailing slash; the settings
	// page is PublicURL+"/settings" and the event handler PublicURL+"/events".
	PublicURL string
	// IconSVG is the connector icon as SVG source.
	IconSVG []byte
	// IconColor is the tile background of an active connector (default "#25d366").
	IconColor string
	// AppCode, when set, must equal the CODE that app.info returns, so that
	// tokens of another app on the same portal are rejected.
	AppCode string
	// OAuthHosts are the OAuth server hosts a request's server_endpoint may
	// name (default DefaultOAuthHosts).
	OAuthHosts []string
	// AllowInsecureHTTP accepts portals and OAuth servers on loopback
	// addresses over http.
	AllowInsecureHTTP bool
	// Timeout bounds one whole install, ONAPPINSTALL or ONAPPUPDATE,
	// retries included (default DefaultInstallTimeout).
	Timeout time.Duration
	Log     *slog.Logger
	Now     func() time.Time
}

// DefaultInstallTimeout is the default InstallOptions.Timeout. It stays well
// under the 120 s write timeout of the app's HTTP server, so the installer
// page always gets its error page. Without it, a REST request that times out
// after 30 s and is retried would run past that limit.
const DefaultInstallTimeout = 60 * time.Second

func (o InstallOptions) withDefaults() InstallOptions {
	if o.ConnectorName == "" {
		o.ConnectorName = "WhatsApp"
	}
	if o.OAuthHosts == nil {
		o.OAuthHosts = DefaultOAuthHosts()
	}
	if o.IconColor == "" {
		o.IconColor = "#25d366"
	}
	o.PublicURL = strings.TrimRight(o.PublicURL, "/")
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultInstallTimeout
	}
	return o
}

// Installer creates or updates a portal from an installer POST or an
// ONAPPINSTALL event, after proving the tokens with app.info, and then
// registers the connector and binds the events.
type Installer struct {
	store  *Store
	client *Client
	opts   InstallOptions
}

// NewInstaller returns an Installer that stores portals in store and calls
// them through client.
func NewInstaller(store *Store, client *Client, opts InstallOptions) *Installer {
	return &Installer{store: store, client: client, opts: opts.withDefaults()}
}

// ConnectorID returns the connector id the installer registers.
func (in *Installer) ConnectorID() string { return in.opts.ConnectorID }

// InstallRequest is the installer POST of the app card: DOMAIN, PROTOCOL,
// LANG and APP_SID come in the query string, the rest in the form body.
type InstallRequest struct {
	Domain           string
	Protocol         string // "1" https, "0" http
	Lang             string
	AppSID           string
	AuthID           string // access token of the installing administrator
	AuthExpires      int64  // seconds
	RefreshID        string
	ServerEndpoint   string
	MemberID         string
	Status           string // informational; app.info is the trusted source
	Placement        string
	PlacementOptions string // JSON text
	ApplicationToken string // absent in older installer POSTs
	ApplicationScope string
}

// InstallFromPage handles the installer POST. Nothing is stored unless
// app.info accepts AUTH_ID at the portal's endpoint: the stored one for a
// known member_id, otherwise https://<DOMAIN>/rest/. A member_id that is not
// stored yet must also be proven by exchanging REFRESH_ID at the OAuth
// server (see proveMember), and the rotated pair is stored. It returns the
// portal once the connector is registered and every event is bound, which
// is when the page may call BX24.installFinish. The whole install is bounded
// by InstallOptions.Timeout.
func (in *Installer) InstallFromPage(ctx context.Context, req InstallRequest) (*Portal, error) {
	ctx, cancel := context.WithTimeout(ctx, in.opts.Timeout)
	defer cancel()
	p, err := in.installFromPage(ctx, req)
	if err != nil {
		return nil, in.deadlineError(ctx, err)
	}
	return p, nil
}

func (in *Installer) installFromPage(ctx context.Context, req InstallRequest) (*Portal, error) {
	if err := req.validate(); err != nil {
		return nil, &InstallError{Step: StepRequest, Err: err}
	}
	known, err := in.knownPortal(ctx, req.MemberID)
	if err != nil {
		return nil, &InstallError{Step: StepSave, Err: err}
	}
	endpoint, domain, err := in.endpointFor(known, req.Domain, req.Protocol)
	if err != nil {
		return nil, &InstallError{Step: StepRequest, Err: err}
	}
	info, err := in.verifyTokens(ctx, endpoint, req.AuthID, false)
	if err != nil {
		return nil, &InstallError{Step: StepVerify, Err: err}
	}

	server := in.installServerEndpoint(req.ServerEndpoint, known)
	tokens := TokenSet{AccessToken: req.AuthID, RefreshToken: req.RefreshID, ExpiresAt: in.expiresAt(0, req.AuthExpires)}
	if needsMemberProof(known) {
		claim := memberClaim{MemberID: req.MemberID, Domain: domain, ServerEndpoint: server,
			RefreshToken: req.RefreshID, RefreshField: "REFRESH_ID"}
		if tokens, err = in.proveMember(ctx, claim); err != nil {
			return nil, &InstallError{Step: proofStep(err), Err: err}
		}
	}

	p, err := in.store.Upsert(ctx, Install{
		MemberID:         req.MemberID,
		Domain:           domain,
		ClientEndpoint:   endpoint,
		ServerEndpoint:   in.serverEndpoint(req.ServerEndpoint),
		AccessToken:      tokens.AccessToken,
		RefreshToken:     tokens.RefreshToken,
		ExpiresAt:        tokens.ExpiresAt,
		ApplicationToken: req.ApplicationToken,
		Scope:            req.ApplicationScope,
		Lang:             normalizeLang(req.Lang),
	})
	if err != nil {
		return nil, &InstallError{Step: StepSave, Err: err}
	}
	if err := in.recordLicence(ctx, p, info); err != nil {
		return nil, &InstallError{Step: StepSave, Err: err}
	}
	in.opts.Log.InfoContext(ctx, "Portal installed from the installer page", "portal_id", p.ID,
		"member_id", p.MemberID, "domain", p.Domain, "application_token_sent", req.ApplicationToken != "")

	if err := in.Register(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
}

func (r InstallRequest) validate() error {
	var missing []string
	if strings.TrimSpace(r.Domain) == "" {
		missing = append(missing, "DOMAIN")
	}
	if r.AuthID == "" {
		missing = append(missing, "AUTH_ID")
	}
	if r.MemberID == "" {
		missing = append(missing, "member_id")
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s", ErrInstallMissingField, strings.Join(missing, ", "))
	}
	if !validMemberID(r.MemberID) {
		return fmt.Errorf("%w: member_id %q", ErrInstallMissingField, r.MemberID)
	}
	return nil
}

// validMemberID accepts the 32 hex digits Bitrix24 uses, and up to 64 letters,
// digits, '.', '_' and '-' to stay within the column.
func validMemberID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// expiresAt turns an absolute expiry (Unix seconds) or a lifetime in seconds
// into a time; zero when neither is known.
func (in *Installer) expiresAt(unix, seconds int64) time.Time {
	if unix > 0 {
		return time.Unix(unix, 0).UTC()
	}
	if seconds > 0 {
		return in.opts.Now().Add(time.Duration(seconds) * time.Second).UTC()
	}
	return time.Time{}
}

// normalizeLang keeps a short lower-case language code such as "en" or "ru".
func normalizeLang(raw string) string {
	lang := strings.ToLower(strings.TrimSpace(raw))
	if len(lang) < 2 || len(lang) > 8 {
		return ""
	}
	for _, r := range lang {
		if r < 'a' || r > 'z' {
			return ""
		}
	}
	return lang
}
