package b24fake

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Call is one REST request the portal received, recorded after the response. Batch commands are recorded too, with InBatch set.
type Call struct {
	Method  string
	Params  map[string]any // JSON numbers are json.Number, form values strings
	Body    []byte
	Token   string
	Host    string
	Status  int
	Error   string // error code of the response, empty on success
	InBatch bool
	Time    time.Time
}

// Calls returns every REST call in the order of their responses.
func (p *Portal) Calls() []Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Call(nil), p.state.calls...)
}

// CallsTo returns the calls of one method, case-insensitively.
func (p *Portal) CallsTo(method string) []Call {
	var out []Call
	for _, c := range p.Calls() {
		if strings.EqualFold(c.Method, method) {
			out = append(out, c)
		}
	}
	return out
}

// restError is an error answer of the portal.
type restError struct {
	status      int
	code        string
	description string
}

func argumentError(format string, args ...any) *restError {
	return &restError{http.StatusBadRequest, "ERROR_ARGUMENT", fmt.Sprintf(format, args...)}
}

// request is one method call being handled.
type request struct {
	ctx     context.Context
	method  string
	params  map[string]any
	token   string
	user    *User
	webhook bool
	body    []byte // raw body, for the order of batch commands
	total   *int
	next    *int
}

type handlerFunc func(p *Portal, req *request) (any, *restError)

func (p *Portal) serveREST(w http.ResponseWriter, r *http.Request) {
	start := p.now()
	method, webhookUser, webhookCode := parseRESTPath(r.URL.Path)
	webhook := webhookCode != ""
	body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	params, perr := parseParams(r, body)
	token := tokenOf(r, params)
	if webhook {
		token = webhookCode
	}
	delete(params, "auth")
	if p.opts.Latency > 0 {
		time.Sleep(p.opts.Latency)
	}

	req := &request{ctx: r.Context(), method: method, params: params, token: token, webhook: webhook, body: body}
	status, payload, plain := p.handle(req, webhookUser, perr, start)
	executed := req.user != nil
	errCode, _ := payload["error"].(string)
	p.record(Call{Method: method, Params: params, Body: body, Token: token, Host: r.Host,
		Status: status, Error: errCode, Time: start})

	if inj := p.afterInjection(executed, method); inj != nil {
		if inj.drop {
			dropConnection(w)
			return
		}
		time.Sleep(inj.delay)
	}
	if plain != "" {
		http.Error(w, plain, status)
		return
	}
	writeJSON(w, status, payload)
}

// handle runs the rate limit, injected failures, authentication and the
// method; plain is set for answers without a JSON body.
func (p *Portal) handle(req *request, webhookUser int, perr error, start time.Time) (int, map[string]any, string) {
	if !p.admit() {
		return errorAnswer(&restError{http.StatusServiceUnavailable, "QUERY_LIMIT_EXCEEDED", "Too many requests"})
	}
	if inj := p.takeBefore(req.method); inj != nil {
		return p.injectedAnswer(inj, start)
	}
	if perr != nil {
		return errorAnswer(&restError{http.StatusBadRequest, "INVALID_REQUEST", perr.Error()})
	}
	if rerr := p.authorize(req, webhookUser); rerr != nil {
		return errorAnswer(rerr)
	}
	result, rerr := p.dispatch(req)
	if rerr != nil {
		return errorAnswer(rerr)
	}
	answer := map[string]any{"result": result, "time": p.timeBlock(start)}
	if req.total != nil {
		answer["total"] = *req.total
	}
	if req.next != nil {
		answer["next"] = *req.next
	}
	return http.StatusOK, answer, ""
}

func (p *Portal) injectedAnswer(inj *injection, start time.Time) (int, map[string]any, string) {
	if inj.code == "" {
		return inj.status, nil, "<html><body>" + http.StatusText(inj.status) + "</body></html>"
	}
	answer := map[string]any{"error": inj.code, "error_description": inj.description}
	if inj.resetAfter > 0 {
		t := p.timeBlock(start)
		t["operating"] = 480.5
		t["operating_reset_at"] = p.now().Add(inj.resetAfter).Unix()
		answer["time"] = t
	}
	return inj.status, answer, ""
}

func errorAnswer(e *restError) (int, map[string]any, string) {
	return e.status, map[string]any{"error": e.code, "error_description": e.description}, ""
}

func (p *Portal) authorize(req *request, webhookUser int) *restError {
	if req.webhook {
		return p.authorizeWebhook(req, webhookUser)
	}
	user, rerr := p.authenticate(req.token)
	if rerr != nil {
		return rerr
	}
	req.user = user
	return nil
}

func (p *Portal) dispatch(req *request) (any, *restError) {
	h := lookupMethod(req.method)
	if h == nil {
		return nil, &restError{http.StatusNotFound, "ERROR_METHOD_NOT_FOUND", "Method not found!"}
	}
	return h(p, req)
}

// afterInjection returns the planned delay or drop of a call that ran.
func (p *Portal) afterInjection(executed bool, method string) *injection {
	if !executed {
		return nil
	}
	return p.takeAfter(method)
}

func (p *Portal) record(c Call) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state.calls = append(p.state.calls, c)
}

func (p *Portal) timeBlock(start time.Time) map[string]any {
	finish := p.now()
	return map[string]any{
		"start":              float64(start.UnixMicro()) / 1e6,
		"finish":             float64(finish.UnixMicro()) / 1e6,
		"duration":           finish.Sub(start).Seconds(),
		"processing":         finish.Sub(start).Seconds(),
		"date_start":         start.Format(time.RFC3339),
		"date_finish":        finish.Format(time.RFC3339),
		"operating_reset_at": start.Add(10 * time.Minute).Unix(),
		"operating":          0,
	}
}

// parseRESTPath returns the lower-case method of /rest/<method>[.json] or of
// the webhook form /rest/<user id>/<code>/<method>.
func parseRESTPath(path string) (method string, webhookUser int, webhookCode string) {
	rest := strings.TrimPrefix(path, "/rest/")
	parts := strings.Split(rest, "/")
	if len(parts) == 3 {
		if id, err := strconv.Atoi(parts[0]); err == nil && parts[1] != "" {
			return normalizeMethod(parts[2]), id, parts[1]
		}
	}
	return normalizeMethod(rest), 0, ""
}

func normalizeMethod(m string) string {
	return strings.TrimSuffix(strings.ToLower(m), ".json")
}

// parseParams merges the query string and the body (JSON object or form)
// into one map; body keys win.
func parseParams(r *http.Request, body []byte) (map[string]any, error) {
	params := DecodeForm(r.URL.Query())
	if len(bytes.TrimSpace(body)) == 0 {
		return params, nil
	}
	ctype, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ctype {
	case "application/json":
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil {
			return params, fmt.Errorf("body is not a JSON object: %v", err)
		}
		for k, v := range obj {
			params[k] = v
		}
	default:
		values, err := url.ParseQuery(string(body))
		if err != nil {
			return params, fmt.Errorf("body is not a form: %v", err)
		}
		for k, v := range DecodeForm(values) {
			params[k] = v
		}
	}
	return params, nil
}

// tokenOf finds the token where Bitrix24 looks for it: auth, access_token,
// then an Authorization: Bearer header.
func tokenOf(r *http.Request, params map[string]any) string {
	for _, key := range []string{"auth", "access_token"} {
		if s, ok := params[key].(string); ok && s != "" {
			return s
		}
	}
	if h := r.Header.Get("Authorization"); len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func dropConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err == nil {
		_ = conn.Close()
	}
}
