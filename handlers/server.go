// Package handlers is the HTTP layer: echo routes and middleware that parse
// and validate requests, call the portal and connector services, and render
// pages from static/. Errors become responses in one place, errorHandler.
package handlers

import (
	"log/slog"
	"net"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm"
)

// Options are the dependencies of the HTTP layer.
type Options struct {
	Log        *slog.Logger
	DB         *gorm.DB
	Dialect    string
	PublicURL  string
	Production bool
	// Pages renders HTML; nil builds its own.
	Pages *Pages
	// Metrics is the registry served at /metrics; nil serves Prometheus's
	// default registry.
	Metrics prometheus.Gatherer
	// TrustedProxies are the networks of reverse proxies whose
	// X-Forwarded-For header names the client. Without any, the client is
	// the peer address, so rate limits cannot be dodged with a forged header.
	TrustedProxies []*net.IPNet
}

// NewEcho builds the router with every route and middleware.
func NewEcho(opts Options) *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.IPExtractor = echo.ExtractIPDirect()
	if len(opts.TrustedProxies) > 0 {
		trust := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
		for _, n := range opts.TrustedProxies {
			trust = append(trust, echo.TrustIPRange(n))
		}
		e.IPExtractor = echo.ExtractIPFromXFFHeader(trust...)
	}
	pages := opts.Pages
	if pages == nil {
		pages = NewPages()
	}
	e.HTTPErrorHandler = errorHandler(opts.Log, pages)

	e.Use(middleware.RequestIDWithConfig(middleware.RequestIDConfig{
		TargetHeader: echo.HeaderXRequestID,
	}))
	e.Use(accessLog(opts.Log))
	e.Use(recoverPanics(opts.Log))
	e.Use(securityHeaders)
	e.Use(middleware.BodyLimit("20M"))

	registerHealth(e, opts)
	registerStatic(e)
	return e
}
