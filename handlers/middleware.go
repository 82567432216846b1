package handlers

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// accessLog logs one line per request. Query strings are left out because
// Bitrix24 and scan links put tokens there.
func accessLog(log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err)
			}
			req, res := c.Request(), c.Response()
			level := slog.LevelInfo
			if res.Status >= 500 {
				level = slog.LevelError
			} else if c.Path() == "/healthz" || c.Path() == "/readyz" || c.Path() == "/metrics" {
				level = slog.LevelDebug
			} else if req.Method == http.MethodGet && strings.HasPrefix(c.Path(), "/simulator/") {
				// The sandbox page polls the simulator's state every second.
				level = slog.LevelDebug
			}
			log.LogAttrs(req.Context(), level, "HTTP request",
				slog.String("request_id", res.Header().Get(echo.HeaderXRequestID)),
				slog.String("method", req.Method),
				slog.String("route", c.Path()),
				slog.Int("status", res.Status),
				slog.Int64("bytes", res.Size),
				slog.Duration("elapsed", time.Since(start)),
				slog.String("remote_ip", c.RealIP()),
			)
			return nil
		}
	}
}

// recoverPanics turns a panic in a handler into a 500 and logs its stack.
func recoverPanics(log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			defer func() {
				if r := recover(); r != nil {
					log.Error("Handler panicked", "route", c.Path(), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
					err = fmt.Errorf("handler panic: %v", r)
				}
			}()
			return next(c)
		}
	}
}

// securityHeaders sets the headers every response carries. Pages meant for
// the Bitrix24 iframe replace the frame-ancestors directive with the portal's
// origin; everything else may not be framed at all.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", csp("'none'"))
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		return next(c)
	}
}

// csp builds the Content-Security-Policy for our pages with the given
// frame-ancestors source list. BX24.js is loaded from api.bitrix24.com.
func csp(frameAncestors string) string {
	return "default-src 'self'; img-src 'self' data:; style-src 'self'; " +
		"script-src 'self' https://api.bitrix24.com; connect-src 'self'; " +
		"base-uri 'none'; form-action 'self'; frame-ancestors " + frameAncestors
}

// allowFraming lets the portal at origin frame the current response.
func allowFraming(c echo.Context, origin string) {
	c.Response().Header().Set("Content-Security-Policy", csp("'self' "+origin))
}
