package handlers

import (
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/wabridge/b24wa/connector"
	"github.com/wabridge/b24wa/internal/dbtest"
)

// createLink creates a scan link through the settings API and returns its
// token and URL path.
func (env *pagesEnv) createLink(page openedPage) (token, path string) {
	env.t.Helper()
	rec := env.api(page, http.MethodPost, "/scan-links", nil)
	if rec.Code != http.StatusCreated {
		env.t.Fatalf("create scan link: %d %s", rec.Code, rec.Body.String())
	}
	body := jsonOf[scanLinkJSON](env.t, rec)
	if !strings.HasPrefix(body.URL, env.deps.PublicURL+"/link/") || !strings.HasSuffix(body.URL, body.Token) {
		env.t.Fatalf("link URL %q is not PUBLIC_URL/link/<token>", body.URL)
	}
	return body.Token, "/link/" + body.Token
}

func TestScanLinkCreateAndRevoke(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newPagesEnv(t, db, pagesEnvOptions{})
		page := env.openSettings(1, "ru")

		rec := env.api(page, http.MethodPost, "/scan-links", nil)
		created := jsonOf[scanLinkJSON](t, rec)
		if len(created.Token) != 43 || created.ExpiresIn != 15*60 {
			t.Errorf("created link token length %d, expires in %d s; want 43 and 900", len(created.Token), created.ExpiresIn)
		}
		var stored connector.ScanLink
		if err := db.Last(&stored).Error; err != nil {
			t.Fatal(err)
		}
		if stored.TokenHash != connector.HashScanLinkToken(created.Token) || stored.CreatedBy != 1 || stored.Lang != "ru" {
			t.Errorf("stored link = %+v, want the token's hash, creator 1 and language ru", stored)
		}
		if strings.Contains(env.logs.String(), created.Token) {
			t.Error("the log contains a scan link token")
		}

		reopened := env.openSettings(1, "ru")
		if !strings.Contains(reopened.body, `data-expires-in="900"`) {
			t.Error("the reopened page does not show the open link's remaining time")
		}

		second, _ := env.createLink(page)
		if _, err := env.links.Resolve(context.Background(), created.Token); err != connector.ErrScanLinkRevoked {
			t.Errorf("first link after a second was created: %v, want revoked", err)
		}
		if rec := env.api(page, http.MethodDelete, "/scan-links", nil); rec.Code != http.StatusOK {
			t.Fatalf("revoke: %d", rec.Code)
		}
		if _, err := env.links.Resolve(context.Background(), second); err != connector.ErrScanLinkRevoked {
			t.Errorf("second link after revoke: %v, want revoked", err)
		}
	})
}

func TestScanLinkPairing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newPagesEnv(t, db, pagesEnvOptions{})
		token, path := env.createLink(env.openSettings(1, "en"))

		rec := env.get(path, "text/html")
		if rec.Code != http.StatusOK {
			t.Fatalf("link page: %d %s", rec.Code, rec.Body.String())
		}
		body := rec.Body.String()
		headers := map[string]string{
			"Cache-Control":   "no-store",
			"Referrer-Policy": "no-referrer",
			"X-Robots-Tag":    "noindex, nofollow",
		}
		for name, want := range headers {
			if got := rec.Header().Get(name); got != want {
				t.Errorf("%s = %q, want %q", name, got, want)
			}
		}
		if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("CSP %q lets other sites frame the link page", csp)
		}
		for _, want := range []string{`<meta name="robots" content="noindex, nofollow">`, env.fake.Domain(), "Open line 3", "Link with phone number instead"} {
			if !strings.Contains(html.UnescapeString(body), want) {
				t.Errorf("link page lacks %q", want)
			}
		}

		line := env.line()
		qr := env.waitQR(line.ID)
		status := jsonOf[statusBody](t, env.get(path+"/status", "application/json"))
		if status.Step != connector.PairingQR || status.QR != qrVersion(qr) {
			t.Fatalf("status = %+v, want the current QR code", status)
		}
		if status.LinkExpiresIn == nil || *status.LinkExpiresIn != 900 {
			t.Errorf("link_expires_in = %v, want 900", status.LinkExpiresIn)
		}
		img := env.get(path+"/qr.png?v="+status.QR, "image/png")
		if got := decodeQR(t, img.Body.Bytes()); got != qr {
			t.Errorf("link QR image decodes to %q, want %q", got, qr)
		}

		if _, err := env.sim.Scan(qr, "79991234567", "Helper"); err != nil {
			t.Fatal(err)
		}
		env.waitLinked()
		var done statusBody
		env.waitFor("success on the link page", func() bool {
			done = jsonOf[statusBody](t, env.get(path+"/status", "application/json"))
			return done.Step == connector.PairingSuccess
		})
		if done.Phone != "+7 999 123-45-67" {
			t.Errorf("success phone = %q, want +7 999 123-45-67", done.Phone)
		}
		if _, err := env.links.Resolve(context.Background(), token); err != connector.ErrScanLinkUsed {
			t.Errorf("link after pairing: %v, want used", err)
		}
		rows, err := env.mgr.Lines().DeviceSessions(context.Background(), line.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || rows[0].LinkedVia != connector.LinkedViaScanLink {
			t.Errorf("device sessions = %+v, want one linked via scan_link", rows)
		}

		again := env.get(path, "text/html")
		if again.Code != http.StatusGone || !strings.Contains(again.Body.String(), "already used") {
			t.Errorf("opening a used link: %d, want 410 saying it was used", again.Code)
		}
	})
}

