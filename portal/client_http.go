package portal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

const (
	// maxRedirects bounds the 302 hops of a renamed portal per request.
	maxRedirects = 3
	// maxBodyBytes bounds a REST or OAuth answer.
	maxBodyBytes = 32 << 20
)

// transportError is a request that got no HTTP answer. sent is false only
// when the connection was never made, so the portal cannot have executed it.
type transportError struct {
	err  error
	sent bool
}

func (e *transportError) Error() string { return e.err.Error() }
func (e *transportError) Unwrap() error { return e.err }

// statusError is a non-2xx answer without a Bitrix24 error code, such as a
// proxy's 502 page.
type statusError struct {
	status  int
	snippet string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("HTTP %d without an error code: %.120q", e.status, e.snippet)
}

// exchange posts one request, re-posting it to the new address when a renamed
// portal answers with a redirect. moved is that new client endpoint, or nil.
func (c *Client) exchange(ctx context.Context, t *target, method string, params json.RawMessage) (resp *Response, moved *url.URL, err error) {
	body, err := withAuth(params, t.access)
	if err != nil {
		return nil, nil, err
	}
	endpoint := t.endpoint
	for hop := 0; ; hop++ {
		if err := c.waitRate(ctx, endpoint.Host); err != nil {
			return nil, moved, err
		}
		status, header, data, err := c.post(ctx, endpoint.String()+method, body)
		if err != nil {
			return nil, moved, err
		}
		if !isRedirect(status) {
			resp, err := decodeAnswer(status, data)
			return resp, moved, err
		}
		if hop >= maxRedirects {
			return nil, moved, fmt.Errorf("portal redirected more than %d times", maxRedirects)
		}
		next, err := c.redirectTarget(endpoint, header.Get("Location"))
		if err != nil {
			return nil, moved, err
		}
		endpoint, moved = next, next
	}
}

func (c *Client) waitRate(ctx context.Context, host string) error {
	if err := c.limiters.wait(ctx, host); err != nil {
		return &transportError{err: fmt.Errorf("wait for rate limit: %w", err)}
	}
	return nil
}

func (c *Client) post(ctx context.Context, rawURL string, body []byte) (int, http.Header, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.opts.UserAgent)
	res, err := c.http.Do(req)
	if err != nil {
		return 0, nil, nil, classifyTransport(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxBodyBytes))
	if err != nil {
		return 0, nil, nil, &transportError{err: fmt.Errorf("read answer: %w", err), sent: true}
	}
	return res.StatusCode, res.Header, data, nil
}

// classifyTransport wraps a failed request. Only a failed dial proves the
// request never left; everything later (timeouts, resets) is ambiguous.
func classifyTransport(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = fmt.Errorf("%s %s: %w", ue.Op, redactURL(ue.URL), ue.Err)
	}
	var op *net.OpError
	sent := !(errors.As(err, &op) && op.Op == "dial") && !errors.Is(err, ErrInvalidEndpoint)
	return &transportError{err: err, sent: sent}
}

// redactURL drops the query, which carries the client secret and refresh
// token on OAuth requests.
func redactURL(raw string) string {
	if i := strings.IndexByte(raw, '?'); i >= 0 {
		return raw[:i]
	}
	return raw
}

func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// redirectTarget turns the Location of a renamed portal into its new client
// endpoint: the new scheme and host with the old endpoint path.
func (c *Client) redirectTarget(endpoint *url.URL, location string) (*url.URL, error) {
	if location == "" {
		return nil, fmt.Errorf("portal answered a redirect without Location")
	}
	loc, err := endpoint.Parse(location)
	if err != nil {
		return nil, fmt.Errorf("portal redirected to an invalid Location %q: %w", location, err)
	}
	next := *endpoint
	next.Scheme, next.Host = loc.Scheme, loc.Host
	checked, err := ValidateEndpoint(next.String(), c.opts.AllowInsecureHTTP)
	if err != nil {
		return nil, fmt.Errorf("portal redirected to %q: %w", location, err)
	}
	return checked, nil
}

// withAuth adds the access token to the JSON body as "auth", the form every
// documented example uses.
func withAuth(params json.RawMessage, access string) ([]byte, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(params, &fields); err != nil {
		return nil, fmt.Errorf("encode params: %w", err)
	}
	if fields == nil {
		fields = map[string]json.RawMessage{}
	}
	token, _ := json.Marshal(access)
	fields["auth"] = token
	return json.Marshal(fields)
}

// envelope is the JSON of a REST answer, success or error.
type envelope struct {
	Result      json.RawMessage `json:"result"`
	Total       flexNumber      `json:"total"`
	Next        flexNumber      `json:"next"`
	Time        *wireTime       `json:"time"`
	Error       flexString      `json:"error"`
	Description flexString      `json:"error_description"`
}

type wireTime struct {
	Start            flexNumber `json:"start"`
	Finish           flexNumber `json:"finish"`
	Duration         flexNumber `json:"duration"`
	Processing       flexNumber `json:"processing"`
	DateStart        string     `json:"date_start"`
	DateFinish       string     `json:"date_finish"`
	Operating        flexNumber `json:"operating"`
	OperatingResetAt flexNumber `json:"operating_reset_at"`
}

func (w *wireTime) decode() ResponseTime {
	if w == nil {
		return ResponseTime{}
	}
	return ResponseTime{
		Start: float64(w.Start), Finish: float64(w.Finish), Duration: float64(w.Duration),
		Processing: float64(w.Processing), DateStart: w.DateStart, DateFinish: w.DateFinish,
		Operating: float64(w.Operating), OperatingResetAt: int64(w.OperatingResetAt),
	}
}

// decodeAnswer turns a status and body into a Response or an error: an
// APIError when the body has an error code, a statusError for other non-2xx.
func decodeAnswer(status int, data []byte) (*Response, error) {
	var env envelope
	jsonErr := json.Unmarshal(data, &env)
	if jsonErr == nil && env.Error != "" {
		apiErr := &APIError{HTTPStatus: status, Code: string(env.Error), Description: string(env.Description)}
		if env.Time != nil {
			apiErr.operatingResetAt = int64(env.Time.OperatingResetAt)
		}
		return nil, apiErr
	}
	if status < 200 || status > 299 {
		return nil, &statusError{status: status, snippet: string(data)}
	}
	if jsonErr != nil {
		return nil, fmt.Errorf("decode answer %.120q: %w", data, jsonErr)
	}
	return &Response{Result: env.Result, Total: int(env.Total), Next: int(env.Next), Time: env.Time.decode()}, nil
}

// flexNumber decodes a JSON number or a numeric string; anything else is 0.
type flexNumber float64

func (n *flexNumber) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		*n = 0
		return nil
	}
	*n = flexNumber(f)
	return nil
}

// flexString decodes a JSON string or number as text; other values are empty.
type flexString string

func (s *flexString) UnmarshalJSON(b []byte) error {
	var str string
	if err := json.Unmarshal(b, &str); err == nil {
		*s = flexString(str)
		return nil
	}
	if _, err := strconv.ParseFloat(string(b), 64); err == nil {
		*s = flexString(b)
		return nil
	}
	*s = ""
	return nil
}
