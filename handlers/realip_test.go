package handlers

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
)

func TestRealIPIgnoresForwardedHeaderByDefault(t *testing.T) {
	_, proxies, _ := net.ParseCIDR("10.0.0.0/8")
	cases := []struct {
		name    string
		trusted []*net.IPNet
		peer    string
		want    string
	}{
		{"no trusted proxy", nil, "10.1.2.3:5000", "10.1.2.3"},
		{"trusted proxy", []*net.IPNet{proxies}, "10.1.2.3:5000", "198.51.100.7"},
		{"untrusted peer", []*net.IPNet{proxies}, "192.0.2.1:5000", "192.0.2.1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := NewEcho(Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), TrustedProxies: tc.trusted})
			var got string
			e.GET("/ip", func(c echo.Context) error { got = c.RealIP(); return nil })
			req := httptest.NewRequest(http.MethodGet, "/ip", nil)
			req.RemoteAddr = tc.peer
			req.Header.Set(echo.HeaderXForwardedFor, "198.51.100.7")
			e.ServeHTTP(httptest.NewRecorder(), req)
			if got != tc.want {
				t.Errorf("RealIP = %q, want %q", got, tc.want)
			}
		})
	}
}
