package handlers

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/connector"
	"github.com/wabridge/b24wa/internal/dbtest"
	"github.com/wabridge/b24wa/portal"
	"github.com/wabridge/b24wa/portal/b24fake"
)

// settingsRequestForLine is the SETTING_CONNECTOR POST with LINE set to a
// raw value, as a user editing the form could send it.
func (env *pagesEnv) settingsRequestForLine(userID int, line string) *http.Request {
	opts := env.fake.SettingConnectorOptions(pagesConnector, pagesLine)
	opts["LINE"] = line
	req := env.fake.NewPlacementRequest("/settings", b24fake.PlacementForm{
		UserID: userID, Placement: portal.PlacementSettingConnector, Lang: "en", Options: opts,
	})
	req.Header.Set("Accept", "application/json")
	return req
}

func (env *pagesEnv) lineCount() int64 {
	env.t.Helper()
	var n int64
	if err := env.db.Model(&connector.Line{}).Count(&n).Error; err != nil {
		env.t.Fatal(err)
	}
	return n
}

func TestSettingsRejectsInvalidLine(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newPagesEnv(t, db, pagesEnvOptions{})
		cases := map[string]string{
			"script":         "<script>",
			"path":           "../1",
			"negative":       "-1",
			"zero":           "0",
			"leading zero":   "03",
			"eleven digits":  "12345678901",
			"forty digits":   strings.Repeat("9", 40),
			"decimal point":  "3.0",
			"embedded space": "3 4",
		}
		for name, value := range cases {
			rec := env.serve(env.settingsRequestForLine(1, value))
			if rec.Code != http.StatusBadRequest {
				t.Errorf("%s: status %d, want 400", name, rec.Code)
				continue
			}
			if msg := jsonOf[errorJSON](t, rec).Message; !strings.Contains(msg, "LINE") {
				t.Errorf("%s: message %q does not name LINE", name, msg)
			}
		}
		if n := env.lineCount(); n != 0 {
			t.Errorf("invalid LINE values created %d line rows", n)
		}

		if rec := env.serve(env.settingsRequestForLine(1, "4294967295")); rec.Code != http.StatusOK {
			t.Errorf("a 10-digit LINE: status %d, want 200: %s", rec.Code, rec.Body.String())
		}
	})
}

func TestSettingsViewerCannotCreateLine(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newPagesEnv(t, db, pagesEnvOptions{})

		rec := env.serve(env.settingsRequest(pagesViewerID, "en"))
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Ask a Bitrix24 administrator") {
			t.Errorf("viewer on a line without a row: %d, want 200 asking for an administrator: %s", rec.Code, rec.Body.String())
		}
		if n := env.lineCount(); n != 0 {
			t.Errorf("a viewer's visit created %d line rows", n)
		}
		if _, err := env.mgr.Lines().ByPortalLine(context.Background(), env.portalID, "3"); !errors.Is(err, connector.ErrLineNotFound) {
			t.Errorf("line after a viewer's visit: %v, want not found", err)
		}

		env.openSettings(1, "en")
		viewer := env.openSettings(pagesViewerID, "en")
		if !strings.Contains(viewer.body, "read-only") {
			t.Error("viewer on a set-up line does not get the read-only panel")
		}
	})
}
