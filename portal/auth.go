package portal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/wabridge/b24wa/internal/secrets"
)

// FrameTokenPurpose is the purpose string of iframe tokens, so that a token
// issued for another purpose (a scan link, say) is not accepted here.
const FrameTokenPurpose = "frame"

// DefaultFrameTokenTTL is how long an iframe token is valid. Bitrix24 gives
// the page a user token for 3600 seconds, and the token lives as long.
const DefaultFrameTokenTTL = time.Hour

// FrameUser is a Bitrix24 user proven by a placement POST. Pages carry it
// as a signed token because third-party cookies are blocked in iframes.
// The claims are readable by the browser and contain no secret.
type FrameUser struct {
	PortalID uint64 `json:"pid"`
	MemberID string `json:"mid"`
	UserID   int64  `json:"uid"`
	// Admin is true for portal administrators, who may change settings;
	// other users get a read-only view.
	Admin bool `json:"adm"`
	// Line is the open line id of a SETTING_CONNECTOR placement, else "".
	Line string `json:"line,omitempty"`
	// Lang is the user's interface language (LANG), e.g. "en" or "ru".
	Lang string `json:"lang"`
	// Origin is the portal's https origin, for CSP frame-ancestors.
	Origin string `json:"org"`
	// ExpiresAt is when the token stops being accepted, in Unix seconds.
	ExpiresAt int64 `json:"exp"`
	// Token is the signed token itself; it is not part of the claims.
	Token string `json:"-"`
}

// AuthOptions configure an Authenticator.
type AuthOptions struct {
	// ConnectorID is ours; a SETTING_CONNECTOR placement for another
	// connector is rejected.
	ConnectorID string
	// TokenTTL is the lifetime of issued tokens (default DefaultFrameTokenTTL).
	TokenTTL time.Duration
	Now      func() time.Time
	Log      *slog.Logger
}

// Authenticator proves the user behind a placement POST and issues and
// checks the short-lived tokens of iframe pages.
type Authenticator struct {
	store  *Store
	client *Client
	box    *secrets.Box
	opts   AuthOptions
}

// NewAuthenticator returns an Authenticator that signs tokens with box.
func NewAuthenticator(store *Store, client *Client, box *secrets.Box, opts AuthOptions) *Authenticator {
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = DefaultFrameTokenTTL
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Authenticator{store: store, client: client, box: box, opts: opts}
}

// AuthenticatePlacement verifies a placement POST and issues a token. The
// portal must be installed under member_id, APPLICATION_TOKEN (when sent)
// must equal the stored one, and user.current must accept AUTH_ID at the
// portal's stored endpoint, never at an address taken from the request.
// user.admin decides FrameUser.Admin.
func (a *Authenticator) AuthenticatePlacement(ctx context.Context, req PlacementRequest) (*FrameUser, error) {
	if req.MemberID == "" || req.AuthID == "" {
		return nil, fmt.Errorf("%w: member_id and AUTH_ID are required", ErrMalformedPlacement)
	}
	p, err := a.installedPortal(ctx, req.MemberID)
	if err != nil {
		return nil, err
	}
	if req.ApplicationToken != "" {
		if err := checkApplicationToken(a.store, p, req.ApplicationToken); err != nil && !errors.Is(err, ErrEventUnverified) {
			return nil, fmt.Errorf("placement of portal %s: %w", p.MemberID, err)
		}
	}
	line, err := a.placementLine(req)
	if err != nil {
		return nil, err
	}

	userID, admin, err := a.proveUser(ctx, p, req.AuthID)
	if err != nil {
		return nil, err
	}
	if admin {
		a.adoptTokens(ctx, p, req)
	}

	lang := normalizeLang(req.Lang)
	if lang == "" {
		lang = p.Lang
	}
	user := &FrameUser{PortalID: p.ID, MemberID: p.MemberID, UserID: userID, Admin: admin,
		Line: line, Lang: lang, Origin: p.Origin(), ExpiresAt: a.opts.Now().Add(a.opts.TokenTTL).Unix()}
	token, err := a.box.IssueToken(FrameTokenPurpose, user, time.Unix(user.ExpiresAt, 0))
	if err != nil {
		return nil, err
	}
	user.Token = token
	return user, nil
}

func (a *Authenticator) installedPortal(ctx context.Context, memberID string) (*Portal, error) {
	p, err := a.store.ByMemberID(ctx, memberID)
	if errors.Is(err, ErrPortalNotFound) {
		return nil, fmt.Errorf("%w: member_id %q", ErrFramePortalUnknown, memberID)
	}
	if err != nil {
		return nil, err
	}
	if p.State == StateUninstalled {
		return nil, fmt.Errorf("%w: portal %s uninstalled the app", ErrFramePortalUnknown, memberID)
	}
	return p, nil
}

