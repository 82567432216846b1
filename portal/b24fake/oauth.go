package b24fake

import (
	"net/http"
	"net/url"
	"time"
)

type accessToken struct {
	userID  int
	expires time.Time
	revoked bool
}

type refreshToken struct {
	userID int
	access string
	used   bool
}

// OAuthCall is a request to the OAuth token endpoint.
type OAuthCall struct {
	GrantType    string
	ClientID     string
	SecretOK     bool
	RefreshToken string
	Status       int
	Error        string
	Time         time.Time
}

// IssueTokens returns a fresh access and refresh token of userID, creating
// the user (named "User <id>") when it does not exist yet.
func (p *Portal) IssueTokens(userID int, admin bool) (access, refresh string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.state.users[userID]; !ok {
		p.state.users[userID] = &User{ID: userID, Name: "User", LastName: itoa(userID), Admin: admin}
	}
	return p.issueLocked(userID)
}

func (p *Portal) issueLocked(userID int) (string, string) {
	access, refresh := randomHex(16), randomHex(16)
	p.state.access[access] = &accessToken{userID: userID, expires: p.now().Add(p.opts.TokenTTL)}
	p.state.refresh[refresh] = &refreshToken{userID: userID, access: access}
	return access, refresh
}

// ExpireAccessTokens makes every issued access token expired, so the next
// call with one gets 401 expired_token.
func (p *Portal) ExpireAccessTokens() {
	p.mu.Lock()
	defer p.mu.Unlock()
	past := p.now().Add(-time.Second)
	for _, t := range p.state.access {
		t.expires = past
	}
}

// OAuthCalls returns every request to the token endpoint in order.
func (p *Portal) OAuthCalls() []OAuthCall {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]OAuthCall(nil), p.state.oauthCalls...)
}

// RefreshCount returns how many refreshes the OAuth server granted.
func (p *Portal) RefreshCount() int {
	n := 0
	for _, c := range p.OAuthCalls() {
		if c.Status == http.StatusOK {
			n++
		}
	}
	return n
}

// OnOAuthError makes the next times token requests fail with status and,
// when code is not empty, a JSON error body.
func (p *Portal) OnOAuthError(times, status int, code, description string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state.oauthErrors = append(p.state.oauthErrors,
		&injection{method: "*", remaining: times, status: status, code: code, description: description})
}

// serveToken is GET /oauth/token/ of the OAuth server. Refresh tokens are
// single use: a refresh revokes the old refresh token and the access token
// issued with it.
func (p *Portal) serveToken(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	q := r.Form
	call := OAuthCall{
		GrantType: q.Get("grant_type"), ClientID: q.Get("client_id"),
		SecretOK: q.Get("client_secret") == p.opts.ClientSecret, RefreshToken: q.Get("refresh_token"), Time: p.now(),
	}
	status, body := p.tokenAnswer(q.Get("grant_type"), call)
	p.mu.Lock()
	call.Status = status
	if e, ok := body["error"].(string); ok {
		call.Error = e
	}
	p.state.oauthCalls = append(p.state.oauthCalls, call)
	p.mu.Unlock()
	writeJSON(w, status, body)
}

func (p *Portal) tokenAnswer(grant string, call OAuthCall) (int, map[string]any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if inj := takeInjection(&p.state.oauthErrors, "*"); inj != nil {
		if inj.code == "" {
			return inj.status, map[string]any{}
		}
		return inj.status, oauthError(inj.code, inj.description)
	}
	switch {
	case call.ClientID != p.opts.ClientID || !call.SecretOK || p.state.uninstalled:
		return http.StatusUnauthorized, oauthError("invalid_client", "Invalid client")
	case grant != "refresh_token":
		return http.StatusBadRequest, oauthError("invalid_request", "Unsupported grant type")
	case p.state.payRequired:
		// NOTE: the HTTP status of PAYMENT_REQUIRED is not documented; 402 is a guess.
		return http.StatusPaymentRequired, oauthError("PAYMENT_REQUIRED", "Payment required")
	}
	old, ok := p.state.refresh[call.RefreshToken]
	if !ok || old.used {
		return http.StatusBadRequest, oauthError("invalid_grant", "Invalid refresh token")
	}
	old.used = true
	if a, ok := p.state.access[old.access]; ok {
		a.revoked = true
	}
	access, refresh := p.issueLocked(old.userID)
	now := p.now()
	return http.StatusOK, map[string]any{
		"access_token":    access,
		"refresh_token":   refresh,
		"expires":         now.Add(p.opts.TokenTTL).Unix(),
		"expires_in":      int(p.opts.TokenTTL / time.Second),
		"client_endpoint": p.ClientEndpoint(),
		"server_endpoint": p.ServerEndpoint(),
		"domain":          hostOf(p.ServerEndpoint()),
		"member_id":       p.opts.MemberID,
		"scope":           "imopenlines,imconnector,im,placement",
		"status":          p.state.appStatus,
		"user_id":         old.userID,
	}
}

func oauthError(code, description string) map[string]any {
	return map[string]any{"error": code, "error_description": description}
}

// authenticate resolves the token of a REST request to its user, or returns
// the portal's 401 answer.
func (p *Portal) authenticate(token string) (*User, *restError) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if token == "" {
		return nil, &restError{http.StatusUnauthorized, "NO_AUTH_FOUND", "Wrong authorization data"}
	}
	t, ok := p.state.access[token]
	if !ok || t.revoked {
		return nil, &restError{http.StatusUnauthorized, "invalid_token", "The access token provided is invalid"}
	}
	if !p.now().Before(t.expires) {
		return nil, &restError{http.StatusUnauthorized, "expired_token", "The access token provided has expired"}
	}
	u := *p.state.users[t.userID]
	return &u, nil
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Host
}
