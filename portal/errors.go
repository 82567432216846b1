package portal

import "errors"

// Sentinel errors of the Bitrix24 side. The store returns ErrPortalNotFound;
// the REST client returns the others, wrapped with the portal and method, so
// callers test them with errors.Is.
var (
	// ErrPortalNotFound means no portals row has the requested id or member_id.
	ErrPortalNotFound = errors.New("portal not found")

	// ErrPortalUninstalled means the app was removed from the portal, so its
	// tokens are revoked and no REST call is attempted.
	ErrPortalUninstalled = errors.New("portal uninstalled the app")

	// ErrNeedsAttention means the OAuth server refused the refresh token
	// (invalid_grant, invalid_client or PAYMENT_REQUIRED). The portal row is
	// marked with the reason; only an administrator opening the app or paying
	// for it gives new tokens.
	ErrNeedsAttention = errors.New("portal needs the administrator's attention")

	// ErrOverloaded means Bitrix24 blocked the app on this portal with
	// OVERLOAD_LIMIT, and calls are paused for a cool-down period.
	ErrOverloaded = errors.New("portal blocked calls with OVERLOAD_LIMIT")

	// ErrAmbiguous means a request may or may not have been executed (timeout,
	// connection reset, 5xx without an error code) and was not retried because
	// the method is not idempotent. The caller must deduplicate before trying again.
	ErrAmbiguous = errors.New("request outcome unknown")

	// ErrOAuthUnavailable means the OAuth server failed with a 5xx status or
	// could not be reached; the refresh can be tried again later.
	ErrOAuthUnavailable = errors.New("oauth server unavailable")

	// ErrInvalidEndpoint means a portal or OAuth address is not an https URL
	// of a public host (see ValidateEndpoint).
	ErrInvalidEndpoint = errors.New("invalid endpoint")

	// ErrNoTokens means the portal row holds no access token to call with.
	ErrNoTokens = errors.New("portal has no stored tokens")

	// ErrBatchTooLong means a batch had more than MaxBatchCommands commands; it
	// is rejected before anything is sent.
	ErrBatchTooLong = errors.New("batch has too many commands")
)

// IsAmbiguous reports whether err means a request may have been executed
// although no result arrived.
func IsAmbiguous(err error) bool { return errors.Is(err, ErrAmbiguous) }
