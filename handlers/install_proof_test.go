package handlers

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wabridge/b24wa/internal/database"
	"github.com/wabridge/b24wa/portal"
	"github.com/wabridge/b24wa/portal/b24fake"
)

func TestInstallPageRejectsMemberIDOfAnotherPortal(t *testing.T) {
	eachPortal(t, b24fake.Options{NotInstalled: true}, func(t *testing.T, f *portalFixture) {
		attacker := b24fake.New(b24fake.Options{NotInstalled: true})
		t.Cleanup(attacker.Close)
		query, body := attacker.PlacementValues(b24fake.PlacementForm{Lang: "en", OmitApplicationToken: true})
		body.Set("member_id", f.fake.MemberID())
		res := f.post("/install?"+query.Encode(), echo.MIMEApplicationForm, body.Encode())

		if res.status != http.StatusForbidden {
			t.Fatalf("status %d, want 403: %s", res.status, res.body)
		}
		if strings.Contains(res.body, `data-install-finish="1"`) {
			t.Error("a rejected install still calls installFinish")
		}
		if !strings.Contains(res.body, "did not confirm the authorization") {
			t.Errorf("page does not name the verify step:\n%s", res.body)
		}
		if n := f.portalCount(); n != 0 {
			t.Fatalf("%d portals stored with another portal's member_id", n)
		}

		p := f.install()
		if p.ClientEndpoint != f.fake.ClientEndpoint() {
			t.Errorf("the victim's install stored endpoint %q, want %q", p.ClientEndpoint, f.fake.ClientEndpoint())
		}
	})
}

func TestInstallPageOAuthUnavailable(t *testing.T) {
	eachPortal(t, b24fake.Options{NotInstalled: true}, func(t *testing.T, f *portalFixture) {
		f.fake.OnOAuthError(1, http.StatusBadGateway, "", "")
		path, body := f.installerPost("en")
		res := f.post(path, echo.MIMEApplicationForm, body)
		if res.status != http.StatusServiceUnavailable {
			t.Fatalf("status %d, want 503: %s", res.status, res.body)
		}
		if !strings.Contains(res.body, "Reload this page in a few minutes") {
			t.Errorf("page does not ask to try again later:\n%s", res.body)
		}
		if n := f.portalCount(); n != 0 {
			t.Errorf("%d portals stored", n)
		}
	})
}

func TestInstallPageTimesOutOnSilentPortal(t *testing.T) {
	eachPortal(t, b24fake.Options{NotInstalled: true}, func(t *testing.T, f *portalFixture) {
		release := make(chan struct{})
		silent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}))
		t.Cleanup(func() {
			close(release)
			silent.Close()
		})
		silentURL, err := url.Parse(silent.URL)
		if err != nil {
			t.Fatal(err)
		}

		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		client := portal.NewClient(f.store, portal.ClientOptions{ClientID: f.fake.ClientID(),
			ClientSecret: f.fake.ClientSecret(), AllowInsecureHTTP: true, RetryBaseDelay: time.Millisecond, Log: log})
		installer := portal.NewInstaller(f.store, client, portal.InstallOptions{ConnectorID: portalTestConnector,
			PublicURL: portalTestPublicURL, AllowInsecureHTTP: true, Timeout: 300 * time.Millisecond, Log: log})
		e := NewEcho(Options{Log: log, DB: f.db, Dialect: string(database.DialectOf(f.db))})
		RegisterPortal(e, PortalDeps{Log: log, Installer: installer})

		path, body := f.installerPost("ru")
		path = strings.Replace(path, "DOMAIN="+url.QueryEscape(f.fake.Domain()), "DOMAIN="+url.QueryEscape(silentURL.Host), 1)
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
		done := make(chan struct{})
		go func() {
			e.ServeHTTP(rec, req)
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatal("install still running 20 s after its 300 ms deadline")
		}

		if rec.Code != http.StatusGatewayTimeout {
			t.Errorf("status %d, want 504", rec.Code)
		}
		page := rec.Body.String()
		if !strings.Contains(page, "Ваш Битрикс24 не подтвердил авторизацию") {
			t.Errorf("page does not name the verify step in Russian:\n%s", page)
		}
		if !strings.Contains(page, "Ваш Битрикс24 не ответил вовремя") {
			t.Errorf("page does not say that Bitrix24 did not answer in time:\n%s", page)
		}
		if strings.Contains(page, `data-install-finish="1"`) {
			t.Error("a timed-out install still calls installFinish")
		}
		if n := f.portalCount(); n != 0 {
			t.Errorf("%d portals stored", n)
		}
	})
}
