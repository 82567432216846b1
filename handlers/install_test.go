package handlers

import (
	"net/http"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/wabridge/b24wa/portal"
	"github.com/wabridge/b24wa/portal/b24fake"
)

func TestInstallPageCallsInstallFinish(t *testing.T) {
	eachPortal(t, b24fake.Options{NotInstalled: true}, func(t *testing.T, f *portalFixture) {
		path, body := f.installerPost("en")
		res := f.post(path, echo.MIMEApplicationForm, body)
		if res.status != http.StatusOK {
			t.Fatalf("status %d: %s", res.status, res.body)
		}
		for _, want := range []string{`data-install-finish="1"`, `src="https://api.bitrix24.com/api/v1/"`,
			`/static/js/install.js`, "WhatsApp connector installed"} {
			if !strings.Contains(res.body, want) {
				t.Errorf("page lacks %s", want)
			}
		}
		csp := res.header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors 'self' "+f.fake.URL()) {
			t.Errorf("CSP = %q, want frame-ancestors with the portal origin", csp)
		}
		if xfo := res.header.Get("X-Frame-Options"); xfo != "" {
			t.Errorf("X-Frame-Options = %q, want none", xfo)
		}

		if len(f.fake.Connectors()) != 1 || len(f.fake.BoundEvents()) != len(portal.EventBindings) {
			t.Errorf("%d connectors and %d bindings after install", len(f.fake.Connectors()), len(f.fake.BoundEvents()))
		}
		if p := f.portal(); p.ClientEndpoint != f.fake.ClientEndpoint() {
			t.Errorf("stored endpoint %q", p.ClientEndpoint)
		}
	})
}

func TestInstallPageFailureKeepsInstallOpen(t *testing.T) {
	eachPortal(t, b24fake.Options{NotInstalled: true}, func(t *testing.T, f *portalFixture) {
		path, body := f.installerPost("ru")
		access := strings.SplitN(strings.TrimPrefix(body, "AUTH_ID="), "&", 2)[0]
		res := f.post(path, echo.MIMEApplicationForm, strings.Replace(body, access, "forged", 1))
		if res.status != http.StatusForbidden {
			t.Fatalf("status %d, want 403", res.status)
		}
		for _, banned := range []string{"install.js", `data-install-finish="1"`, "api.bitrix24.com"} {
			if strings.Contains(res.body, banned) {
				t.Errorf("failed install page contains %s", banned)
			}
		}
		if !strings.Contains(res.body, "Ваш Битрикс24 не подтвердил авторизацию") {
			t.Errorf("page does not name the failed step in Russian:\n%s", res.body)
		}
		if !strings.Contains(res.header.Get("Content-Security-Policy"), "frame-ancestors 'self' https://"+f.fake.Domain()) {
			t.Errorf("error page cannot be framed by the portal: %s", res.header.Get("Content-Security-Policy"))
		}
		if n := f.portalCount(); n != 0 {
			t.Errorf("%d portals stored by a failed install", n)
		}
	})
}

func TestInstallPageRegisterFailure(t *testing.T) {
	eachPortal(t, b24fake.Options{NotInstalled: true}, func(t *testing.T, f *portalFixture) {
		f.fake.OnError("event.bind", 1, http.StatusBadRequest, "ERROR_EVENT_NOT_FOUND", "Event not found")
		path, body := f.installerPost("en")
		res := f.post(path, echo.MIMEApplicationForm, body)
		if res.status != http.StatusBadGateway {
			t.Fatalf("status %d, want 502", res.status)
		}
		if strings.Contains(res.body, "install.js") {
			t.Error("a failed binding still calls installFinish")
		}
		if !strings.Contains(res.body, "refused to subscribe the app to Open Lines events") {
			t.Errorf("page does not name the bind step:\n%s", res.body)
		}
	})
}

func TestInstallPageRejectsPrivateDomain(t *testing.T) {
	eachPortal(t, b24fake.Options{NotInstalled: true}, func(t *testing.T, f *portalFixture) {
		for _, domain := range []string{"169.254.169.254", "10.1.2.3", "192.168.0.1", "[fd00::1]"} {
			_, body := f.installerPost("en")
			res := f.post("/install?PROTOCOL=1&LANG=en&DOMAIN="+domain, echo.MIMEApplicationForm, body)
			if res.status != http.StatusBadRequest {
				t.Errorf("DOMAIN %s: status %d, want 400", domain, res.status)
			}
			if !strings.Contains(res.body, "not a public https address") {
				t.Errorf("DOMAIN %s: page does not explain the address", domain)
			}
		}
		if n := len(f.fake.Calls()); n != 0 {
			t.Errorf("%d REST calls were made", n)
		}
		if n := f.portalCount(); n != 0 {
			t.Errorf("%d portals stored", n)
		}
	})
}

