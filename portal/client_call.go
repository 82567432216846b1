package portal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"time"
)

// call runs one REST call with the retry policy:
//   - expired_token or invalid_token: refresh once (stored portals only) and retry;
//   - QUERY_LIMIT_EXCEEDED: back off and retry, since the portal rejected the
//     request before executing it;
//   - OPERATION_TIME_LIMIT: wait until operating_reset_at and retry;
//   - OVERLOAD_LIMIT: pause the portal and fail with ErrOverloaded;
//   - no response or 5xx without a code: retry idempotent methods, fail the
//     others with ErrAmbiguous.
func (c *Client) call(ctx context.Context, t *target, method string, params json.RawMessage, idempotent bool) (*Response, error) {
	if until, blocked := c.overloaded(t.endpoint.Host); blocked {
		return nil, fmt.Errorf("%w until %s", ErrOverloaded, until.UTC().Format(time.RFC3339))
	}
	refreshed := false
	for retry := 0; ; retry++ {
		c.metrics.calls.WithLabelValues(method).Inc()
		resp, moved, err := c.exchange(ctx, t, method, params)
		if moved != nil {
			c.portalMoved(ctx, t, moved)
		}
		if err == nil {
			c.succeeded(ctx, t, method, resp)
			return resp, nil
		}
		c.metrics.errors.WithLabelValues(method, errorCode(err)).Inc()

		if isTokenError(err) && t.portal != nil && !refreshed {
			refreshed = true
			access, rerr := c.refreshToken(ctx, t.portal, t.access)
			if rerr != nil {
				return nil, rerr
			}
			t.access = access
			retry--
			continue
		}
		delay, retryable, ferr := c.decide(ctx, t, method, err, idempotent, retry)
		if !retryable || retry >= c.opts.MaxRetries {
			return nil, ferr
		}
		c.metrics.retries.WithLabelValues(method, errorCode(err)).Inc()
		c.log.WarnContext(ctx, "Retrying Bitrix24 call", c.logAttrs(t, method,
			"attempt", retry+1, "delay", delay, "error", err)...)
		if err := sleep(ctx, delay); err != nil {
			return nil, fmt.Errorf("%w (gave up waiting: %v)", ferr, err)
		}
	}
}

// decide returns how long to wait before retrying err, whether to retry at
// all, and the error to return when not retrying.
func (c *Client) decide(ctx context.Context, t *target, method string, err error, idempotent bool, retry int) (time.Duration, bool, error) {
	var apiErr *APIError
	var trErr *transportError
	var stErr *statusError
	switch {
	case errors.As(err, &apiErr) && apiErr.Code == CodeQueryLimitExceeded:
		return c.backoff(retry), true, err
	case errors.As(err, &apiErr) && apiErr.Code == CodeOperationTimeLimit:
		return c.operatingWait(t, method, apiErr, retry)
	case errors.As(err, &apiErr) && apiErr.Code == CodeOverloadLimit:
		c.overload(ctx, t, method)
		return 0, false, fmt.Errorf("%w: %w", ErrOverloaded, err)
	case errors.As(err, &apiErr) && apiErr.HTTPStatus >= 500:
		return c.ambiguous(err, idempotent, retry)
	case errors.As(err, &stErr) && stErr.status >= 500:
		return c.ambiguous(err, idempotent, retry)
	case errors.As(err, &trErr) && ctx.Err() != nil:
		if trErr.sent && !idempotent {
			return 0, false, fmt.Errorf("%w: %w", ErrAmbiguous, err)
		}
		return 0, false, err
	case errors.As(err, &trErr) && !trErr.sent:
		return c.backoff(retry), !errors.Is(err, ErrInvalidEndpoint), err
	case errors.As(err, &trErr):
		return c.ambiguous(err, idempotent, retry)
	}
	return 0, false, err
}

func (c *Client) ambiguous(err error, idempotent bool, retry int) (time.Duration, bool, error) {
	if idempotent {
		return c.backoff(retry), true, err
	}
	return 0, false, fmt.Errorf("%w: %w", ErrAmbiguous, err)
}

// backoff returns a delay between half and all of RetryBaseDelay*2^attempt,
// with attempt counting retries of one call from 0.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.opts.RetryBaseDelay << min(attempt, 6)
	return d/2 + rand.N(d/2+1)
}

