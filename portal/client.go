package portal

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// DefaultServerEndpoint is the OAuth server of Bitrix24 cloud portals, used
// when an installer POST did not name one.
const DefaultServerEndpoint = "https://oauth.bitrix.info/rest/"

// ClientOptions configure a Client. Zero fields take the defaults given.
type ClientOptions struct {
	// ClientID and ClientSecret are the app's OAuth credentials. The secret is
	// sent only to the OAuth server, never to a portal.
	ClientID     string
	ClientSecret string
	// RateBurst and RatePerSec mirror the portal's leaky bucket: at most
	// RateBurst requests at once, then RatePerSec per second (default 50 and 2,
	// the values of non-Enterprise cloud plans).
	RateBurst  int
	RatePerSec float64
	// Timeout bounds one HTTP request (default 30s).
	Timeout time.Duration
	// AllowInsecureHTTP accepts loopback portals and OAuth servers, over http
	// or https, for tests and local tryouts.
	AllowInsecureHTTP bool
	Log               *slog.Logger
	// Now is the clock for token expiry and operating_reset_at (default time.Now).
	Now func() time.Time
	// HTTPClient is used instead of a new one. Its redirect policy is replaced
	// and, when its Transport is an *http.Transport, the dialer is replaced by
	// one that rejects non-public addresses.
	HTTPClient *http.Client
	// MaxRetries bounds the retries of one call after QUERY_LIMIT_EXCEEDED,
	// OPERATION_TIME_LIMIT and retryable network failures (default 5).
	MaxRetries int
	// RetryBaseDelay is the first backoff delay, doubled per retry with
	// jitter (default 1s).
	RetryBaseDelay time.Duration
	// MaxOperatingWait is the longest wait for operating_reset_at after
	// OPERATION_TIME_LIMIT; a later reset fails the call (default 2m).
	MaxOperatingWait time.Duration
	// OverloadCoolDown is how long calls to a portal stop after OVERLOAD_LIMIT
	// (default 15m).
	OverloadCoolDown time.Duration
	// RefreshRetryAfter is how long a portal whose refresh token was refused
	// waits before the client tries to refresh again (default 1h).
	RefreshRetryAfter time.Duration
	// UserAgent is sent with every request (default "b24wa/1.0").
	UserAgent string
	// Registerer receives the client's Prometheus counters; nil registers
	// nothing.
	Registerer prometheus.Registerer
}

