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

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/connector"
	"github.com/wabridge/b24wa/internal/dbtest"
)

// Passkey texts of the pairing block, from static/i18n/pages.*.json.
var passkeyTexts = map[string][]string{
	"en": {"Confirm on the phone", "confirm this link with the phone's passkey", "Tap Cancel on the phone"},
	"ru": {"Подтвердите на телефоне", "ключом доступа (passkey)", "Нажмите «Отмена» на телефоне"},
}

// waitStep polls a status URL until it reports step and returns that status.
func (env *pagesEnv) waitStep(step string, read func() *httptest.ResponseRecorder) statusBody {
	env.t.Helper()
	var st statusBody
	env.waitFor("step "+step, func() bool {
		st = jsonOf[statusBody](env.t, read())
		return st.Step == step
	})
	return st
}

// passkeySection returns the pairing block's passkey section of a page, or
// fails when the page has none.
func passkeySection(t *testing.T, page string) string {
	t.Helper()
	page = html.UnescapeString(page)
	start := strings.Index(page, `data-when="passkey"`)
	if start < 0 {
		t.Fatal("the page has no passkey section")
	}
	end := strings.Index(page[start:], `data-when="success"`)
	if end < 0 {
		t.Fatal("the passkey section is not followed by the success section")
	}
	return page[start : start+end]
}

func TestSettingsPairingPasskey(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newPagesEnv(t, db, pagesEnvOptions{})
		page := env.openSettings(1, "en")
		if rec := env.api(page, http.MethodPost, "/pairing", nil); rec.Code != http.StatusOK {
			t.Fatalf("start pairing: %d %s", rec.Code, rec.Body.String())
		}
		qr := env.waitQR(env.line().ID)
		if err := env.sim.ScanWithPasskey(qr, "79123456789", "Shop"); err != nil {
			t.Fatal(err)
		}

		read := func() *httptest.ResponseRecorder { return env.api(page, http.MethodGet, "/pairing", nil) }
		st := env.waitStep(connector.PairingPasskey, read)
		if st.QR != "" || st.QRExpiresIn != 0 || st.Code != "" || st.Message != "" {
			t.Errorf("passkey status = %+v, want no code, no countdown and no message", st)
		}
		img := env.serve(httptest.NewRequest(http.MethodGet, page.api+"/qr.png?t="+url.QueryEscape(page.token), nil))
		if img.Code != http.StatusNotFound {
			t.Errorf("qr.png during the passkey step = %d, want 404", img.Code)
		}

		for lang, texts := range passkeyTexts {
			panel := env.api(env.openSettings(1, lang), http.MethodGet, "/panel", nil).Body.String()
			if !strings.Contains(panel, `data-step="passkey"`) {
				t.Errorf("%s panel does not start in the passkey step", lang)
			}
			section := passkeySection(t, panel)
			for _, want := range texts {
				if !strings.Contains(section, want) {
					t.Errorf("%s passkey section lacks %q", lang, want)
				}
			}
		}

		// Past the whole QR schedule, still within the passkey bound.
		env.clock.Advance(110 * time.Second)
		if got := jsonOf[statusBody](t, read()).Step; got != connector.PairingPasskey {
			t.Errorf("step after 110 s = %q, want passkey", got)
		}

		if _, err := env.sim.ConfirmPasskey("79123456789", true); err != nil {
			t.Fatal(err)
		}
		done := env.waitStep(connector.PairingSuccess, read)
		if done.Phone != "+7 912 345-67-89" {
			t.Errorf("success phone = %q, want +7 912 345-67-89", done.Phone)
		}
		line := env.waitLinked()
		rows, err := env.mgr.Lines().DeviceSessions(context.Background(), line.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || rows[0].WaJID != line.WaJID {
			t.Errorf("device sessions = %+v, want one for %s", rows, line.WaJID)
		}
	})
}

func TestSettingsPasskeyTimeoutMessage(t *testing.T) {
	env := newPagesEnv(t, dbtest.SQLite(t), pagesEnvOptions{})
	page := env.openSettings(1, "ru")
	env.api(page, http.MethodPost, "/pairing", nil)
	if err := env.sim.ScanWithPasskey(env.waitQR(env.line().ID), "79123456789", "Shop"); err != nil {
		t.Fatal(err)
	}
	read := func() *httptest.ResponseRecorder { return env.api(page, http.MethodGet, "/pairing", nil) }
	env.waitStep(connector.PairingPasskey, read)

	env.clock.Advance(2 * time.Minute)
	st := jsonOf[statusBody](t, read())
	if st.Step != connector.PairingFailed || !strings.Contains(st.Message, "не подтвердил подключение ключом доступа (passkey) вовремя") {
		t.Errorf("status after the passkey bound = %+v, want failed with the Russian passkey timeout text", st)
	}
	if got := env.line().State; got != connector.StateNew {
		t.Errorf("line state = %q, want %q", got, connector.StateNew)
	}
}

func TestScanLinkPairingPasskey(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newPagesEnv(t, db, pagesEnvOptions{})
		_, path := env.createLink(env.openSettings(1, "en"))
		if rec := env.get(path, "text/html"); rec.Code != http.StatusOK {
			t.Fatalf("link page: %d %s", rec.Code, rec.Body.String())
		}
		if err := env.sim.ScanWithPasskey(env.waitQR(env.line().ID), "79991234567", "Helper"); err != nil {
			t.Fatal(err)
		}

		read := func() *httptest.ResponseRecorder { return env.get(path+"/status", "application/json") }
		st := env.waitStep(connector.PairingPasskey, read)
		if st.QR != "" || st.QRExpiresIn != 0 {
			t.Errorf("passkey status = %+v, want no code and no countdown", st)
		}
		if img := env.get(path+"/qr.png", "image/png"); img.Code != http.StatusNotFound {
			t.Errorf("qr.png during the passkey step = %d, want 404", img.Code)
		}
		for lang, texts := range passkeyTexts {
			body := env.get(path+"?lang="+lang, "text/html").Body.String()
			if !strings.Contains(body, `data-step="passkey"`) {
				t.Errorf("%s link page does not start in the passkey step", lang)
			}
			section := passkeySection(t, body)
			for _, want := range texts {
				if !strings.Contains(section, want) {
					t.Errorf("%s passkey section lacks %q", lang, want)
				}
			}
		}

		if _, err := env.sim.ConfirmPasskey("79991234567", false); err != nil {
			t.Fatal(err)
		}
		failed := env.waitStep(connector.PairingFailed, read)
		if !strings.Contains(failed.Message, "did not confirm the link with its passkey") {
			t.Errorf("failure message = %q, want the passkey refusal text", failed.Message)
		}
		env.waitFor("the line state restored", func() bool { return env.line().State == connector.StateNew })
		if got := env.line().WaJID; got != "" {
			t.Errorf("refused pairing linked the line to %q", got)
		}
	})
}
