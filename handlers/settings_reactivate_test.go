package handlers

import (
	"context"
	"net/http"
	"testing"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/internal/dbtest"
)

func TestSettingsReactivatesDetachedLine(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newPagesEnv(t, db, pagesEnvOptions{})
		page := env.openSettings(1, "en")
		if rec := env.api(page, http.MethodPost, "/pairing", nil); rec.Code != http.StatusOK {
			t.Fatalf("start pairing: %d %s", rec.Code, rec.Body.String())
		}
		if _, err := env.sim.Scan(env.waitQR(env.line().ID), "79123456789", "Shop"); err != nil {
			t.Fatal(err)
		}
		line := env.waitLinked()
		env.waitFor("line active in Bitrix24", func() bool { return env.line().B24Active })

		// The owner disconnects the connector from the open line in Contact Center.
		if err := env.mgr.LineRemovedInBitrix(context.Background(), line.PortalID, line.LineID, false); err != nil {
			t.Fatal(err)
		}
		if env.line().B24Active {
			t.Fatal("line still active after the connector was disconnected")
		}
		activations := len(env.fake.CallsTo("imconnector.activate"))

		env.openSettings(pagesViewerID, "en")
		if env.line().B24Active {
			t.Error("a non-administrator's visit re-activated the line")
		}
		if got := len(env.fake.CallsTo("imconnector.activate")); got != activations {
			t.Errorf("imconnector.activate called %d more times for a viewer", got-activations)
		}

		env.openSettings(1, "en")
		if !env.line().B24Active {
			t.Error("administrator opened the settings but the line is still inactive in Bitrix24")
		}
		if got := len(env.fake.CallsTo("imconnector.activate")); got != activations+1 {
			t.Errorf("imconnector.activate called %d times after the visit, want %d", got, activations+1)
		}
	})
}
