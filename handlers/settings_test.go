package handlers

import (
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/wabridge/b24wa/connector"
	"github.com/wabridge/b24wa/internal/dbtest"
	"github.com/wabridge/b24wa/portal"
	"github.com/wabridge/b24wa/portal/b24fake"
)

func TestSettingsPageUnlinked(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newPagesEnv(t, db, pagesEnvOptions{})
		rec := env.serve(env.settingsRequest(1, "en"))
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
		}
		body := rec.Body.String()

		csp := rec.Header().Get("Content-Security-Policy")
		origin := "http://" + env.fake.Domain()
		if !strings.Contains(csp, "frame-ancestors 'self' "+origin) {
			t.Errorf("CSP %q does not let the portal %s frame the page", csp, origin)
		}
		if got := rec.Header().Get(echo.HeaderCacheControl); got != "no-store" {
			t.Errorf("Cache-Control = %q, want no-store", got)
		}
		if !strings.Contains(body, `data-action="start"`) || !strings.Contains(body, "Link device") {
			t.Error("an administrator sees no Link device button")
		}
		if dataAttr(t, body, "data-token") == "" {
			t.Error("the page carries no frame token")
		}
		if strings.Contains(body, "<script>") || strings.Contains(body, " style=") {
			t.Error("the page has an inline script or style, which the CSP blocks")
		}
		line := env.line()
		if line.State != connector.StateNew || line.ConnectorID != pagesConnector {
			t.Errorf("line row = state %q connector %q, want new and %s", line.State, line.ConnectorID, pagesConnector)
		}
		if !strings.Contains(body, dataAttr(t, body, "data-api")) || dataAttr(t, body, "data-api") != "/api/lines/"+itoa(line.ID) {
			t.Errorf("data-api = %q, want /api/lines/%d", dataAttr(t, body, "data-api"), line.ID)
		}
	})
}

func TestSettingsPageRussian(t *testing.T) {
	env := newPagesEnv(t, dbtest.SQLite(t), pagesEnvOptions{})
	page := env.openSettings(1, "ru")
	for _, want := range []string{`lang="ru"`, "Подключить устройство", "Связанные устройства", "Не подключено"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("Russian page lacks %q", want)
		}
	}
}

func TestSettingsPairingByQR(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newPagesEnv(t, db, pagesEnvOptions{})
		page := env.openSettings(1, "en")

		rec := env.api(page, http.MethodPost, "/pairing", nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("start pairing: %d %s", rec.Code, rec.Body.String())
		}
		qr := env.waitQR(env.line().ID)

		status := jsonOf[statusBody](t, env.api(page, http.MethodGet, "/pairing", nil))
		if status.Step != connector.PairingQR || status.QR != qrVersion(qr) {
			t.Fatalf("status = %+v, want step qr with version %s", status, qrVersion(qr))
		}
		if status.QRExpiresIn <= 0 || status.QRExpiresIn > 60 {
			t.Errorf("qr_expires_in = %d, want 1..60 s for the first code", status.QRExpiresIn)
		}
		if strings.Contains(env.api(page, http.MethodGet, "/pairing", nil).Body.String(), qr) {
			t.Error("the status JSON contains the QR code itself")
		}

		again := jsonOf[statusBody](t, env.api(page, http.MethodPost, "/pairing", nil))
		if again.QR != status.QR {
			t.Errorf("second start shows code %s, want the running attempt's %s", again.QR, status.QR)
		}

		img := env.serve(httptest.NewRequest(http.MethodGet, page.api+"/qr.png?v="+status.QR+"&t="+url.QueryEscape(page.token), nil))
		if img.Code != http.StatusOK || img.Header().Get(echo.HeaderContentType) != "image/png" {
			t.Fatalf("qr.png: %d %s", img.Code, img.Header().Get(echo.HeaderContentType))
		}
		if got := decodeQR(t, img.Body.Bytes()); got != qr {
			t.Errorf("QR image decodes to %q, want the current code %q", got, qr)
		}
		if img.Header().Get(echo.HeaderCacheControl) != "no-store" {
			t.Error("the QR image may be cached")
		}

		if _, err := env.sim.Scan(qr, "79123456789", "Shop"); err != nil {
			t.Fatal(err)
		}
		env.waitLinked()
		var done statusBody
		env.waitFor("status success", func() bool {
			done = jsonOf[statusBody](t, env.api(page, http.MethodGet, "/pairing", nil))
			return done.Step == connector.PairingSuccess
		})
		if done.Phone != "+7 912 345-67-89" {
			t.Errorf("success phone = %q, want +7 912 345-67-89", done.Phone)
		}

		panel := html.UnescapeString(env.api(page, http.MethodGet, "/panel", nil).Body.String())
		for _, want := range []string{"+7 912 345-67-89", "Shop", "Connected", "data-session", `data-action="logout-ask"`} {
			if !strings.Contains(panel, want) {
				t.Errorf("panel after pairing lacks %q", want)
			}
		}
		if strings.Contains(panel, `data-action="start"`) {
			t.Error("a linked line still offers Link device")
		}
	})
}

