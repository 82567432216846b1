package portal

import "errors"

// Sentinel errors of the inbound side: events, the install flow and iframe
// authentication. The handlers map each to an HTTP status and a message key.
var (
	// ErrMalformedEvent means an event body could not be parsed or lacks a
	// field its kind requires.
	ErrMalformedEvent = errors.New("malformed event")

	// ErrInstallMissingField means an installer POST lacks DOMAIN, AUTH_ID
	// or member_id, or one of them is not in the expected form. It also means
	// that an install of a new member_id lacks the refresh token (REFRESH_ID
	// or auth[refresh_token]) that proves it.
	ErrInstallMissingField = errors.New("install request is missing a required field")

	// ErrTokensNotVerified means app.info rejected the tokens of an install
	// request, or its result did not match this app, or the OAuth server
	// rejected the refresh token or issued it for another member_id or host.
	ErrTokensNotVerified = errors.New("tokens were not accepted by the portal")

	// ErrRegistrationFailed means imconnector.register, event.get,
	// event.unbind or event.bind failed during an install or update.
	ErrRegistrationFailed = errors.New("connector registration failed")

	// ErrEventUnverified means an event lacks what verification needs
	// (auth[member_id], auth[application_token], a stored token to compare
	// with) or is for a portal that uninstalled the app.
	ErrEventUnverified = errors.New("event could not be verified")

	// ErrEventUnknownPortal means no portal is stored for auth[member_id].
	ErrEventUnknownPortal = errors.New("event is for an unknown portal")

	// ErrApplicationTokenMismatch means auth[application_token] (or a
	// placement's APPLICATION_TOKEN) differs from the one stored for the
	// portal.
	ErrApplicationTokenMismatch = errors.New("application token does not match")

	// ErrEventWrongConnector means a connector event names another
	// connector than ours, or none.
	ErrEventWrongConnector = errors.New("event is for another connector")

	// ErrMalformedPlacement means a placement POST lacks member_id or
	// AUTH_ID, or its PLACEMENT_OPTIONS is not a JSON object.
	ErrMalformedPlacement = errors.New("malformed placement request")

	// ErrFramePortalUnknown means a placement POST names a member_id that
	// has not installed the app, or uninstalled it.
	ErrFramePortalUnknown = errors.New("app is not installed on this portal")

	// ErrFrameUserNotVerified means user.current or user.admin did not
	// accept the AUTH_ID of a placement POST.
	ErrFrameUserNotVerified = errors.New("user could not be verified with the portal")

	// ErrFrameTokenExpired means an iframe token was valid but has expired;
	// the page must be opened again from Bitrix24.
	ErrFrameTokenExpired = errors.New("page token expired")

	// ErrFrameTokenInvalid means an iframe token is missing, malformed or
	// not signed by this app.
	ErrFrameTokenInvalid = errors.New("page token is invalid")

	// ErrFrameNotAdmin means the action needs a portal administrator.
	ErrFrameNotAdmin = errors.New("action requires a portal administrator")
)