func (o ClientOptions) withDefaults() ClientOptions {
	if o.RateBurst <= 0 {
		o.RateBurst = 50
	}
	if o.RatePerSec <= 0 {
		o.RatePerSec = 2
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxRetries <= 0 {
		o.MaxRetries = 5
	}
	if o.RetryBaseDelay <= 0 {
		o.RetryBaseDelay = time.Second
	}
	if o.MaxOperatingWait <= 0 {
		o.MaxOperatingWait = 2 * time.Minute
	}
	if o.OverloadCoolDown <= 0 {
		o.OverloadCoolDown = 15 * time.Minute
	}
	if o.RefreshRetryAfter <= 0 {
		o.RefreshRetryAfter = time.Hour
	}
	if o.UserAgent == "" {
		o.UserAgent = "b24wa/1.0"
	}
	return o
}

// Client calls the Bitrix24 REST API of stored portals: it keeps each
// portal within its rate limit, refreshes expired tokens once per portal,
// follows renamed portals and retries what is safe to retry.
type Client struct {
	store    *Store
	opts     ClientOptions
	http     *http.Client
	log      *slog.Logger
	limiters *limiterSet
	refresh  *keyedMutex
	metrics  *clientMetrics

	mu               sync.Mutex
	overloadedUntil  map[string]time.Time // by lower-case host
	refreshRefusedAt map[uint64]time.Time // by portal id
	operatingResetAt map[string]int64     // by host and method
}

// NewClient returns a Client over store.
func NewClient(store *Store, opts ClientOptions) *Client {
	opts = opts.withDefaults()
	return &Client{
		store:            store,
		opts:             opts,
		http:             newHTTPClient(opts.HTTPClient, opts.AllowInsecureHTTP),
		log:              opts.Log,
		limiters:         newLimiterSet(opts.RateBurst, opts.RatePerSec),
		refresh:          newKeyedMutex(),
		metrics:          newClientMetrics(opts.Registerer),
		overloadedUntil:  make(map[string]time.Time),
		refreshRefusedAt: make(map[uint64]time.Time),
		operatingResetAt: make(map[string]int64),
	}
}

// newHTTPClient builds the client used for portals and the OAuth server: it
// never follows redirects (a 302 from a renamed portal is re-posted by hand,
// because net/http would turn the POST into a GET) and refuses to connect to
// non-public addresses.
func newHTTPClient(base *http.Client, allowLoopback bool) *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: dialControl(allowLoopback)}
	var c http.Client
	if base != nil {
		c = *base
	}
	switch t := c.Transport.(type) {
	case nil:
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.Proxy = nil
		tr.DialContext = dialer.DialContext
		c.Transport = tr
	case *http.Transport:
		tr := t.Clone()
		tr.DialContext = dialer.DialContext
		c.Transport = tr
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// Response is a decoded REST answer: the raw result and, for list methods,
// the total and the offset of the next page (0 when there is none).
type Response struct {
	Result json.RawMessage
	Total  int
	Next   int
	Time   ResponseTime
}

// ResponseTime is the "time" block of an answer. Times are Unix seconds;
// Operating is the seconds this method of this app spent over the last ten
// minutes and OperatingResetAt when the oldest minute stops counting.
type ResponseTime struct {
	Start            float64
	Finish           float64
	Duration         float64
	Processing       float64
	DateStart        string
	DateFinish       string
	Operating        float64
	OperatingResetAt int64
}

// Call calls method on the stored portal and decodes result into out, which
// may be a *json.RawMessage or nil to discard it. params must encode to a JSON
// object (a struct, a map or nil).
func (c *Client) Call(ctx context.Context, portalID uint64, method string, params, out any) error {
	resp, err := c.CallResponse(ctx, portalID, method, params)
	if err != nil {
		return err
	}
	return decodeResult(method, resp.Result, out)
}

// CallResponse is Call returning the whole answer, for list methods
// (Total, Next) and for the operating time.
func (c *Client) CallResponse(ctx context.Context, portalID uint64, method string, params any) (*Response, error) {
	body, err := encodeParams(params)
	if err != nil {
		return nil, fmt.Errorf("call %s on portal %d: %w", method, portalID, err)
	}
	t, err := c.portalTarget(ctx, portalID)
	if err != nil {
		return nil, fmt.Errorf("call %s on portal %d: %w", method, portalID, err)
	}
	resp, err := c.call(ctx, t, method, body, IsIdempotent(method))
	if err != nil {
		return nil, fmt.Errorf("call %s on portal %d: %w", method, portalID, err)
	}
	return resp, nil
}

// CallAs calls method at endpoint (a client endpoint such as
// "https://example.bitrix24.com/rest/") with a token that is not stored: the
// installer's AUTH_ID or the token of a user in an iframe. The endpoint is
// validated; an expired token is not refreshed.
func (c *Client) CallAs(ctx context.Context, endpoint, accessToken, method string, params, out any) error {
	body, err := encodeParams(params)
	if err != nil {
		return fmt.Errorf("call %s: %w", method, err)
	}
	u, err := ValidateEndpoint(endpoint, c.opts.AllowInsecureHTTP)
	if err != nil {
		return fmt.Errorf("call %s: %w", method, err)
	}
	t := &target{endpoint: withTrailingSlash(u), access: accessToken}
	resp, err := c.call(ctx, t, method, body, IsIdempotent(method))
	if err != nil {
		return fmt.Errorf("call %s at %s: %w", method, u.Host, err)
	}
	return decodeResult(method, resp.Result, out)
}

// target is where one call goes: the endpoint, the token and, for stored
// portals, the row to refresh and update.
type target struct {
	portal   *Portal
	endpoint *url.URL
	access   string
}

func (c *Client) portalTarget(ctx context.Context, portalID uint64) (*target, error) {
	p, err := c.store.ByID(ctx, portalID)
	if err != nil {
		return nil, err
	}
	if p.UninstalledAt != nil || p.State == StateUninstalled {
		return nil, ErrPortalUninstalled
	}
	u, err := ValidateEndpoint(p.ClientEndpoint, c.opts.AllowInsecureHTTP)
	if err != nil {
		return nil, err
	}
	access, _, err := c.store.Tokens(ctx, p)
	if err != nil {
		return nil, err
	}
	if access == "" {
		return nil, ErrNoTokens
	}
	return &target{portal: p, endpoint: withTrailingSlash(u), access: access}, nil
}

func withTrailingSlash(u *url.URL) *url.URL {
	c := *u
	c.RawQuery, c.Fragment = "", ""
	if !strings.HasSuffix(c.Path, "/") {
		c.Path += "/"
	}
	return &c
}

func encodeParams(params any) (json.RawMessage, error) {
	if params == nil {
		return json.RawMessage("{}"), nil
	}
	if raw, ok := params.(json.RawMessage); ok {
		params = raw
	}
	data, err := json.Marshal(params)
	if err != nil {
		return nil, fmt.Errorf("encode params: %w", err)
	}
	if string(data) == "null" {
		return json.RawMessage("{}"), nil
	}
	if len(data) == 0 || data[0] != '{' {
		return nil, fmt.Errorf("encode params: %T does not encode to a JSON object", params)
	}
	return data, nil
}

func decodeResult(method string, result json.RawMessage, out any) error {
	if out == nil {
		return nil
	}
	if raw, ok := out.(*json.RawMessage); ok {
		*raw = append((*raw)[:0], result...)
		return nil
	}
	if err := json.Unmarshal(result, out); err != nil {
		return fmt.Errorf("decode result of %s: %w", method, err)
	}
	return nil
}

// nonIdempotent lists methods whose repetition has a visible effect: a second
// message in the chat, a second notification or a duplicate handler.
var nonIdempotent = map[string]bool{
	"imconnector.send.messages":   true,
	"imconnector.update.messages": true,
	"imconnector.delete.messages": true,
	"im.notify.system.add":        true,
	"event.bind":                  true,
}

// IsIdempotent reports whether repeating method after an ambiguous failure is
// harmless. The methods listed above and every "*.add" method are not.
func IsIdempotent(method string) bool {
	m := strings.ToLower(strings.TrimSuffix(method, ".json"))
	return !nonIdempotent[m] && !strings.HasSuffix(m, ".add")
}
