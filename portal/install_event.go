package portal

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// InstallFromEvent handles ONAPPINSTALL. For a portal with a stored
// application_token the event must carry the same token. A portal that is
// new, has no token yet or uninstalled the app is accepted only when app.info
// accepts the event's access token at the portal's endpoint and reports the
// app as installed; for a new portal that endpoint is https://<domain>/rest/
// and auth[client_endpoint] must name the same address. A new member_id
// must also be proven by exchanging auth[refresh_token] at the OAuth server
// (see proveMember), and the rotated pair is stored. The whole install is
// bounded by InstallOptions.Timeout.
func (in *Installer) InstallFromEvent(ctx context.Context, ev *Event) (*Portal, error) {
	ctx, cancel := context.WithTimeout(ctx, in.opts.Timeout)
	defer cancel()
	p, err := in.installFromEvent(ctx, ev)
	if err != nil {
		return nil, in.deadlineError(ctx, err)
	}
	return p, nil
}

func (in *Installer) installFromEvent(ctx context.Context, ev *Event) (*Portal, error) {
	auth := ev.Auth
	if !validMemberID(auth.MemberID) {
		return nil, fmt.Errorf("%w: ONAPPINSTALL has no valid auth[member_id]", ErrEventUnverified)
	}
	if auth.ApplicationToken == "" {
		return nil, fmt.Errorf("%w: ONAPPINSTALL has no auth[application_token]", ErrEventUnverified)
	}
	known, err := in.knownPortal(ctx, auth.MemberID)
	if err != nil {
		return nil, err
	}

	verified, err := in.verifyByToken(known, auth.ApplicationToken)
	if err != nil {
		return nil, err
	}
	endpoint, domain, err := in.eventEndpoint(known, auth)
	if err != nil {
		return nil, err
	}
	var info *AppInfo
	if !verified {
		if info, err = in.verifyTokens(ctx, endpoint, auth.AccessToken, true); err != nil {
			return nil, err
		}
	}
	tokens := TokenSet{AccessToken: auth.AccessToken, RefreshToken: auth.RefreshToken,
		ExpiresAt: in.expiresAt(auth.Expires, auth.ExpiresIn)}
	if needsMemberProof(known) {
		claim := memberClaim{MemberID: auth.MemberID, Domain: domain, RefreshToken: auth.RefreshToken,
			ServerEndpoint: in.installServerEndpoint(auth.ServerEndpoint, known), RefreshField: "auth[refresh_token]"}
		if tokens, err = in.proveMember(ctx, claim); err != nil {
			return nil, err
		}
	}

	p, err := in.store.Upsert(ctx, Install{
		MemberID:         auth.MemberID,
		Domain:           domain,
		ClientEndpoint:   endpoint,
		ServerEndpoint:   in.serverEndpoint(auth.ServerEndpoint),
		AccessToken:      tokens.AccessToken,
		RefreshToken:     tokens.RefreshToken,
		ExpiresAt:        tokens.ExpiresAt,
		ApplicationToken: auth.ApplicationToken,
		Scope:            auth.Scope,
		Lang:             normalizeLang(ev.Data.Value("LANGUAGE_ID")),
		InstallerUserID:  auth.UserID,
	})
	if err != nil {
		return nil, err
	}
	if info != nil {
		if err := in.recordLicence(ctx, p, info); err != nil {
			return nil, err
		}
	}
	in.opts.Log.InfoContext(ctx, "Portal installed from ONAPPINSTALL", "portal_id", p.ID,
		"member_id", p.MemberID, "domain", p.Domain, "verified_by", verifiedBy(verified))
	return p, in.Register(ctx, p)
}

// verifyByToken checks the event's application token against an installed
// portal's stored one. It returns false, nil when there is nothing to
// compare with, so the caller falls back to app.info.
func (in *Installer) verifyByToken(known *Portal, got string) (bool, error) {
	if known == nil || known.State == StateUninstalled {
		return false, nil
	}
	want, err := in.store.ApplicationToken(known)
	if err != nil || want == "" {
		return false, err
	}
	if err := checkApplicationToken(in.store, known, got); err != nil {
		return false, fmt.Errorf("ONAPPINSTALL of portal %s: %w", known.MemberID, err)
	}
	return true, nil
}

