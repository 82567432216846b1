package handlers

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wabridge/b24wa/migrations"
)

func registerHealth(e *echo.Echo, opts Options) {
	healthz := func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
	}
	e.GET("/healthz", healthz)
	e.HEAD("/healthz", healthz)
	e.GET("/readyz", func(c echo.Context) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
		defer cancel()
		sqlDB, err := opts.DB.DB()
		if err == nil {
			err = sqlDB.PingContext(ctx)
		}
		if err != nil {
			opts.Log.Warn("Readiness check: database unreachable", "error", err)
			return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "database unreachable"})
		}
		if err := migrations.Check(ctx, sqlDB, opts.Dialect); err != nil {
			return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "schema not current", "detail": err.Error()})
		}
		return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
	})
	metrics := promhttp.Handler()
	if opts.Metrics != nil {
		metrics = promhttp.HandlerFor(opts.Metrics, promhttp.HandlerOpts{})
	}
	e.GET("/metrics", echo.WrapHandler(metrics))
}
