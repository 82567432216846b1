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
// Internal error text is logged, never shown. A browser navigating to a page
// gets an HTML error page from pages; scripts get JSON whose "message" is
// the translated text to show. pages may be nil, which means JSON only.
func errorHandler(log *slog.Logger, pages *Pages) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		status, key, detail := classify(err)
		if status >= 500 {
			log.ErrorContext(c.Request().Context(), "Request failed", "route", c.Path(),
				"request_id", c.Response().Header().Get(echo.HeaderXRequestID), "error", err)
		}
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(status)
			return
		}
		if pages == nil {
			_ = c.JSON(status, errorBody(key, detail, ""))
			return
		}
		lang := requestLang(c)
		messageKey := userMessageKey(pages, status, key, detail)
		if wantsHTML(c) {
			if err := pages.RenderError(c, status, lang, messageKey); err != nil {
				log.ErrorContext(c.Request().Context(), "Rendering the error page failed", "error", err)
				_ = c.String(status, http.StatusText(status))
			}
			return
		}
		_ = c.JSON(status, errorBody(key, detail, pages.T(lang, messageKey)))
	}
}

func errorBody(key, detail, message string) map[string]string {
	body := map[string]string{"error": key}
	if detail != "" {
		body["detail"] = detail
	}
	if message != "" {
		body["message"] = message
	}
	return body
}

// userMessageKey picks the translation key of the text a user sees: the
// mapped domain error's key, or an echo.HTTPError message that is itself a
// key, or a generic text for the status.
func userMessageKey(pages *Pages, status int, key, detail string) string {
	switch {
	case pages.catalog.Has(key):
		return key
	case pages.catalog.Has(detail):
		return detail
	case status == http.StatusBadRequest:
		return "error.bad_request"
	case status == http.StatusUnauthorized:
		return "pages.error.unauthorized"
	case status == http.StatusForbidden:
		return "pages.error.forbidden"
	case status == http.StatusNotFound:
		return "error.not_found"
	case status == http.StatusMethodNotAllowed:
		return "pages.error.method"
	case status == http.StatusTooManyRequests:
		return "pages.error.rate_limited"
	case status >= 500:
		return "error.internal"
	}
	return "error.bad_request"
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
