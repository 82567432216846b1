package handlers

import (
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wabridge/b24wa/connector"
	"github.com/wabridge/b24wa/static"
)

// scanLinkVia is PairingOptions.Via for pairing through a public link.
const scanLinkVia = "scan_link"

// errRateLimited is returned by the public routes for a client or link past
// its request rate; the response carries Retry-After.
var errRateLimited = errors.New("too many requests")

// errLineAlreadyLinked is returned by the scan link page for a line that
// already has a linked WhatsApp device.
var errLineAlreadyLinked = errors.New("line already has a linked WhatsApp device")

// scanLinks serves the public pairing link, opened by someone without
// access to the portal.
type scanLinks struct {
	deps   *PageDeps
	pages  *Pages
	client *keyedLimiter
	link   *keyedLimiter
}

// RegisterScanLinks adds the public scan link routes. None of them starts
// pairing on a line that already has a device. They return 409 and end the
// link instead.
//
//	GET  /link/:token           the page (starts pairing)
//	GET  /link/:token/status    pairing status as JSON, polled by the page
//	GET  /link/:token/qr.png    the current QR code
//	POST /link/:token/pairing   start pairing again after it expired
//	POST /link/:token/phone     pair with a code typed on the phone
func RegisterScanLinks(e *echo.Echo, deps *PageDeps) {
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	clientLimit, linkLimit := deps.ScanLinkClientLimit, deps.ScanLinkLinkLimit
	if clientLimit.Burst == 0 {
		clientLimit = DefaultScanLinkClientLimit
	}
	if linkLimit.Burst == 0 {
		linkLimit = DefaultScanLinkLinkLimit
	}
	h := &scanLinks{
		deps:   deps,
		pages:  deps.pages(),
		client: newKeyedLimiter(clientLimit, 10000, deps.now),
		link:   newKeyedLimiter(linkLimit, 10000, deps.now),
	}
	g := e.Group("/link/:token", h.headers, h.rateLimit)
	g.GET("", h.page)
	g.GET("/status", h.status)
	g.GET("/qr.png", h.qr)
	g.POST("/pairing", h.restart)
	g.POST("/phone", h.phone)
}

// headers keeps the link out of caches, referrers and search engines. The
// default CSP already forbids framing.
func (h *scanLinks) headers(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		hdr := c.Response().Header()
		hdr.Set(echo.HeaderCacheControl, "no-store")
		hdr.Set("Referrer-Policy", "no-referrer")
		hdr.Set("X-Robots-Tag", "noindex, nofollow")
		setPageLang(c, static.Lang(c.QueryParam("lang")))
		return next(c)
	}
}

// rateLimit applies the per-client and the per-link limits. The link key is
// the token's hash, so no token is kept in memory longer than a request.
func (h *scanLinks) rateLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ok, wait := h.client.allow(c.RealIP())
		if ok {
			ok, wait = h.link.allow(connector.HashScanLinkToken(c.Param("token")))
		}
		if !ok {
			c.Response().Header().Set("Retry-After", strconv.Itoa(int(wait.Round(time.Second)/time.Second)+1))
			return errRateLimited
		}
		return next(c)
	}
}

// lang is the page language: ?lang when given, else the link creator's.
func (h *scanLinks) lang(c echo.Context, link *connector.ScanLink) string {
	if v := c.QueryParam("lang"); v == "ru" || v == "en" {
		return v
	}
	if link != nil && link.Lang != "" {
		return static.Lang(link.Lang)
	}
	return requestLang(c)
}

// resolve finds the link of the request's token. Errors are the
// connector.ErrScanLink* values, answered 404 or 410 by errorHandler in the
// language of the link when it is known.
func (h *scanLinks) resolve(c echo.Context) (*connector.ScanLink, error) {
	link, err := h.deps.Links.Resolve(c.Request().Context(), c.Param("token"))
	setPageLang(c, h.lang(c, link))
	return link, err
}
