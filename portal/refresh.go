package portal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// tokenAnswer is the OAuth server's answer to a refresh.
type tokenAnswer struct {
	AccessToken    string     `json:"access_token"`
	RefreshToken   string     `json:"refresh_token"`
	Expires        flexNumber `json:"expires"`
	ExpiresIn      flexNumber `json:"expires_in"`
	ClientEndpoint string     `json:"client_endpoint"`
	MemberID       string     `json:"member_id"`
	Error          flexString `json:"error"`
	Description    flexString `json:"error_description"`
}

// refreshToken returns a fresh access token for p after failed was refused.
// Refreshes of one portal are serialized: a caller that waited for another
// one's refresh finds a different access token stored and uses it, so fifty
// callers hitting expired_token together cause one refresh. The new pair is
// stored before it is returned, because Bitrix24 refresh tokens are single
// use: a pair lost after the refresh would lock the app out.
func (c *Client) refreshToken(ctx context.Context, p *Portal, failed string) (string, error) {
	unlock, err := c.refresh.lock(ctx, p.ID)
	if err != nil {
		return "", fmt.Errorf("wait for token refresh: %w", err)
	}
	defer unlock()

	fresh, err := c.store.ByID(ctx, p.ID)
	if err != nil {
		return "", err
	}
	access, refresh, err := c.store.Tokens(ctx, fresh)
	if err != nil {
		return "", err
	}
	if access != "" && access != failed {
		*p = *fresh
		return access, nil
	}
	if err := c.refreshAllowed(fresh, refresh); err != nil {
		return "", err
	}
	set, err := c.requestRefresh(ctx, fresh, refresh)
	if err != nil {
		return c.refreshFailed(ctx, fresh, p, refresh, err)
	}
	if err := c.store.SaveTokens(ctx, fresh, set); err != nil {
		return "", fmt.Errorf("store refreshed tokens: %w", err)
	}
	c.mu.Lock()
	delete(c.refreshRefusedAt, p.ID)
	c.mu.Unlock()
	*p = *fresh
	c.metrics.refreshes.WithLabelValues("ok").Inc()
	c.log.InfoContext(ctx, "Refreshed Bitrix24 access token", "portal_id", p.ID, "member_id", p.MemberID,
		"expires_at", set.ExpiresAt)
	return set.AccessToken, nil
}

// refreshAllowed stops a refresh with a refresh token the OAuth server
// already refused, until RefreshRetryAfter has passed: repeating it cannot
// succeed and Bitrix24 may block apps that hammer the OAuth server.
func (c *Client) refreshAllowed(p *Portal, refresh string) error {
	if refresh == "" {
		return fmt.Errorf("%w: no refresh token stored", ErrNeedsAttention)
	}
	c.mu.Lock()
	refusedAt, refused := c.refreshRefusedAt[p.ID]
	c.mu.Unlock()
	if refused && c.opts.Now().Sub(refusedAt) < c.opts.RefreshRetryAfter && p.State == StateAttention {
		return fmt.Errorf("%w: %s", ErrNeedsAttention, p.AttentionReason)
	}
	return nil
}

// refreshFailed handles a refused or failed refresh. invalid_grant after
// another instance rotated the pair is not a failure: the stored token is
// newer than the one sent.
func (c *Client) refreshFailed(ctx context.Context, fresh, p *Portal, sent string, err error) (string, error) {
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.HTTPStatus >= 500 {
		c.metrics.refreshes.WithLabelValues("unavailable").Inc()
		return "", fmt.Errorf("%w: %w", ErrOAuthUnavailable, err)
	}
	reason := attentionReason(apiErr.Code)
	if reason == "" {
		c.metrics.refreshes.WithLabelValues("error").Inc()
		return "", fmt.Errorf("refresh token: %w", err)
	}
	if reason == AttentionInvalidGrant {
		if reloaded, rerr := c.store.ByID(ctx, fresh.ID); rerr == nil {
			access, refresh, terr := c.store.Tokens(ctx, reloaded)
			if terr == nil && refresh != sent && access != "" {
				*p = *reloaded
				return access, nil
			}
		}
	}
	c.metrics.refreshes.WithLabelValues(reason).Inc()
	c.mu.Lock()
	c.refreshRefusedAt[fresh.ID] = c.opts.Now()
	c.mu.Unlock()
	c.log.ErrorContext(ctx, "OAuth server refused the refresh token; the portal needs its administrator",
		"portal_id", fresh.ID, "member_id", fresh.MemberID, "reason", reason, "error", err)
	if serr := c.store.SetAttention(ctx, fresh.ID, reason); serr != nil {
		return "", fmt.Errorf("%w: %s (storing the mark failed: %v)", ErrNeedsAttention, reason, serr)
	}
	return "", fmt.Errorf("%w: %w", ErrNeedsAttention, err)
}

func attentionReason(code string) string {
	switch {
	case strings.EqualFold(code, CodeInvalidGrant):
		return AttentionInvalidGrant
	case strings.EqualFold(code, CodeInvalidClient):
		return AttentionInvalidClient
	case strings.EqualFold(code, CodePaymentRequired):
		return AttentionPaymentRequired
	}
	return ""
}

