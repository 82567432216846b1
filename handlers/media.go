package handlers

import (
	"context"
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/wabridge/b24wa/connector/bridge"
)

// MediaSource opens re-hosted WhatsApp media by the token of its URL.
// *bridge.Bridge implements it.
type MediaSource interface {
	OpenMedia(ctx context.Context, token string) (*bridge.Media, error)
}

var _ MediaSource = (*bridge.Bridge)(nil)

// RegisterMedia adds GET /media/:token/:name, the URLs the bridge gives
// Bitrix24 for customer media, and the same without the name. An unknown
// token gets 404 and an expired one 410, with no detail in the body.
func RegisterMedia(e *echo.Echo, src MediaSource) {
	h := func(c echo.Context) error { return serveMedia(c, src) }
	e.GET("/media/:token", h)
	e.HEAD("/media/:token", h)
	e.GET("/media/:token/:name", h)
	e.HEAD("/media/:token/:name", h)
}

func serveMedia(c echo.Context, src MediaSource) error {
	m, err := src.OpenMedia(c.Request().Context(), c.Param("token"))
	if err != nil {
		return err
	}
	defer m.Content.Close()

	h := c.Response().Header()
	h.Set(echo.HeaderContentType, m.MimeType)
	h.Set("Content-Disposition", mime.FormatMediaType(dispositionFor(m.MimeType), map[string]string{"filename": m.Name}))
	h.Set("Cache-Control", "private, max-age=3600")
	// The file came from a stranger: a browser must never run it as a page.
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("X-Robots-Tag", "noindex")
	http.ServeContent(c.Response(), c.Request(), "", m.Created, m.Content)
	return nil
}

// dispositionFor shows media a browser renders safely inline and offers
// everything else, HTML and SVG included, as a download.
func dispositionFor(mimeType string) string {
	base, _, _ := mime.ParseMediaType(mimeType)
	switch {
	case base == "image/svg+xml":
		return "attachment"
	case strings.HasPrefix(base, "image/"), strings.HasPrefix(base, "video/"), strings.HasPrefix(base, "audio/"),
		base == "application/pdf":
		return "inline"
	}
	return "attachment"
}