// eventEndpoint returns the endpoint an event's portal is reached at: the
// stored one when known, else the one built from auth[domain], which
// auth[client_endpoint] must agree with.
func (in *Installer) eventEndpoint(known *Portal, auth EventAuth) (string, string, error) {
	if known != nil && known.ClientEndpoint != "" {
		return known.ClientEndpoint, known.Domain, nil
	}
	protocol := "1"
	if strings.HasPrefix(strings.ToLower(auth.ClientEndpoint), "http://") {
		protocol = "0"
	}
	endpoint, domain, err := in.buildEndpoint(auth.Domain, protocol)
	if err != nil {
		return "", "", fmt.Errorf("%w: %w", ErrTokensNotVerified, err)
	}
	if auth.ClientEndpoint != "" && !sameURL(auth.ClientEndpoint, endpoint) {
		return "", "", fmt.Errorf("%w: auth[client_endpoint] %q does not belong to auth[domain] %q",
			ErrTokensNotVerified, auth.ClientEndpoint, auth.Domain)
	}
	return endpoint, domain, nil
}

func verifiedBy(token bool) string {
	if token {
		return "application_token"
	}
	return "app.info"
}

// UpdateFromEvent handles ONAPPUPDATE, which brings a new application_token
// and fresh tokens. An unchanged token is verified by comparison; a rotated
// one only when app.info at the stored endpoint accepts the event's access
// token. The new token is then stored and the registration is run again,
// because an update removes the app's event bindings. Like an install, it is
// bounded by InstallOptions.Timeout.
func (in *Installer) UpdateFromEvent(ctx context.Context, ev *Event) error {
	ctx, cancel := context.WithTimeout(ctx, in.opts.Timeout)
	defer cancel()
	if err := in.updateFromEvent(ctx, ev); err != nil {
		return in.deadlineError(ctx, err)
	}
	return nil
}

func (in *Installer) updateFromEvent(ctx context.Context, ev *Event) error {
	auth := ev.Auth
	p, err := installedPortal(ctx, in.store, ev)
	if err != nil {
		return err
	}
	if auth.ApplicationToken == "" {
		return fmt.Errorf("%w: ONAPPUPDATE has no auth[application_token]", ErrEventUnverified)
	}
	if err := checkApplicationToken(in.store, p, auth.ApplicationToken); err != nil {
		if !errors.Is(err, ErrApplicationTokenMismatch) && !errors.Is(err, ErrEventUnverified) {
			return err
		}
		if _, verr := in.verifyTokens(ctx, p.ClientEndpoint, auth.AccessToken, true); verr != nil {
			return fmt.Errorf("ONAPPUPDATE of portal %s: %w, and %w", p.MemberID, err, verr)
		}
	}

	if err := in.store.SetApplicationToken(ctx, p, auth.ApplicationToken); err != nil {
		return err
	}
	if auth.AccessToken != "" && auth.RefreshToken != "" {
		tokens := TokenSet{AccessToken: auth.AccessToken, RefreshToken: auth.RefreshToken,
			ExpiresAt: in.expiresAt(auth.Expires, auth.ExpiresIn)}
		if err := in.store.SaveTokens(ctx, p, tokens); err != nil {
			return err
		}
	}
	in.opts.Log.InfoContext(ctx, "App updated on a portal", "portal_id", p.ID, "member_id", p.MemberID,
		"version", ev.Data.Value("VERSION"), "previous_version", ev.Data.Value("PREVIOUS_VERSION"))
	return in.Register(ctx, p)
}

// installedPortal returns the portal of auth[member_id] unless it is unknown
// or uninstalled the app.
func installedPortal(ctx context.Context, store *Store, ev *Event) (*Portal, error) {
	if ev.Auth.MemberID == "" {
		return nil, fmt.Errorf("%w: %s has no auth[member_id]", ErrEventUnverified, ev.Name)
	}
	p, err := store.ByMemberID(ctx, ev.Auth.MemberID)
	if errors.Is(err, ErrPortalNotFound) {
		return nil, fmt.Errorf("%w: %s for unknown member_id %q", ErrEventUnknownPortal, ev.Name, ev.Auth.MemberID)
	}
	if err != nil {
		return nil, err
	}
	if p.State == StateUninstalled {
		return nil, fmt.Errorf("%w: portal %s uninstalled the app", ErrEventUnverified, p.MemberID)
	}
	return p, nil
}
