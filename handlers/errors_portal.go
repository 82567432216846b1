package handlers

import (
	"net/http"

	"github.com/wabridge/b24wa/portal"
)

// portalErrors maps the domain errors of the Bitrix24 side to responses.
// Specific event errors come before the general ones they may be wrapped
// with.
var portalErrors = []errorMapping{
	{portal.ErrApplicationTokenMismatch, http.StatusForbidden, "portal.error.application_token_mismatch"},
	{portal.ErrEventUnknownPortal, http.StatusForbidden, "portal.error.event_unknown_portal"},
	{portal.ErrEventWrongConnector, http.StatusForbidden, "portal.error.event_wrong_connector"},
	{portal.ErrEventUnverified, http.StatusForbidden, "portal.error.event_unverified"},
	{portal.ErrTokensNotVerified, http.StatusForbidden, "portal.error.tokens_not_verified"},
	{portal.ErrMalformedEvent, http.StatusBadRequest, "portal.error.malformed_event"},
	{portal.ErrMalformedForm, http.StatusBadRequest, "portal.error.malformed_form"},
	{portal.ErrMalformedPlacement, http.StatusBadRequest, "portal.error.malformed_placement"},
	{portal.ErrInstallMissingField, http.StatusBadRequest, "portal.error.install_missing_field"},
	{portal.ErrRegistrationFailed, http.StatusBadGateway, "portal.error.registration_failed"},
	{portal.ErrFrameTokenExpired, http.StatusUnauthorized, "portal.error.frame_token_expired"},
	{portal.ErrFrameTokenInvalid, http.StatusUnauthorized, "portal.error.frame_token_invalid"},
	{portal.ErrFrameUserNotVerified, http.StatusUnauthorized, "portal.error.frame_user_not_verified"},
	{portal.ErrFrameNotAdmin, http.StatusForbidden, "portal.error.frame_not_admin"},
	{portal.ErrFramePortalUnknown, http.StatusForbidden, "portal.error.frame_portal_unknown"},
	{portal.ErrPortalNotFound, http.StatusNotFound, "portal.error.portal_not_found"},
	{portal.ErrPortalUninstalled, http.StatusGone, "portal.error.portal_uninstalled"},
	{portal.ErrNeedsAttention, http.StatusServiceUnavailable, "portal.error.needs_attention"},
	{portal.ErrOverloaded, http.StatusServiceUnavailable, "portal.error.unavailable"},
	{portal.ErrOAuthUnavailable, http.StatusServiceUnavailable, "portal.error.unavailable"},
	{errBodyTooLarge, http.StatusRequestEntityTooLarge, "portal.error.body_too_large"},
	{errNotForm, http.StatusUnsupportedMediaType, "portal.error.not_form"},
}
