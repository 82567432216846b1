package b24fake

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// param returns the top-level parameter name, matched case-insensitively as
// the server does.
func param(params map[string]any, name string) (any, bool) {
	if v, ok := params[name]; ok {
		return v, true
	}
	for k, v := range params {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}

func paramString(params map[string]any, name string) string {
	v, _ := param(params, name)
	return asString(v)
}

// asString renders a scalar the way PHP casts it to a string.
func asString(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case json.Number:
		return t.String()
	case bool:
		if t {
			return "1"
		}
		return ""
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case int:
		return strconv.Itoa(t)
	}
	return ""
}

func asInt(v any) (int, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(asString(v)))
	return n, err == nil
}

// asList returns v as a list: a JSON array, or a form map with keys 0..n-1.
func asList(v any) ([]any, bool) {
	switch t := v.(type) {
	case []any:
		return t, true
	case map[string]any:
		keys := make([]int, 0, len(t))
		for k := range t {
			i, err := strconv.Atoi(k)
			if err != nil {
				return nil, false
			}
			keys = append(keys, i)
		}
		sort.Ints(keys)
		out := make([]any, 0, len(keys))
		for _, k := range keys {
			out = append(out, t[strconv.Itoa(k)])
		}
		return out, true
	}
	return nil, false
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// lowerKeys lower-cases map keys recursively, as the server does to the
// elements of MESSAGES.
func lowerKeys(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, val := range t {
			out[strings.ToLower(k)] = lowerKeys(val)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, val := range t {
			out[i] = lowerKeys(val)
		}
		return out
	}
	return v
}

func itoa(n int) string { return strconv.Itoa(n) }

// AddWebhook creates an incoming webhook of userID and returns its base URL
// (".../rest/<user id>/<code>/"). Webhooks may call ordinary methods but not
// app-only ones: imconnector.* and event.* get 403 WRONG_AUTH_TYPE and
// app.info gets ACCESS_DENIED.
func (p *Portal) AddWebhook(userID int) string {
	code := randomHex(8)
	p.mu.Lock()
	p.state.webhooks[code] = userID
	if _, ok := p.state.users[userID]; !ok {
		p.state.users[userID] = &User{ID: userID, Name: "User", LastName: itoa(userID)}
	}
	p.mu.Unlock()
	return p.ClientEndpoint() + itoa(userID) + "/" + code + "/"
}

func (p *Portal) authorizeWebhook(req *request, userID int) *restError {
	p.mu.Lock()
	owner, ok := p.state.webhooks[req.token]
	user := p.state.users[userID]
	p.mu.Unlock()
	if !ok || owner != userID || user == nil {
		return &restError{http.StatusUnauthorized, "NO_AUTH_FOUND", "Wrong authorization data"}
	}
	switch {
	case strings.HasPrefix(req.method, "imconnector.") || strings.HasPrefix(req.method, "event."):
		return &restError{http.StatusForbidden, "WRONG_AUTH_TYPE",
			"Current authorization type is denied for this method Application context required"}
	case req.method == "app.info":
		return &restError{http.StatusBadRequest, "ACCESS_DENIED", "Access denied! Application context required"}
	}
	u := *user
	req.user = &u
	return nil
}