func TestSettingsQRRotates(t *testing.T) {
	env := newPagesEnv(t, dbtest.SQLite(t), pagesEnvOptions{})
	page := env.openSettings(1, "en")
	env.api(page, http.MethodPost, "/pairing", nil)
	first := env.waitQR(env.line().ID)

	env.clock.Advance(61 * time.Second)
	var second statusBody
	env.waitFor("a new code", func() bool {
		second = jsonOf[statusBody](t, env.api(page, http.MethodGet, "/pairing", nil))
		return second.Step == connector.PairingQR && second.QR != qrVersion(first)
	})
	img := env.serve(httptest.NewRequest(http.MethodGet, page.api+"/qr.png?t="+url.QueryEscape(page.token), nil))
	if got := decodeQR(t, img.Body.Bytes()); qrVersion(got) != second.QR {
		t.Errorf("image after rotation decodes to a code of version %s, want %s", qrVersion(got), second.QR)
	}
	if second.QRExpiresIn <= 0 || second.QRExpiresIn > 20 {
		t.Errorf("qr_expires_in of a later code = %d, want 1..20 s", second.QRExpiresIn)
	}
}

func TestSettingsPairingByPhoneCode(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newPagesEnv(t, db, pagesEnvOptions{})
		page := env.openSettings(1, "en")

		rec := env.api(page, http.MethodPost, "/pairing/phone", url.Values{"phone": {"8 (912) 345-67-89"}})
		if rec.Code != http.StatusOK {
			t.Fatalf("pair by phone: %d %s", rec.Code, rec.Body.String())
		}
		st := jsonOf[statusBody](t, rec)
		if st.Step != connector.PairingCode || len(st.Code) != 9 || st.Code[4] != '-' {
			t.Fatalf("status = %+v, want step code with an XXXX-XXXX code", st)
		}
		if _, err := env.sim.EnterCode(strings.ReplaceAll(st.Code, "-", ""), "79123456789", "Shop"); err != nil {
			t.Fatal(err)
		}
		line := env.waitLinked()
		if line.Phone != "79123456789" {
			t.Errorf("linked phone = %q, want 79123456789", line.Phone)
		}
	})
}

func TestSettingsPhoneCodeErrors(t *testing.T) {
	env := newPagesEnv(t, dbtest.SQLite(t), pagesEnvOptions{})
	page := env.openSettings(1, "en")
	cases := []struct {
		phone  string
		status int
		text   string
	}{
		{"", http.StatusBadRequest, "Enter the phone number"},
		{"123", http.StatusBadRequest, "too short"},
		{"0912 345 67 89", http.StatusBadRequest, "international form"},
		{"+7 912 abc", http.StatusBadRequest, "only digits"},
	}
	for _, tc := range cases {
		rec := env.api(page, http.MethodPost, "/pairing/phone", url.Values{"phone": {tc.phone}})
		body := jsonOf[errorJSON](t, rec)
		if rec.Code != tc.status || !strings.Contains(body.Message, tc.text) {
			t.Errorf("phone %q: %d %q, want %d with %q", tc.phone, rec.Code, body.Message, tc.status, tc.text)
		}
	}

	var last *httptest.ResponseRecorder
	for range 4 {
		last = env.api(page, http.MethodPost, "/pairing/phone", url.Values{"phone": {"+7 912 345-67-89"}})
	}
	body := jsonOf[errorJSON](t, last)
	if last.Code != http.StatusTooManyRequests || !strings.Contains(body.Message, "temporarily limited") {
		t.Errorf("fourth code request: %d %q, want 429 saying WhatsApp limited the requests", last.Code, body.Message)
	}
}

