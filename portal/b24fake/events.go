package b24fake

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// eventConfig is the set of choices EventOptions make for one event.
type eventConfig struct {
	userID     int
	noAuth     bool
	noTokens   bool
	refresh    bool
	handlerID  int
	eventIDKey bool
	ts         int64
	appToken   *string
	authExtra  map[string]any
	noAppToken bool
}

// EventOption changes how SendEvent builds an event.
type EventOption func(*eventConfig)

// WithUser puts the tokens of userID in auth (default 1, the administrator).
func WithUser(userID int) EventOption { return func(c *eventConfig) { c.userID = userID } }

// WithoutAuth leaves the auth block out, as for events triggered by
// automation rules.
func WithoutAuth() EventOption { return func(c *eventConfig) { c.noAuth = true } }

// WithoutTokens keeps auth but without access_token and its fields, as in
// ONAPPUNINSTALL and ONAPPPAYMENT.
func WithoutTokens() EventOption { return func(c *eventConfig) { c.noTokens = true } }

// WithRefreshToken adds auth[refresh_token], as ONAPPINSTALL and ONAPPUPDATE do.
func WithRefreshToken() EventOption { return func(c *eventConfig) { c.refresh = true } }

// WithHandlerID sets event_handler_id (default a counter from 1).
func WithHandlerID(id int) EventOption { return func(c *eventConfig) { c.handlerID = id } }

// WithEventIDKey sends the handler id as eventId instead of event_handler_id,
// as the dialog events show in the documentation.
func WithEventIDKey() EventOption { return func(c *eventConfig) { c.eventIDKey = true } }

// WithTS sets ts (default now).
func WithTS(ts int64) EventOption { return func(c *eventConfig) { c.ts = ts } }

// WithApplicationToken sends token as auth[application_token], for forged events.
func WithApplicationToken(token string) EventOption {
	return func(c *eventConfig) { c.appToken = &token }
}

// WithoutApplicationToken leaves auth[application_token] out.
func WithoutApplicationToken() EventOption { return func(c *eventConfig) { c.noAppToken = true } }

// WithAuthFields adds or replaces fields of the auth block.
func WithAuthFields(fields map[string]any) EventOption {
	return func(c *eventConfig) { c.authExtra = fields }
}

// EventForm builds the form body of an event: event (upper case),
// event_handler_id, data, ts and auth.
func (p *Portal) EventForm(name string, data any, opts ...EventOption) url.Values {
	cfg := eventConfig{userID: 1}
	for _, o := range opts {
		o(&cfg)
	}
	p.mu.Lock()
	if cfg.handlerID == 0 {
		p.state.handlerCount++
		cfg.handlerID = p.state.handlerCount
	}
	p.mu.Unlock()
	if cfg.ts == 0 {
		cfg.ts = p.now().Unix()
	}
	body := map[string]any{"event": strings.ToUpper(name), "data": data, "ts": itoa(int(cfg.ts))}
	if cfg.eventIDKey {
		body["eventId"] = itoa(cfg.handlerID)
	} else {
		body["event_handler_id"] = itoa(cfg.handlerID)
	}
	if !cfg.noAuth {
		body["auth"] = p.authBlock(cfg)
	}
	return EncodeForm(body)
}

func (p *Portal) authBlock(cfg eventConfig) map[string]any {
	auth := map[string]any{
		"domain": p.Domain(), "client_endpoint": p.ClientEndpoint(), "server_endpoint": p.ServerEndpoint(),
		"member_id": p.opts.MemberID,
	}
	if !cfg.noAppToken {
		auth["application_token"] = p.ApplicationToken()
	}
	if cfg.appToken != nil {
		auth["application_token"] = *cfg.appToken
	}
	if !cfg.noTokens {
		p.mu.Lock()
		admin := p.state.users[cfg.userID] != nil && p.state.users[cfg.userID].Admin
		status := p.state.appStatus
		p.mu.Unlock()
		access, refresh := p.IssueTokens(cfg.userID, admin)
		auth["access_token"] = access
		auth["expires"] = p.now().Add(p.opts.TokenTTL).Unix()
		auth["expires_in"] = int(p.opts.TokenTTL / time.Second)
		auth["scope"] = "imopenlines,imconnector,im,placement"
		auth["status"] = status
		auth["user_id"] = cfg.userID
		if cfg.refresh {
			auth["refresh_token"] = refresh
		}
	}
	for k, v := range cfg.authExtra {
		auth[k] = v
	}
	return auth
}

// SendEvent posts an event to handlerURL as the queue server does:
// application/x-www-form-urlencoded with PHP bracket keys. data is a map or,
// for ONIMCONNECTORLINEDELETE, a scalar. handlerURL must be a loopback URL.
// The caller closes the response body.
func (p *Portal) SendEvent(ctx context.Context, handlerURL, name string, data any, opts ...EventOption) (*http.Response, error) {
	return PostForm(ctx, handlerURL, p.EventForm(name, data, opts...))
}

// PostForm posts form to a loopback URL as application/x-www-form-urlencoded.
func PostForm(ctx context.Context, target string, form url.Values) (*http.Response, error) {
	if err := checkLoopback(target); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "Bitrix24 Webhook Engine")
	res, err := loopbackClient().Do(req)
	if err != nil {
		return nil, fmt.Errorf("post event to %s: %w", target, err)
	}
	return res, nil
}

// serveOAuthREST serves app.info on the OAuth server, the trusted source of
// the app's status.
func (p *Portal) serveOAuthREST(w http.ResponseWriter, r *http.Request) {
	method := normalizeMethod(strings.TrimPrefix(r.URL.Path, "/oauth-server/rest/"))
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	params, _ := parseParams(r, body)
	if method != "app.info" {
		writeJSON(w, http.StatusNotFound, oauthError("ERROR_METHOD_NOT_FOUND", "Method not found!"))
		return
	}
	user, rerr := p.authenticate(tokenOf(r, params))
	if rerr != nil {
		writeJSON(w, rerr.status, oauthError(rerr.code, rerr.description))
		return
	}
	result, _ := p.appInfo(&request{ctx: r.Context(), method: method, params: params, user: user})
	writeJSON(w, http.StatusOK, map[string]any{"result": result})
}
