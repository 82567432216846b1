package handlers

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/wabridge/b24wa/internal/dbtest"
)

// apiRequest sends a request to the page's API with the frame token only
// where query (the URL) or form (the body) puts it, never in the
// header.
func (env *pagesEnv) apiRequest(method, target string, body url.Values) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body.Encode()))
	req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
	req.Header.Set(echo.HeaderAccept, echo.MIMEApplicationJSON)
	return env.serve(req)
}

func TestRequireFrameUninstalledPortal(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newPagesEnv(t, db, pagesEnvOptions{})
		page := env.openSettings(1, "en")
		if rec := env.api(page, http.MethodGet, "/pairing", nil); rec.Code != http.StatusOK {
			t.Fatalf("installed portal: status %d: %s", rec.Code, rec.Body.String())
		}

		if err := env.portals.MarkUninstalled(context.Background(), env.portalID); err != nil {
			t.Fatal(err)
		}
		rec := env.api(page, http.MethodGet, "/pairing", nil)
		if rec.Code != http.StatusUnauthorized || !strings.Contains(jsonOf[errorJSON](t, rec).Message, "Reopen the page from Bitrix24") {
			t.Errorf("uninstalled portal: %d %s, want 401 asking to reopen the page", rec.Code, rec.Body.String())
		}

		if err := env.portals.Delete(context.Background(), env.portalID); err != nil {
			t.Fatal(err)
		}
		rec = env.api(page, http.MethodGet, "/pairing", nil)
		if rec.Code != http.StatusUnauthorized || !strings.Contains(jsonOf[errorJSON](t, rec).Message, "Reopen the page from Bitrix24") {
			t.Errorf("deleted portal: %d %s, want 401 asking to reopen the page", rec.Code, rec.Body.String())
		}
	})
}

func TestRequireFrameTokenPlaceByMethod(t *testing.T) {
	env := newPagesEnv(t, dbtest.SQLite(t), pagesEnvOptions{})
	page := env.openSettings(1, "en")
	inQuery := "?t=" + url.QueryEscape(page.token)
	inForm := url.Values{"t": {page.token}}

	cases := []struct {
		name, method, path string
		form               url.Values
		status             int
	}{
		{"GET with t in the query", http.MethodGet, "/pairing" + inQuery, nil, http.StatusOK},
		{"POST with t in the query", http.MethodPost, "/scan-links" + inQuery, nil, http.StatusUnauthorized},
		{"DELETE with t in the query", http.MethodDelete, "/scan-links" + inQuery, nil, http.StatusUnauthorized},
		{"POST with t in the form body", http.MethodPost, "/scan-links", inForm, http.StatusCreated},
	}
	for _, tc := range cases {
		rec := env.apiRequest(tc.method, page.api+tc.path, tc.form)
		if rec.Code != tc.status {
			t.Errorf("%s: status %d, want %d: %s", tc.name, rec.Code, tc.status, rec.Body.String())
		}
	}
}
