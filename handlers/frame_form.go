package handlers

import (
	"errors"
	"fmt"
	"io"
	"mime"

	"github.com/labstack/echo/v4"

	"github.com/wabridge/b24wa/portal"
)

// Errors of reading a Bitrix24 form body, mapped in errors_portal.go.
var (
	// errBodyTooLarge means the body is longer than the route accepts.
	errBodyTooLarge = errors.New("request body is too large")
	// errNotForm means the body is not application/x-www-form-urlencoded.
	errNotForm = errors.New("request body is not a form")
)

// readForm reads an application/x-www-form-urlencoded body of at most
// maxBytes and parses it with PHP bracket keys.
func readForm(c echo.Context, maxBytes int64, limits portal.FormLimits) (*portal.Node, error) {
	req := c.Request()
	mediaType, _, err := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
	if err != nil || mediaType != echo.MIMEApplicationForm {
		return nil, fmt.Errorf("%w: Content-Type is %q, expected %s", errNotForm,
			req.Header.Get(echo.HeaderContentType), echo.MIMEApplicationForm)
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	if int64(len(body)) > maxBytes {
		return nil, fmt.Errorf("%w: more than %d bytes", errBodyTooLarge, maxBytes)
	}
	return portal.ParseForm(string(body), limits)
}
