package handlers

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"
)

// errorMapping is one row of the table that turns a domain error into a
// response: its status and the translation key of the message users see.
type errorMapping struct {
	target error
	status int
	key    string
}

// errorTables lists the domain errors the services return, one table per
// area (each in its own file), most specific first. Anything not listed is an
// internal error.
func errorTables() [][]errorMapping {
	return [][]errorMapping{portalErrors, settingsErrors, scanLinkErrors, bridgeErrors, billingErrors}
}

// errorHandler is the only place where errors become HTTP responses.
// Internal error text is logged, never shown.
func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		status, key, detail := classify(err)
		if status >= 500 {
			log.ErrorContext(c.Request().Context(), "Request failed", "route", c.Path(),
				"request_id", c.Response().Header().Get(echo.HeaderXRequestID), "error", err)
		}
		body := map[string]string{"error": key}
		if detail != "" {
			body["detail"] = detail
		}
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(status)
			return
		}
		_ = c.JSON(status, body)
	}
}

// classify returns the status, message key and a user-safe detail for err.
func classify(err error) (int, string, string) {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		msg, _ := he.Message.(string)
		return he.Code, http.StatusText(he.Code), msg
	}
	for _, table := range errorTables() {
		for _, m := range table {
			if errors.Is(err, m.target) {
				return m.status, m.key, ""
			}
		}
	}
	return http.StatusInternalServerError, "internal_error", ""
}