// operatingWait returns the wait until the method's operating time resets:
// from the error body, else from the last successful response of that method.
func (c *Client) operatingWait(t *target, method string, apiErr *APIError, retry int) (time.Duration, bool, error) {
	resetAt := apiErr.operatingResetAt
	if resetAt == 0 {
		c.mu.Lock()
		resetAt = c.operatingResetAt[operatingKey(t.endpoint.Host, method)]
		c.mu.Unlock()
	}
	if resetAt == 0 {
		return c.backoff(retry + 2), true, apiErr
	}
	wait := time.Unix(resetAt, 0).Sub(c.opts.Now()) + 100*time.Millisecond
	if wait > c.opts.MaxOperatingWait {
		return 0, false, fmt.Errorf("%w (operating time resets at %s, later than the %s wait allowed)",
			apiErr, time.Unix(resetAt, 0).UTC().Format(time.RFC3339), c.opts.MaxOperatingWait)
	}
	return max(wait, 0), true, apiErr
}

func operatingKey(host, method string) string {
	return strings.ToLower(host) + " " + strings.ToLower(method)
}

func isTokenError(err error) bool {
	return IsCode(err, CodeExpiredToken) || IsCode(err, CodeInvalidToken)
}

func errorCode(err error) string {
	var apiErr *APIError
	var stErr *statusError
	switch {
	case errors.As(err, &apiErr):
		return apiErr.Code
	case errors.As(err, &stErr):
		return fmt.Sprintf("HTTP_%d", stErr.status)
	}
	return "transport"
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// succeeded records the operating time of the response and ends an overload
// mark once the portal responds again.
func (c *Client) succeeded(ctx context.Context, t *target, method string, resp *Response) {
	if resp.Time.OperatingResetAt != 0 {
		c.mu.Lock()
		c.operatingResetAt[operatingKey(t.endpoint.Host, method)] = resp.Time.OperatingResetAt
		c.mu.Unlock()
	}
	if t.portal != nil && t.portal.State == StateAttention && t.portal.AttentionReason == AttentionOverload {
		if err := c.store.ClearAttention(ctx, t.portal.ID, AttentionOverload); err != nil {
			c.log.ErrorContext(ctx, "Clearing overload mark failed", c.logAttrs(t, method, "error", err)...)
			return
		}
		t.portal.State, t.portal.AttentionReason = StateActive, ""
	}
}

func (c *Client) overloaded(host string) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	until, ok := c.overloadedUntil[strings.ToLower(host)]
	return until, ok && c.opts.Now().Before(until)
}

// overload pauses calls to the portal and marks it for its administrator,
// because OVERLOAD_LIMIT is a manual block by Bitrix24 support.
func (c *Client) overload(ctx context.Context, t *target, method string) {
	until := c.opts.Now().Add(c.opts.OverloadCoolDown)
	c.mu.Lock()
	c.overloadedUntil[strings.ToLower(t.endpoint.Host)] = until
	c.mu.Unlock()
	c.log.ErrorContext(ctx, "Bitrix24 blocked the app with OVERLOAD_LIMIT; pausing calls to the portal",
		c.logAttrs(t, method, "until", until)...)
	if t.portal == nil {
		return
	}
	if err := c.store.SetAttention(ctx, t.portal.ID, AttentionOverload); err != nil {
		c.log.ErrorContext(ctx, "Marking portal overloaded failed", c.logAttrs(t, method, "error", err)...)
	}
}

// portalMoved stores the new address of a renamed portal.
func (c *Client) portalMoved(ctx context.Context, t *target, moved *url.URL) {
	old := t.endpoint.Host
	t.endpoint = moved
	if t.portal == nil {
		return
	}
	c.log.InfoContext(ctx, "Portal address changed", c.logAttrs(t, "", "old_domain", old, "domain", moved.Host)...)
	if err := c.store.SetDomain(ctx, t.portal.ID, moved.Host, moved.String()); err != nil {
		c.log.ErrorContext(ctx, "Storing new portal address failed", c.logAttrs(t, "", "error", err)...)
		return
	}
	t.portal.Domain, t.portal.ClientEndpoint = moved.Host, moved.String()
}

func (c *Client) logAttrs(t *target, method string, extra ...any) []any {
	attrs := make([]any, 0, 8+len(extra))
	if t.portal != nil {
		attrs = append(attrs, "portal_id", t.portal.ID, "member_id", t.portal.MemberID)
	} else {
		attrs = append(attrs, "domain", t.endpoint.Host)
	}
	if method != "" {
		attrs = append(attrs, "method", method)
	}
	return append(attrs, extra...)
}
