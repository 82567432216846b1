package handlers

import (
	"context"
	"html"
	"net/http"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/wabridge/b24wa/internal/dbtest"
	"github.com/wabridge/b24wa/portal"
	"github.com/wabridge/b24wa/portal/b24fake"
)

// openApp opens the app's main page as Bitrix24 would.
func (env *pagesEnv) openApp(userID int, lang string) (int, string) {
	env.t.Helper()
	req := env.fake.NewPlacementRequest("/", b24fake.PlacementForm{UserID: userID, Placement: portal.PlacementDefault, Lang: lang})
	req.Header.Set(echo.HeaderAccept, "text/html")
	rec := env.serve(req)
	return rec.Code, html.UnescapeString(rec.Body.String())
}

func TestAppPageListsLines(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newPagesEnv(t, db, pagesEnvOptions{})
		page := env.openSettings(1, "en")
		env.pairOnPage(page, "79123456789")
		if _, err := env.mgr.Lines().Ensure(context.Background(), env.portalID, "5", pagesConnector, "Support"); err != nil {
			t.Fatal(err)
		}

		code, body := env.openApp(1, "en")
		if code != http.StatusOK {
			t.Fatalf("main page: %d %s", code, body)
		}
		for _, want := range []string{"Open line 3", "+7 912 345-67-89", "Connected", "Support", "Not linked",
			"Open Contact Center", "http://" + env.fake.Domain() + "/contact_center/"} {
			if !strings.Contains(body, want) {
				t.Errorf("main page lacks %q", want)
			}
		}
		if strings.Contains(body, "data-problem") {
			t.Error("a healthy portal shows a problem banner")
		}
	})
}

func TestAppPageProblems(t *testing.T) {
	env := newPagesEnv(t, dbtest.SQLite(t), pagesEnvOptions{})
	cases := []struct {
		name   string
		change map[string]any
		want   []string
	}{
		{"refused tokens", map[string]any{"state": portal.StateAttention, "attention_reason": portal.AttentionInvalidGrant},
			[]string{`data-problem="tokens"`, "no longer accepts the app's authorization"}},
		{"licence", map[string]any{"state": portal.StateActive, "attention_reason": "", "licence_payment_expired": true},
			[]string{`data-problem="licence"`, "stops sending events"}},
		{"payment required", map[string]any{"state": portal.StateAttention, "attention_reason": portal.AttentionPaymentRequired, "licence_payment_expired": false},
			[]string{`data-problem="licence"`}},
	}
	for _, tc := range cases {
		if err := env.db.Model(&portal.Portal{}).Where("id = ?", env.portalID).Updates(tc.change).Error; err != nil {
			t.Fatal(err)
		}
		// A non-administrator opens the page, so the stored state is not
		// repaired by adopting the administrator's tokens first.
		code, body := env.openApp(pagesViewerID, "en")
		if code != http.StatusOK {
			t.Fatalf("%s: status %d", tc.name, code)
		}
		for _, want := range tc.want {
			if !strings.Contains(body, want) {
				t.Errorf("%s: main page lacks %q", tc.name, want)
			}
		}
	}
}

func TestAppPageRussianAndForged(t *testing.T) {
	env := newPagesEnv(t, dbtest.SQLite(t), pagesEnvOptions{})
	code, body := env.openApp(1, "ru")
	if code != http.StatusOK || !strings.Contains(body, "Открыть Контакт-центр") {
		t.Errorf("Russian main page: %d, want the Russian texts", code)
	}

	query, form := env.fake.PlacementValues(b24fake.PlacementForm{})
	form.Set("AUTH_ID", "forged")
	req := env.fake.NewPlacementRequest("/app", b24fake.PlacementForm{})
	req.URL.RawQuery = query.Encode()
	req.Body = http.NoBody
	req = reformRequest(t, req, form.Encode())
	req.Header.Set(echo.HeaderAccept, "text/html")
	rec := env.serve(req)
	if rec.Code < 400 || rec.Code >= 500 || strings.Contains(rec.Body.String(), "contact_center") {
		t.Errorf("forged main page POST: %d, want a 4xx error page", rec.Code)
	}
}

// reformRequest replaces the form body of a request.
func reformRequest(t *testing.T, req *http.Request, body string) *http.Request {
	t.Helper()
	out, err := http.NewRequest(req.Method, req.URL.String(), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	out.Header = req.Header.Clone()
	return out
}