func TestScanLinkDeadLinks(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newPagesEnv(t, db, pagesEnvOptions{})
		page := env.openSettings(1, "en")

		unknown := "/link/" + strings.Repeat("Q", 43)
		expiredToken, expired := env.createLink(page)
		env.clock.Advance(15 * time.Minute)
		_, revoked := env.createLink(page)
		env.api(page, http.MethodDelete, "/scan-links", nil)

		cases := []struct {
			name, path string
			status     int
			text       string
		}{
			{"unknown", unknown, http.StatusNotFound, "does not exist"},
			{"malformed", "/link/short", http.StatusNotFound, "does not exist"},
			{"expired", expired, http.StatusGone, "expired"},
			{"revoked", revoked, http.StatusGone, "revoked"},
		}
		for _, tc := range cases {
			rec := env.get(tc.path, "text/html")
			if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.text) {
				t.Errorf("%s page: %d, want %d saying %q", tc.name, rec.Code, tc.status, tc.text)
			}
			if rec.Header().Get("X-Robots-Tag") == "" || rec.Header().Get(echo.HeaderCacheControl) != "no-store" {
				t.Errorf("%s page lacks noindex or no-store", tc.name)
			}
			if strings.Contains(rec.Body.String(), env.fake.Domain()) {
				t.Errorf("%s page names the portal", tc.name)
			}
			status := env.get(tc.path+"/status", "application/json")
			if status.Code != tc.status || !strings.Contains(jsonOf[errorJSON](t, status).Message, tc.text) {
				t.Errorf("%s status: %d, want %d", tc.name, status.Code, tc.status)
			}
		}
		if strings.Contains(env.logs.String(), expiredToken) {
			t.Error("the log contains a scan link token")
		}
	})
}

func TestScanLinkLanguage(t *testing.T) {
	env := newPagesEnv(t, dbtest.SQLite(t), pagesEnvOptions{})
	_, path := env.createLink(env.openSettings(1, "ru"))

	ru := env.get(path, "text/html").Body.String()
	if !strings.Contains(ru, `lang="ru"`) || !strings.Contains(ru, "Подключите номер WhatsApp") || !strings.Contains(ru, `href="?lang=en"`) {
		t.Error("a link created in Russian does not open in Russian with a switch to English")
	}
	en := env.get(path+"?lang=en", "text/html").Body.String()
	if !strings.Contains(en, `lang="en"`) || !strings.Contains(en, "Link a WhatsApp number") || !strings.Contains(en, `href="?lang=ru"`) {
		t.Error("?lang=en does not switch the page to English")
	}
}