func TestInstallPageRejectsBadBodies(t *testing.T) {
	eachPortal(t, b24fake.Options{NotInstalled: true}, func(t *testing.T, f *portalFixture) {
		path, body := f.installerPost("en")
		cases := []struct {
			name, contentType, body string
			status                  int
		}{
			{"JSON body", echo.MIMEApplicationJSON, `{"AUTH_ID":"x"}`, http.StatusUnsupportedMediaType},
			{"huge body", echo.MIMEApplicationForm, body + "&pad=" + strings.Repeat("a", DefaultMaxInstallBytes), http.StatusRequestEntityTooLarge},
			{"malformed key", echo.MIMEApplicationForm, body + "&a[b=1", http.StatusBadRequest},
			{"bad options", echo.MIMEApplicationForm, strings.Replace(body, "%7B%22any", "%5B%22any", 1), http.StatusBadRequest},
			{"no member_id", echo.MIMEApplicationForm, strings.Replace(body, "member_id=", "x=", 1), http.StatusBadRequest},
		}
		for _, tc := range cases {
			res := f.post(path, tc.contentType, tc.body)
			if res.status != tc.status {
				t.Errorf("%s: status %d, want %d", tc.name, res.status, tc.status)
			}
			if strings.Contains(res.body, "install.js") {
				t.Errorf("%s: page calls installFinish", tc.name)
			}
		}
		if n := f.portalCount(); n != 0 {
			t.Errorf("%d portals stored", n)
		}
	})
}

func TestInstallOpenedDirectly(t *testing.T) {
	eachPortal(t, b24fake.Options{}, func(t *testing.T, f *portalFixture) {
		req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/install", nil)
		req.Header.Set("Accept-Language", "ru-RU,ru;q=0.9")
		res := f.do(req)
		if res.status != http.StatusOK || !strings.Contains(res.body, "Установите приложение из Битрикс24 Маркета") {
			t.Errorf("GET /install: %d\n%s", res.status, res.body)
		}
		head, _ := http.NewRequest(http.MethodHead, f.srv.URL+"/install", nil)
		if res := f.do(head); res.status != http.StatusOK || res.body != "" {
			t.Errorf("HEAD /install: %d %q", res.status, res.body)
		}
	})
}

func TestInstallRouteAcceptsAppInstallEvent(t *testing.T) {
	eachPortal(t, b24fake.Options{}, func(t *testing.T, f *portalFixture) {
		res := f.send("/install", portal.EventAppInstall, map[string]any{"VERSION": "1"}, b24fake.WithRefreshToken())
		if res.status != http.StatusOK {
			t.Fatalf("status %d: %s", res.status, res.body)
		}
		token, err := f.store.ApplicationToken(f.portal())
		if err != nil || token != f.fake.ApplicationToken() {
			t.Errorf("application token not stored (err %v)", err)
		}
	})
}

func TestInstallPageStoresApplicationToken(t *testing.T) {
	eachPortal(t, b24fake.Options{NotInstalled: true}, func(t *testing.T, f *portalFixture) {
		res := f.do(f.fake.NewPlacementRequest(f.srv.URL+"/install", b24fake.PlacementForm{Lang: "en"}))
		if res.status != http.StatusOK || !strings.Contains(res.body, `data-install-finish="1"`) {
			t.Fatalf("status %d: %s", res.status, res.body)
		}
		f.fake.FinishInstall()

		if token, err := f.store.ApplicationToken(f.portal()); err != nil || token != f.fake.ApplicationToken() {
			t.Errorf("APPLICATION_TOKEN of the installer POST was not stored (err %v)", err)
		}
		if res := f.send("/events", portal.EventMessageAdd, operatorMessage(portalTestConnector)); res.status != http.StatusOK {
			t.Errorf("event after an install with APPLICATION_TOKEN: %d %s", res.status, res.body)
		}
	})
}
