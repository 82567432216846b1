package handlers

import (
	"context"
	"io"
	"log/slog"

	"github.com/labstack/echo/v4"

	"github.com/wabridge/b24wa/portal"
)

// Default body limits of the Bitrix24 routes. An event with one message
// and its file list is a few kilobytes; the limit leaves room for long texts
// and several messages without letting a forged body use much memory.
const (
	DefaultMaxEventBytes   = 1 << 20
	DefaultMaxInstallBytes = 256 << 10
)

// PortalDeps are the dependencies of the install and event routes.
type PortalDeps struct {
	Log       *slog.Logger
	Pages     *Pages // nil builds its own
	Installer PageInstaller
	Events    EventHandler
	// FormLimits bound the form parser; zero fields take its defaults.
	FormLimits portal.FormLimits
	// MaxEventBytes and MaxInstallBytes bound request bodies (defaults
	// DefaultMaxEventBytes and DefaultMaxInstallBytes).
	MaxEventBytes   int64
	MaxInstallBytes int64
	// BX24ScriptURL replaces DefaultBX24ScriptURL on the installer page.
	BX24ScriptURL string
}

// PageInstaller runs the installer POST. portal.Installer implements it.
type PageInstaller interface {
	InstallFromPage(ctx context.Context, req portal.InstallRequest) (*portal.Portal, error)
}

// EventHandler verifies and handles one Bitrix24 event. portal.Dispatcher
// implements it.
type EventHandler interface {
	HandleEvent(ctx context.Context, ev *portal.Event) error
}

var (
	_ PageInstaller = (*portal.Installer)(nil)
	_ EventHandler  = (*portal.Dispatcher)(nil)
)

// RegisterPortal mounts the routes Bitrix24 calls: POST /install (the
// installer page, and ONAPPINSTALL when the app card sends it there), GET and
// HEAD /install for browsers that open the address directly, and POST
// /events for bound events.
func RegisterPortal(e *echo.Echo, deps PortalDeps) {
	if deps.Log == nil {
		deps.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if deps.Pages == nil {
		deps.Pages = NewPages()
	}
	if deps.MaxEventBytes <= 0 {
		deps.MaxEventBytes = DefaultMaxEventBytes
	}
	if deps.MaxInstallBytes <= 0 {
		deps.MaxInstallBytes = DefaultMaxInstallBytes
	}
	h := &portalHandlers{deps: deps}
	e.POST("/install", h.install)
	e.GET("/install", h.installInfo)
	e.HEAD("/install", h.installInfo)
	e.POST("/events", h.event)
}

// portalHandlers serves the routes of RegisterPortal.
type portalHandlers struct {
	deps PortalDeps
}

func (h *portalHandlers) bx24Script() string {
	switch h.deps.BX24ScriptURL {
	case "":
		return DefaultBX24ScriptURL
	case "-":
		return ""
	}
	return h.deps.BX24ScriptURL
}
