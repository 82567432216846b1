package portal

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// memberClaim is the identity an install request states for a portal that
// is not stored yet: member_id, host and the refresh token that proves both.
type memberClaim struct {
	MemberID       string
	Domain         string // host[:port] of the portal, already validated
	ServerEndpoint string // trusted OAuth server, or "" for DefaultServerEndpoint
	RefreshToken   string
	// RefreshField names the refresh token in the request's own terms
	// (REFRESH_ID or auth[refresh_token]) for error messages.
	RefreshField string
}

// needsMemberProof reports whether an install must prove its member_id at
// the OAuth server before it is stored. app.info does not return the
// member_id, so working tokens alone do not tie a new member_id (or the first
// endpoint of a stored one) to the portal at DOMAIN.
func needsMemberProof(known *Portal) bool {
	return known == nil || known.ClientEndpoint == ""
}

// proveMember exchanges the claim's refresh token at the OAuth server. The
// OAuth server, not the request, names the portal the token was issued for:
// its member_id must equal the claimed one and its client_endpoint must be
// on the claimed host. The exchange rotates the pair, so the returned
// TokenSet is the one to store; the request's tokens may no longer work.
func (in *Installer) proveMember(ctx context.Context, claim memberClaim) (TokenSet, error) {
	if claim.RefreshToken == "" {
		return TokenSet{}, fmt.Errorf("%w: %s is missing, and it is required to prove member_id %q of a portal installing the app for the first time",
			ErrInstallMissingField, claim.RefreshField, claim.MemberID)
	}
	ans, err := in.client.exchangeRefreshToken(ctx, claim.ServerEndpoint, claim.RefreshToken)
	if err != nil {
		return TokenSet{}, proofFailed(claim, err)
	}

	if ans.MemberID != claim.MemberID {
		return TokenSet{}, fmt.Errorf("%w: the OAuth server issued %s for member_id %q, not for the claimed %q",
			ErrTokensNotVerified, claim.RefreshField, ans.MemberID, claim.MemberID)
	}
	host := endpointHost(ans.ClientEndpoint)
	if host == "" || !strings.EqualFold(host, claim.Domain) {
		return TokenSet{}, fmt.Errorf("%w: the OAuth server returned client endpoint %q for member_id %q, which is not on DOMAIN %q",
			ErrTokensNotVerified, ans.ClientEndpoint, claim.MemberID, claim.Domain)
	}
	in.opts.Log.InfoContext(ctx, "OAuth server confirmed the member_id of a new portal",
		"member_id", claim.MemberID, "domain", claim.Domain)
	return TokenSet{
		AccessToken:  ans.AccessToken,
		RefreshToken: ans.RefreshToken,
		ExpiresAt:    in.expiresAt(int64(ans.Expires), int64(ans.ExpiresIn)),
	}, nil
}

// proofFailed classifies a failed exchange. An error code from the OAuth
// server with a 4xx status rejects the tokens. Anything else (no response, a
// 5xx status, an unreadable body) is retryable.
func proofFailed(claim memberClaim, err error) error {
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.HTTPStatus < 500 {
		return fmt.Errorf("%w: the OAuth server rejected %s of member_id %q: %w",
			ErrTokensNotVerified, claim.RefreshField, claim.MemberID, err)
	}
	return fmt.Errorf("%w: exchange %s to prove member_id %q, try the install again later: %w",
		ErrOAuthUnavailable, claim.RefreshField, claim.MemberID, err)
}

// endpointHost returns the lower-case host[:port] of a client endpoint URL,
// or "" when it is not an absolute http or https URL.
func endpointHost(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return ""
	}
	return strings.ToLower(u.Host)
}

// installServerEndpoint returns the OAuth server to prove a member_id at:
// the request's when it is trusted, else the stored one, else "" for
// DefaultServerEndpoint.
func (in *Installer) installServerEndpoint(raw string, known *Portal) string {
	if server := in.serverEndpoint(raw); server != "" {
		return server
	}
	if known != nil {
		return known.ServerEndpoint
	}
	return ""
}
