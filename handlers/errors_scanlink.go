package handlers

import (
	"net/http"

	"github.com/wabridge/b24wa/connector"
)

// scanLinkErrors maps the domain errors of this area to responses. An
// unknown token is 404; a link that existed but can no longer be used is 410.
var scanLinkErrors = []errorMapping{
	{connector.ErrScanLinkNotFound, http.StatusNotFound, "pages.scanlink.not_found"},
	{connector.ErrScanLinkExpired, http.StatusGone, "pages.scanlink.expired"},
	{connector.ErrScanLinkRevoked, http.StatusGone, "pages.scanlink.revoked"},
	{connector.ErrScanLinkUsed, http.StatusGone, "pages.scanlink.used"},
	{errLineAlreadyLinked, http.StatusConflict, "pages.scanlink.already_linked"},
	{errRateLimited, http.StatusTooManyRequests, "pages.error.rate_limited"},
}