// requestRefresh sends the refresh token to the OAuth server named by the
// portal's server_endpoint, the only request that carries the client secret.
func (c *Client) requestRefresh(ctx context.Context, p *Portal, refresh string) (TokenSet, error) {
	ans, err := c.exchangeRefreshToken(ctx, p.ServerEndpoint, refresh)
	if err != nil {
		return TokenSet{}, err
	}
	set := TokenSet{AccessToken: ans.AccessToken, RefreshToken: ans.RefreshToken}
	switch {
	case ans.ExpiresIn > 0:
		set.ExpiresAt = c.opts.Now().Add(time.Duration(ans.ExpiresIn) * time.Second)
	case ans.Expires > 0:
		set.ExpiresAt = time.Unix(int64(ans.Expires), 0)
	}
	if ans.ClientEndpoint != "" && ans.ClientEndpoint != p.ClientEndpoint {
		if _, err := ValidateEndpoint(ans.ClientEndpoint, c.opts.AllowInsecureHTTP); err != nil {
			c.log.WarnContext(ctx, "Ignoring client endpoint of the refresh answer",
				"portal_id", p.ID, "member_id", p.MemberID, "error", err)
		} else {
			set.ClientEndpoint = ans.ClientEndpoint
		}
	}
	return set, nil
}

// exchangeRefreshToken sends refresh to the token endpoint of
// serverEndpoint (DefaultServerEndpoint when empty) and returns the decoded
// response, which always contains a token pair. An error code from the OAuth
// server is an *APIError, a 5xx status a *statusError and no response a
// *transportError.
func (c *Client) exchangeRefreshToken(ctx context.Context, serverEndpoint, refresh string) (*tokenAnswer, error) {
	tokenURL, err := c.tokenURL(serverEndpoint)
	if err != nil {
		return nil, err
	}
	q := url.Values{
		"grant_type":    {"refresh_token"},
		"client_id":     {c.opts.ClientID},
		"client_secret": {c.opts.ClientSecret},
		"refresh_token": {refresh},
	}
	tokenURL.RawQuery = q.Encode()
	reqCtx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(reqCtx, http.MethodGet, tokenURL.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("build refresh request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.opts.UserAgent)
	res, err := c.http.Do(req)
	if err != nil {
		return nil, classifyTransport(err)
	}
	defer res.Body.Close()
	return decodeTokenAnswer(res)
}

func decodeTokenAnswer(res *http.Response) (*tokenAnswer, error) {
	var ans tokenAnswer
	if err := json.NewDecoder(http.MaxBytesReader(nil, res.Body, 1<<20)).Decode(&ans); err != nil {
		if res.StatusCode >= 500 {
			return nil, &statusError{status: res.StatusCode}
		}
		return nil, fmt.Errorf("decode refresh answer (HTTP %d): %w", res.StatusCode, err)
	}
	if ans.Error != "" {
		return nil, &APIError{HTTPStatus: res.StatusCode, Code: string(ans.Error), Description: string(ans.Description)}
	}
	if res.StatusCode >= 500 {
		return nil, &statusError{status: res.StatusCode}
	}
	if ans.AccessToken == "" || ans.RefreshToken == "" {
		return nil, fmt.Errorf("refresh answer (HTTP %d) has no token pair", res.StatusCode)
	}
	return &ans, nil
}

// tokenURL derives the token address from server_endpoint by replacing its
// trailing "rest/" with "oauth/token/": https://oauth.bitrix.info/rest/
// becomes https://oauth.bitrix.info/oauth/token/. Regional OAuth servers
// such as oauth.bitrix24.tech follow the same layout.
func (c *Client) tokenURL(serverEndpoint string) (*url.URL, error) {
	if serverEndpoint == "" {
		serverEndpoint = DefaultServerEndpoint
	}
	u, err := ValidateEndpoint(serverEndpoint, c.opts.AllowInsecureHTTP)
	if err != nil {
		return nil, fmt.Errorf("oauth server: %w", err)
	}
	// The refresh request carries the client_secret, so it goes only to a
	// known OAuth server even if a stored row names another host.
	if !trustedOAuthHost(u.Hostname(), c.opts.AllowInsecureHTTP) {
		return nil, fmt.Errorf("oauth server %s: %w: not a known Bitrix24 OAuth host", u.Host, ErrInvalidEndpoint)
	}
	out := *u
	out.RawQuery, out.Fragment = "", ""
	path := strings.TrimSuffix(out.Path, "/")
	path = strings.TrimSuffix(path, "/rest")
	out.Path = path + "/oauth/token/"
	return &out, nil
}

// trustedOAuthHost reports whether host is one of DefaultOAuthHosts, or a
// loopback host when insecure http is allowed for tests and local tryouts.
func trustedOAuthHost(host string, allowInsecure bool) bool {
	for _, h := range DefaultOAuthHosts() {
		if strings.EqualFold(h, host) {
			return true
		}
	}
	if !allowInsecure {
		return false
	}
	addr, err := netip.ParseAddr(host)
	return host == "localhost" || (err == nil && addr.IsLoopback())
}