func TestSettingsLogoutAndRelink(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newPagesEnv(t, db, pagesEnvOptions{})
		page := env.openSettings(1, "en")
		env.pairOnPage(page, "79123456789")

		rec := env.api(page, http.MethodPost, "/logout", nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("logout: %d %s", rec.Code, rec.Body.String())
		}
		line := env.line()
		if line.State != connector.StateLoggedOut || line.WaJID != "" {
			t.Errorf("after logout state %q jid %q, want logged_out without a device", line.State, line.WaJID)
		}
		rows, err := env.mgr.Lines().DeviceSessions(context.Background(), line.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || rows[0].LoggedOutAt == nil || rows[0].LogoutReason != logoutReasonOwner {
			t.Fatalf("device sessions = %+v, want one closed with reason owner", rows)
		}
		panel := env.api(page, http.MethodGet, "/panel", nil).Body.String()
		for _, want := range []string{`data-action="start"`, "Logged out", "logged out by an administrator"} {
			if !strings.Contains(panel, want) {
				t.Errorf("panel after logout lacks %q", want)
			}
		}
		if again := env.api(page, http.MethodPost, "/logout", nil); again.Code != http.StatusOK {
			t.Errorf("second logout: %d, want 200", again.Code)
		}

		env.pairOnPage(page, "79123456789")
		panel = env.api(page, http.MethodGet, "/panel", nil).Body.String()
		if n := strings.Count(panel, "data-session"); n != 2 {
			t.Errorf("panel lists %d device sessions after linking again, want 2", n)
		}
	})
}

// pairOnPage links phone through the page's API and the simulator.
func (env *pagesEnv) pairOnPage(page openedPage, phone string) {
	env.t.Helper()
	if rec := env.api(page, http.MethodPost, "/pairing", nil); rec.Code != http.StatusOK {
		env.t.Fatalf("start pairing: %d %s", rec.Code, rec.Body.String())
	}
	qr := env.waitQR(env.line().ID)
	if _, err := env.sim.Scan(qr, phone, "Shop"); err != nil {
		env.t.Fatal(err)
	}
	env.waitLinked()
}

func TestSettingsNonAdminReadOnly(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newPagesEnv(t, db, pagesEnvOptions{})
		env.openSettings(1, "en") // an administrator's visit creates the line
		page := env.openSettings(pagesViewerID, "en")
		if !strings.Contains(page.body, "read-only") {
			t.Error("a non-administrator is not told the page is read-only")
		}
		for _, button := range []string{`data-action="start"`, `data-action="create-link"`, `data-action="logout-ask"`} {
			if strings.Contains(page.body, button) {
				t.Errorf("a non-administrator sees %s", button)
			}
		}

		for _, call := range []struct{ method, path string }{
			{http.MethodPost, "/pairing"}, {http.MethodPost, "/pairing/phone"}, {http.MethodPost, "/logout"},
			{http.MethodPost, "/scan-links"}, {http.MethodDelete, "/scan-links"},
		} {
			rec := env.api(page, call.method, call.path, url.Values{"phone": {"+79123456789"}})
			body := jsonOf[errorJSON](t, rec)
			if rec.Code != http.StatusForbidden || !strings.Contains(body.Message, "administrator") {
				t.Errorf("%s %s: %d %q, want 403 naming administrators", call.method, call.path, rec.Code, body.Message)
			}
		}
		if rec := env.api(page, http.MethodGet, "/pairing", nil); rec.Code != http.StatusOK {
			t.Errorf("status for a non-administrator: %d, want 200", rec.Code)
		}
	})
}

func TestSettingsExpiredFrameToken(t *testing.T) {
	env := newPagesEnv(t, dbtest.SQLite(t), pagesEnvOptions{})
	page := env.openSettings(1, "en")
	env.expireFrameTokens()

	rec := env.api(page, http.MethodGet, "/pairing", nil)
	body := jsonOf[errorJSON](t, rec)
	if rec.Code != http.StatusUnauthorized || !strings.Contains(body.Message, "Reopen") {
		t.Errorf("expired token: %d %q, want 401 asking to reopen the page", rec.Code, body.Message)
	}
	if rec := env.api(page, http.MethodPost, "/pairing", nil); rec.Code != http.StatusUnauthorized {
		t.Errorf("start with an expired token: %d, want 401", rec.Code)
	}
}

