package handlers

import (
	"io/fs"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/wabridge/b24wa/static"
)

// registerStatic serves the stylesheets, scripts and images of static/
// under /static/. Templates and translations are not served. URLs made by
// the templates' asset function carry a content hash (?v=), so those
// responses may be cached for a year; others are revalidated.
func registerStatic(e *echo.Echo) {
	files := http.FileServer(http.FS(static.Assets()))
	handler := http.StripPrefix("/static/", files)
	serve := func(c echo.Context) error {
		name := c.Param("*")
		dir, _, _ := strings.Cut(name, "/")
		if dir != "css" && dir != "js" && dir != "img" {
			return echo.ErrNotFound
		}
		if _, err := fs.Stat(static.Assets(), name); err != nil {
			return echo.ErrNotFound
		}
		if c.QueryParam("v") != "" {
			c.Response().Header().Set(echo.HeaderCacheControl, "public, max-age=31536000, immutable")
		} else {
			c.Response().Header().Set(echo.HeaderCacheControl, "no-cache")
		}
		handler.ServeHTTP(c.Response(), c.Request())
		return nil
	}
	e.GET("/static/*", serve)
	e.HEAD("/static/*", serve)
}
