package handlers

import (
	"net/http"

	"github.com/wabridge/b24wa/connector/bridge"
)

// bridgeErrors maps the domain errors of this area to responses.
var bridgeErrors = []errorMapping{
	{bridge.ErrMediaExpired, http.StatusGone, "bridge.media_expired"},
	{bridge.ErrMediaNotFound, http.StatusNotFound, "error.not_found"},
}