func TestSettingsForgedPlacement(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newPagesEnv(t, db, pagesEnvOptions{})
		cases := map[string]func(q, b url.Values){
			"forged AUTH_ID":         func(_, b url.Values) { b.Set("AUTH_ID", "0123456789abcdef0123456789abcdef") },
			"unknown member_id":      func(_, b url.Values) { b.Set("member_id", "ffffffffffffffffffffffffffffffff") },
			"wrong app token":        func(_, b url.Values) { b.Set("APPLICATION_TOKEN", "0000") },
			"another connector":      func(_, b url.Values) { b.Set("PLACEMENT_OPTIONS", `{"CONNECTOR":"other","LINE":"3"}`) },
			"malformed options JSON": func(_, b url.Values) { b.Set("PLACEMENT_OPTIONS", `{"LINE":`) },
		}
		for name, forge := range cases {
			query, body := env.fake.PlacementValues(b24fake.PlacementForm{
				Placement: portal.PlacementSettingConnector,
				Options:   env.fake.SettingConnectorOptions(pagesConnector, pagesLine),
			})
			forge(query, body)
			req := httptest.NewRequest(http.MethodPost, "/settings?"+query.Encode(), strings.NewReader(body.Encode()))
			req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
			req.Header.Set(echo.HeaderAccept, "text/html,application/xhtml+xml")
			rec := env.serve(req)
			if rec.Code < 400 || rec.Code >= 500 {
				t.Errorf("%s: status %d, want a 4xx error page", name, rec.Code)
			}
			if strings.Contains(rec.Body.String(), "data-token") || !strings.Contains(rec.Body.String(), "<html") {
				t.Errorf("%s: want an HTML error page without a frame token, got %s", name, rec.Body.String())
			}
		}
		var n int64
		if err := db.Model(&connector.Line{}).Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("forged placements created %d line rows", n)
		}
	})
}

func TestSettingsGetExplains(t *testing.T) {
	env := newPagesEnv(t, dbtest.SQLite(t), pagesEnvOptions{})
	for _, target := range []string{"/settings", "/", "/app"} {
		rec := env.get(target, "text/html")
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "opens inside Bitrix24") {
			t.Errorf("GET %s: %d, want a page that says to open it from Bitrix24", target, rec.Code)
		}
	}
}

func TestSettingsWrongPlacement(t *testing.T) {
	env := newPagesEnv(t, dbtest.SQLite(t), pagesEnvOptions{})
	req := env.fake.NewPlacementRequest("/settings", b24fake.PlacementForm{Placement: portal.PlacementDefault})
	req.Header.Set(echo.HeaderAccept, "text/html")
	rec := env.serve(req)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "Contact Center") {
		t.Errorf("DEFAULT placement on /settings: %d, want 400 pointing to Contact Center", rec.Code)
	}
}

func TestSettingsLineOfAnotherPortal(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newPagesEnv(t, db, pagesEnvOptions{})
		page := env.openSettings(1, "en")
		other, err := env.portals.Upsert(context.Background(), portal.Install{MemberID: "other-member", Domain: "other.bitrix24.com"})
		if err != nil {
			t.Fatal(err)
		}
		foreign, err := env.mgr.Lines().Ensure(context.Background(), other.ID, "3", pagesConnector, "")
		if err != nil {
			t.Fatal(err)
		}
		page.api = "/api/lines/" + itoa(foreign.ID)
		for _, path := range []string{"/pairing", "/panel", "/qr.png"} {
			if rec := env.api(page, http.MethodGet, path, nil); rec.Code != http.StatusNotFound {
				t.Errorf("GET %s of another portal's line: %d, want 404", path, rec.Code)
			}
		}
		if rec := env.api(page, http.MethodPost, "/pairing", nil); rec.Code != http.StatusNotFound {
			t.Errorf("start pairing on another portal's line: %d, want 404", rec.Code)
		}
	})
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }
