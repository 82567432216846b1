package handlers

import (
	"context"
	"errors"
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

// postLink sends a POST to a public scan link route, as the link page does.
func (env *pagesEnv) postLink(target string, form url.Values) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
	req.Header.Set(echo.HeaderAccept, echo.MIMEApplicationJSON)
	req.RemoteAddr = "192.0.2.10:5555"
	return env.serve(req)
}

// linkThroughSettings pairs the line from the settings page's own QR code.
func (env *pagesEnv) linkThroughSettings(page openedPage, phone string) *connector.Line {
	env.t.Helper()
	if rec := env.api(page, http.MethodPost, "/pairing", nil); rec.Code != http.StatusOK {
		env.t.Fatalf("start pairing on the settings page: %d %s", rec.Code, rec.Body.String())
	}
	qr := env.waitQR(env.line().ID)
	if _, err := env.sim.Scan(qr, phone, "Owner"); err != nil {
		env.t.Fatal(err)
	}
	return env.waitLinked()
}

// assertLinkDead checks that a public link route neither succeeded nor
// touched the linked line.
func assertLinkDead(t *testing.T, name string, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code != http.StatusConflict && rec.Code != http.StatusGone {
		t.Errorf("%s: status %d, want 409 or 410: %s", name, rec.Code, rec.Body.String())
	}
}

func TestScanLinkAfterSettingsPairing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newPagesEnv(t, db, pagesEnvOptions{})
		page := env.openSettings(1, "en")
		token, path := env.createLink(page)
		linked := env.linkThroughSettings(page, "79991234567")

		assertLinkDead(t, "page", env.get(path, "text/html"))
		assertLinkDead(t, "status", env.get(path+"/status", "application/json"))
		assertLinkDead(t, "qr", env.get(path+"/qr.png", "image/png"))
		assertLinkDead(t, "pairing", env.postLink(path+"/pairing", nil))
		assertLinkDead(t, "phone", env.postLink(path+"/phone", url.Values{"phone": {"+7 999 765-43-21"}}))

		line := env.line()
		if line.WaJID != linked.WaJID || line.State != connector.StateConnected {
			t.Errorf("line after the link's requests: jid %q state %q, want %q connected", line.WaJID, line.State, linked.WaJID)
		}
		rows, err := env.mgr.Lines().DeviceSessions(context.Background(), line.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || rows[0].LoggedOutAt != nil {
			t.Errorf("device sessions = %+v, want the one settings device still linked", rows)
		}
		if st, err := env.mgr.PairingStatus(context.Background(), line.ID); err == nil && st.Step != connector.PairingSuccess {
			t.Errorf("a pairing attempt runs on the linked line: step %q", st.Step)
		}
		if _, err := env.links.Resolve(context.Background(), token); !errors.Is(err, connector.ErrScanLinkRevoked) {
			t.Errorf("link after its line was linked from the settings page: %v, want revoked", err)
		}
	})
}

func TestScanLinkLinkedLineEndsLink(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newPagesEnv(t, db, pagesEnvOptions{})
		token, path := env.createLink(env.openSettings(1, "en"))
		ctx := context.Background()
		line := env.line()
		// A line linked without the pairing code path, as by another
		// instance, leaves the link open in the database.
		if err := env.mgr.Lines().SetLinked(ctx, line.ID, "79990000001@s.whatsapp.net", "79990000001", "Other"); err != nil {
			t.Fatal(err)
		}

		rec := env.postLink(path+"/pairing", nil)
		if rec.Code != http.StatusConflict {
			t.Errorf("restart on a linked line: status %d, want 409: %s", rec.Code, rec.Body.String())
		}
		if got := env.line(); got.WaJID != "79990000001@s.whatsapp.net" {
			t.Errorf("line jid after the restart request = %q, want the linked device kept", got.WaJID)
		}
		if _, err := env.links.Resolve(ctx, token); !errors.Is(err, connector.ErrScanLinkRevoked) {
			t.Errorf("link of a linked line: %v, want revoked", err)
		}
		if again := env.get(path, "text/html"); again.Code != http.StatusGone {
			t.Errorf("page of the ended link: %d, want 410", again.Code)
		}
	})
}

