package handlers

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"log/slog"
	"strings"

	"github.com/labstack/echo/v4"
)

// Errors of the operator API's authentication.
var (
	// errOperatorDisabled is returned by every operator route when
	// OPERATOR_API_KEY is not configured.
	errOperatorDisabled = errors.New("operator API disabled")
	// errOperatorUnauthorized is returned for a request without the
	// operator API key or with a wrong one.
	errOperatorUnauthorized = errors.New("missing or wrong operator API key")
)

// requireOperatorKey admits requests whose Authorization header is
// "Bearer <key>". Both sides are hashed before the constant-time compare,
// so neither the key's content nor its length leaks through timing. Failures
// are logged with the client address, never with what was sent.
func requireOperatorKey(key string, log *slog.Logger) echo.MiddlewareFunc {
	enabled := key != ""
	want := sha256.Sum256([]byte(key))
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if !enabled {
				return errOperatorDisabled
			}
			sent, ok := bearerToken(c.Request().Header.Get(echo.HeaderAuthorization))
			got := sha256.Sum256([]byte(sent))
			if !ok || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
				reason := "wrong key"
				if !ok {
					reason = "no bearer token"
				}
				log.WarnContext(c.Request().Context(), "Operator API authentication failed",
					"remote_ip", c.RealIP(), "route", c.Path(), "reason", reason)
				c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="operator"`)
				return errOperatorUnauthorized
			}
			return next(c)
		}
	}
}

// bearerToken returns the credentials of an "Authorization: Bearer <token>"
// header. The scheme "Bearer" is matched case-insensitively.
func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}