// placementLine returns the line of a SETTING_CONNECTOR placement.
func (a *Authenticator) placementLine(req PlacementRequest) (string, error) {
	if req.Placement != PlacementSettingConnector {
		return "", nil
	}
	opts := req.Options
	if opts.Connector != "" && !strings.EqualFold(opts.Connector, a.opts.ConnectorID) {
		return "", fmt.Errorf("%w: PLACEMENT_OPTIONS names connector %q, not %q",
			ErrMalformedPlacement, opts.Connector, a.opts.ConnectorID)
	}
	return opts.Line, nil
}

// proveUser calls user.current and user.admin with the request's token at
// the stored endpoint.
func (a *Authenticator) proveUser(ctx context.Context, p *Portal, authID string) (int64, bool, error) {
	var current map[string]json.RawMessage
	if err := a.client.CallAs(ctx, p.ClientEndpoint, authID, "user.current", nil, &current); err != nil {
		return 0, false, fmt.Errorf("%w: user.current: %w", ErrFrameUserNotVerified, err)
	}
	userID := parseInt(jsonText(current["ID"]))
	if userID <= 0 {
		return 0, false, fmt.Errorf("%w: user.current returned no user ID", ErrFrameUserNotVerified)
	}
	var admin json.RawMessage
	if err := a.client.CallAs(ctx, p.ClientEndpoint, authID, "user.admin", nil, &admin); err != nil {
		return 0, false, fmt.Errorf("%w: user.admin: %w", ErrFrameUserNotVerified, err)
	}
	return userID, flag(jsonText(admin)), nil
}

// adoptTokens stores an administrator's tokens when the portal has none or
// its refresh token was refused, because an administrator opening the app
// is the documented way to recover from invalid_grant.
func (a *Authenticator) adoptTokens(ctx context.Context, p *Portal, req PlacementRequest) {
	needs := len(p.AccessToken) == 0 ||
		(p.State == StateAttention && slices.Contains(refreshReasons, p.AttentionReason))
	if !needs || req.RefreshID == "" {
		return
	}
	tokens := TokenSet{AccessToken: req.AuthID, RefreshToken: req.RefreshID}
	if req.AuthExpires > 0 {
		tokens.ExpiresAt = a.opts.Now().Add(time.Duration(req.AuthExpires) * time.Second)
	}
	if err := a.store.SaveTokens(ctx, p, tokens); err != nil {
		a.opts.Log.ErrorContext(ctx, "Storing an administrator's tokens failed", "portal_id", p.ID, "error", err)
		return
	}
	a.opts.Log.InfoContext(ctx, "Stored new tokens from an administrator's placement", "portal_id", p.ID,
		"member_id", p.MemberID)
}

// ParseFrameToken checks a token issued by AuthenticatePlacement. It returns
// ErrFrameTokenExpired for an expired token and ErrFrameTokenInvalid for
// anything else that is wrong with it.
func (a *Authenticator) ParseFrameToken(token string) (*FrameUser, error) {
	if token == "" {
		return nil, fmt.Errorf("%w: no token was sent", ErrFrameTokenInvalid)
	}
	var user FrameUser
	err := a.box.ParseToken(token, FrameTokenPurpose, a.opts.Now(), &user)
	switch {
	case errors.Is(err, secrets.ErrTokenExpired):
		return nil, fmt.Errorf("%w: %w", ErrFrameTokenExpired, err)
	case err != nil:
		return nil, fmt.Errorf("%w: %w", ErrFrameTokenInvalid, err)
	case user.PortalID == 0 || user.UserID == 0:
		return nil, fmt.Errorf("%w: claims lack the portal or the user", ErrFrameTokenInvalid)
	}
	user.Token = token
	return &user, nil
}

// CheckFramePortal returns ErrFrameTokenInvalid when the portal of a parsed
// token has no row or uninstalled the app since the token was issued, so
// its tokens stop working at once rather than when they expire.
func (a *Authenticator) CheckFramePortal(ctx context.Context, user *FrameUser) error {
	p, err := a.store.ByID(ctx, user.PortalID)
	if errors.Is(err, ErrPortalNotFound) {
		return fmt.Errorf("%w: portal %d has no row", ErrFrameTokenInvalid, user.PortalID)
	}
	if err != nil {
		return err
	}
	if p.State == StateUninstalled || p.UninstalledAt != nil {
		return fmt.Errorf("%w: portal %s uninstalled the app", ErrFrameTokenInvalid, p.MemberID)
	}
	if p.MemberID != user.MemberID {
		return fmt.Errorf("%w: portal %d is no longer member_id %q", ErrFrameTokenInvalid, p.ID, user.MemberID)
	}
	return nil
}