func TestScanLinkRevokeCancelsPairing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newPagesEnv(t, db, pagesEnvOptions{})
		ctx := context.Background()
		page := env.openSettings(1, "en")
		_, path := env.createLink(page)
		if rec := env.get(path, "text/html"); rec.Code != http.StatusOK {
			t.Fatalf("link page: %d", rec.Code)
		}
		lineID := env.line().ID
		qr := env.waitQR(lineID)

		if rec := env.api(page, http.MethodDelete, "/scan-links", nil); rec.Code != http.StatusOK {
			t.Fatalf("revoke: %d %s", rec.Code, rec.Body.String())
		}
		if _, err := env.mgr.PairingStatus(ctx, lineID); !errors.Is(err, connector.ErrPairingNotRunning) {
			t.Errorf("pairing after its link was revoked: %v, want not running", err)
		}
		if _, err := env.sim.Scan(qr, "79991234567", "Helper"); err == nil {
			time.Sleep(50 * time.Millisecond)
		}
		if line := env.line(); line.WaJID != "" {
			t.Errorf("the revoked link's QR code linked %q", line.WaJID)
		}

		for _, route := range []string{"/pairing", "/phone"} {
			rec := env.postLink(path+route, url.Values{"phone": {"+7 999 123-45-67"}})
			if rec.Code != http.StatusGone {
				t.Errorf("%s of a revoked link: %d, want 410", route, rec.Code)
			}
		}
		if _, err := env.mgr.PairingStatus(ctx, lineID); !errors.Is(err, connector.ErrPairingNotRunning) {
			t.Errorf("pairing after requests to a revoked link: %v, want not running", err)
		}
	})
}

func TestScanLinkReplacementRecordsSuccess(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newPagesEnv(t, db, pagesEnvOptions{})
		ctx := context.Background()
		page := env.openSettings(1, "en")
		first, firstPath := env.createLink(page)
		env.get(firstPath, "text/html")
		lineID := env.line().ID
		env.waitQR(lineID)

		second, secondPath := env.createLink(page)
		if rec := env.get(secondPath, "text/html"); rec.Code != http.StatusOK {
			t.Fatalf("replacement link page: %d", rec.Code)
		}
		st, err := env.mgr.PairingStatus(ctx, lineID)
		if err != nil {
			t.Fatal(err)
		}
		replacement, err := env.links.Resolve(ctx, second)
		if err != nil {
			t.Fatal(err)
		}
		if st.ScanLinkID != replacement.ID {
			t.Errorf("attempt runs for scan link %d, want the replacement %d", st.ScanLinkID, replacement.ID)
		}
		qr := env.waitQR(lineID)
		if _, err := env.sim.Scan(qr, "79991234567", "Helper"); err != nil {
			t.Fatal(err)
		}
		env.waitLinked()

		if _, err := env.links.Resolve(ctx, second); !errors.Is(err, connector.ErrScanLinkUsed) {
			t.Errorf("replacement link after pairing: %v, want used", err)
		}
		revoked, err := env.links.Resolve(ctx, first)
		if !errors.Is(err, connector.ErrScanLinkRevoked) || revoked.UsedAt != nil {
			t.Errorf("first link after pairing: %v, used at %v; want revoked and never used", err, revoked.UsedAt)
		}
	})
}

func TestScanLinkExpiredCannotPair(t *testing.T) {
	env := newPagesEnv(t, dbtest.SQLite(t), pagesEnvOptions{})
	_, path := env.createLink(env.openSettings(1, "en"))
	env.clock.Advance(connector.ScanLinkTTL)
	lineID := env.line().ID

	for _, route := range []string{"/pairing", "/phone"} {
		rec := env.postLink(path+route, url.Values{"phone": {"+7 999 123-45-67"}})
		if rec.Code != http.StatusGone {
			t.Errorf("%s of an expired link: %d, want 410", route, rec.Code)
		}
	}
	if _, err := env.mgr.PairingStatus(context.Background(), lineID); !errors.Is(err, connector.ErrPairingNotRunning) {
		t.Errorf("pairing after requests to an expired link: %v, want not running", err)
	}
}
