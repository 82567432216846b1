package handlers

import (
	"net/http"

	"github.com/wabridge/b24wa/connector"
	"github.com/wabridge/b24wa/connector/mail"
	"github.com/wabridge/b24wa/connector/wa"
)

// settingsErrors maps the domain errors of this area to responses: the line
// and pairing errors of the session manager, the phone number errors of
// pairing by code, and e-mail errors of sending a scan link.
var settingsErrors = []errorMapping{
	{connector.ErrLineNotFound, http.StatusNotFound, "pages.settings.line_not_found"},
	{connector.ErrNotLinked, http.StatusConflict, "pages.settings.not_linked"},
	{connector.ErrPairingNotRunning, http.StatusConflict, "pages.pairing.not_running"},
	{connector.ErrLineSuspended, http.StatusConflict, "pages.pairing.suspended"},
	{connector.ErrNotOwner, http.StatusServiceUnavailable, "pages.pairing.not_owner"},
	{connector.ErrNumberLinkedElsewhere, http.StatusConflict, "pages.pairing.linked_elsewhere"},
	{connector.ErrWrongNumber, http.StatusConflict, "pages.pairing.wrong_number"},
	{wa.ErrPhoneInvalid, http.StatusBadRequest, "pages.pairing.phone_invalid"},
	{wa.ErrPhoneTooShort, http.StatusBadRequest, "pages.pairing.phone_too_short"},
	{wa.ErrPhoneTooLong, http.StatusBadRequest, "pages.pairing.phone_too_long"},
	{wa.ErrPhoneNotInternational, http.StatusBadRequest, "pages.pairing.phone_not_international"},
	{wa.ErrPairRateLimited, http.StatusTooManyRequests, "pages.pairing.rate_limited"},
	{wa.ErrClientOutdated, http.StatusServiceUnavailable, "pages.pairing.client_outdated"},
	{errWrongPlacement, http.StatusBadRequest, "pages.settings.wrong_placement"},
	{errMailDisabled, http.StatusNotFound, "pages.mail.disabled"},
	{mail.ErrInvalidAddress, http.StatusBadRequest, "pages.mail.invalid_address"},
	{mail.ErrSendFailed, http.StatusBadGateway, "pages.mail.failed"},
	{errMailRateLimited, http.StatusTooManyRequests, "pages.mail.rate_limited"},
}
