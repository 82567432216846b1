package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wabridge/b24wa/portal"
	"github.com/wabridge/b24wa/portal/b24fake"
)

// frameToken authenticates a SETTING_CONNECTOR placement of a user.
func (f *portalFixture) frameToken(userID int, admin bool) *portal.FrameUser {
	f.t.Helper()
	access, refresh := f.fake.IssueTokens(userID, admin)
	form, err := portal.ParseForm(url.Values{"AUTH_ID": {access}, "REFRESH_ID": {refresh}, "member_id": {f.fake.MemberID()},
		"PLACEMENT": {"SETTING_CONNECTOR"}, "PLACEMENT_OPTIONS": {`{"CONNECTOR":"acme_wa","LINE":"3"}`}}.Encode(), portal.FormLimits{})
	if err != nil {
		f.t.Fatal(err)
	}
	req, err := portal.ParsePlacementRequest(url.Values{"LANG": {"ru"}, "DOMAIN": {f.fake.Domain()}}, form)
	if err != nil {
		f.t.Fatal(err)
	}
	user, err := f.auth.AuthenticatePlacement(context.Background(), req)
	if err != nil {
		f.t.Fatal(err)
	}
	return user
}

// mountFrameRoutes adds a page that echoes the frame user and an
// administrators-only action.
func (f *portalFixture) mountFrameRoutes() {
	show := func(c echo.Context) error { return c.JSON(http.StatusOK, frameUser(c)) }
	f.e.GET("/test/frame", show, requireFrame(f.auth))
	f.e.POST("/test/frame", show, requireFrame(f.auth))
	f.e.POST("/test/admin", show, requireFrame(f.auth), requireAdmin)
}

func (f *portalFixture) get(path string, header http.Header) response {
	f.t.Helper()
	req, err := http.NewRequest(http.MethodGet, f.srv.URL+path, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	return f.do(req)
}

func TestRequireFrameAcceptsToken(t *testing.T) {
	eachPortal(t, b24fake.Options{NotInstalled: true}, func(t *testing.T, f *portalFixture) {
		f.install()
		f.mountFrameRoutes()
		user := f.frameToken(1, true)

		responses := map[string]response{
			"header": f.get("/test/frame", http.Header{FrameTokenHeader: {user.Token}}),
			"query":  f.get("/test/frame?t="+url.QueryEscape(user.Token), nil),
			"form":   f.post("/test/frame", echo.MIMEApplicationForm, "t="+url.QueryEscape(user.Token)),
		}
		for name, res := range responses {
			if res.status != http.StatusOK {
				t.Errorf("%s: status %d: %s", name, res.status, res.body)
				continue
			}
			var got portal.FrameUser
			if err := json.Unmarshal([]byte(res.body), &got); err != nil {
				t.Fatal(err)
			}
			if got.UserID != 1 || !got.Admin || got.Line != "3" || got.Lang != "ru" {
				t.Errorf("%s: frame user = %+v", name, got)
			}
			if csp := res.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'self' "+f.fake.URL()) {
				t.Errorf("%s: CSP = %q", name, csp)
			}
			if res.header.Get("X-Frame-Options") != "" {
				t.Errorf("%s: X-Frame-Options is set", name)
			}
		}
	})
}

func TestRequireFrameRejectsBadTokens(t *testing.T) {
	eachPortal(t, b24fake.Options{NotInstalled: true}, func(t *testing.T, f *portalFixture) {
		f.install()
		f.mountFrameRoutes()
		user := f.frameToken(1, true)
		payload, _, _ := strings.Cut(user.Token, ".")

		cases := map[string]struct {
			token, key, text string
		}{
			"missing": {"", "portal.error.frame_token_invalid", "Reopen the page from Bitrix24"},
			"forged":  {payload + ".AAAA", "portal.error.frame_token_invalid", "Reopen the page from Bitrix24"},
		}
		for name, tc := range cases {
			res := f.get("/test/frame", http.Header{FrameTokenHeader: {tc.token}, "Accept-Language": {"en"}})
			assertJSONError(t, name, res, http.StatusUnauthorized, tc.key, tc.text)
		}

		f.clock = f.clock.Add(time.Hour + time.Second)
		res := f.get("/test/frame", http.Header{FrameTokenHeader: {user.Token}, "Accept-Language": {"en"}})
		assertJSONError(t, "expired", res, http.StatusUnauthorized, "portal.error.frame_token_expired", "expired. Reopen it from Bitrix24")
	})
}

func TestRequireAdminReadOnlyUser(t *testing.T) {
	eachPortal(t, b24fake.Options{NotInstalled: true}, func(t *testing.T, f *portalFixture) {
		f.install()
		f.mountFrameRoutes()
		reader := f.frameToken(7, false)
		if reader.Admin {
			t.Fatal("a user without admin rights got an administrator token")
		}
		req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/test/admin", nil)
		req.Header.Set(FrameTokenHeader, reader.Token)
		req.Header.Set("Accept-Language", "en")
		assertJSONError(t, "read-only user", f.do(req), http.StatusForbidden, "portal.error.frame_not_admin", "только администратор")

		admin := f.frameToken(1, true)
		req, _ = http.NewRequest(http.MethodPost, f.srv.URL+"/test/admin", nil)
		req.Header.Set(FrameTokenHeader, admin.Token)
		if res := f.do(req); res.status != http.StatusOK {
			t.Errorf("administrator: status %d", res.status)
		}
	})
}

func assertJSONError(t *testing.T, name string, res response, status int, key, text string) {
	t.Helper()
	if res.status != status {
		t.Errorf("%s: status %d, want %d (%s)", name, res.status, status, res.body)
		return
	}
	var body map[string]string
	if err := json.Unmarshal([]byte(res.body), &body); err != nil {
		t.Errorf("%s: body is not JSON: %s", name, res.body)
		return
	}
	if body["error"] != key || !strings.Contains(body["message"], text) {
		t.Errorf("%s: body = %v, want error %s with a message containing %q", name, body, key, text)
	}
}