func TestScanLinkRateLimit(t *testing.T) {
	limit := RateLimit{PerSecond: 0.01, Burst: 3}
	env := newPagesEnv(t, dbtest.SQLite(t), pagesEnvOptions{ClientLimit: limit, LinkLimit: RateLimit{PerSecond: 0.01, Burst: 5}})
	_, path := env.createLink(env.openSettings(1, "en"))

	for i := range 3 {
		if rec := env.get(path+"/status", "application/json"); rec.Code != http.StatusOK {
			t.Fatalf("request %d: %d, want 200 within the burst", i+1, rec.Code)
		}
	}
	rec := env.get(path+"/status", "application/json")
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
		t.Errorf("fourth request from one client: %d, Retry-After %q; want 429 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
	}
	if msg := jsonOf[errorJSON](t, rec).Message; !strings.Contains(msg, "Too many requests") {
		t.Errorf("429 message = %q", msg)
	}
	page := env.get(path, "text/html")
	if page.Code != http.StatusTooManyRequests || !strings.Contains(page.Body.String(), "Wait a minute") {
		t.Errorf("page over the limit: %d, want a 429 page", page.Code)
	}

	// Other clients share the link's own, larger budget.
	codes := []int{}
	for i := range 3 {
		req := httptest.NewRequest(http.MethodGet, path+"/status", nil)
		req.RemoteAddr = "198.51.100." + itoa(uint64(i+1)) + ":4000"
		codes = append(codes, env.serve(req).Code)
	}
	if codes[0] != http.StatusOK || codes[1] != http.StatusOK || codes[2] != http.StatusTooManyRequests {
		t.Errorf("requests from new clients = %v, want the link limit to stop the third", codes)
	}
}

func TestKeyedLimiterBounded(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newKeyedLimiter(RateLimit{PerSecond: 1, Burst: 2}, 10, func() time.Time { return now })
	for i := range 25 {
		l.allow("client-" + itoa(uint64(i)))
	}
	if n := l.size(); n > 10 {
		t.Errorf("limiter keeps %d buckets, want at most 10", n)
	}

	l.allow("a")
	l.allow("a")
	if ok, wait := l.allow("a"); ok || wait <= 0 {
		t.Errorf("third request in the same instant: allowed=%v wait=%v, want refused with a wait", ok, wait)
	}
	now = now.Add(time.Second)
	if ok, _ := l.allow("a"); !ok {
		t.Error("a token should refill after one second")
	}
}

func TestScanLinkPhoneCode(t *testing.T) {
	env := newPagesEnv(t, dbtest.SQLite(t), pagesEnvOptions{})
	_, path := env.createLink(env.openSettings(1, "en"))
	env.get(path, "text/html")

	req := httptest.NewRequest(http.MethodPost, path+"/phone", strings.NewReader(url.Values{"phone": {"+7 (999) 123 45 67"}}.Encode()))
	req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
	rec := env.serve(req)
	st := jsonOf[statusBody](t, rec)
	if rec.Code != http.StatusOK || st.Step != connector.PairingCode || len(st.Code) != 9 {
		t.Fatalf("phone code on the link page: %d %+v", rec.Code, st)
	}
	if _, err := env.sim.EnterCode(strings.ReplaceAll(st.Code, "-", ""), "79991234567", "Helper"); err != nil {
		t.Fatal(err)
	}
	if line := env.waitLinked(); line.Phone != "79991234567" {
		t.Errorf("linked phone %q, want 79991234567", line.Phone)
	}
}

func TestScanLinkRestartsWhileOpen(t *testing.T) {
	env := newPagesEnv(t, dbtest.SQLite(t), pagesEnvOptions{})
	_, path := env.createLink(env.openSettings(1, "en"))
	env.get(path, "text/html")
	lineID := env.line().ID
	first := env.waitQR(lineID)

	// WhatsApp's QR session ends after 60 s plus five 20-second codes. The
	// open page polls throughout, so pairing starts again with a new code.
	seen := map[string]bool{first: true}
	for range 12 {
		env.clock.Advance(20 * time.Second)
		rec := env.get(path+"/status", "application/json")
		if rec.Code != http.StatusOK {
			t.Fatalf("status: %d %s", rec.Code, rec.Body.String())
		}
		time.Sleep(20 * time.Millisecond)
		if st, err := env.mgr.PairingStatus(context.Background(), lineID); err == nil && st.QR != "" {
			seen[st.QR] = true
		}
	}
	final := jsonOf[statusBody](t, env.get(path+"/status", "application/json"))
	if final.Step == connector.PairingExpired || final.Step == connector.PairingFailed {
		t.Errorf("after 4 minutes with the page open the step is %q, want a running attempt", final.Step)
	}
	if len(seen) < 6 {
		t.Errorf("saw %d distinct codes in 4 minutes, want the code to keep rotating", len(seen))
	}
}
