package handlers

import (
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/internal/dbtest"
)

func TestBrowserSettingsPasskey(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		chromiumPath(t)
		env := newPagesEnv(t, db, pagesEnvOptions{})
		app := env.serveApp()
		portalPage := env.portalPage(app.URL, env.settingsForm("en"))
		ctx := newBrowser(t, 800, 1000)

		openVia(t, ctx, portalPage.URL, `#settings [data-action=start]`)
		eval[bool](t, ctx, `window.__notReloaded = true`)
		eval[bool](t, ctx, `(document.querySelector('#link [data-action=start]').click(), true)`)
		shown := browserQR(t, ctx)
		if err := env.sim.ScanWithPasskey(shown, "79123456789", "Shop on Lenina"); err != nil {
			t.Fatal(err)
		}

		poll(t, ctx, `!document.querySelector('[data-when=passkey]').hidden`)
		if eval[bool](t, ctx, `!document.querySelector('[data-when=qr]').hidden`) {
			t.Error("the QR code is still visible in the passkey step")
		}
		text := eval[string](t, ctx, `document.querySelector('[data-when=passkey]').innerText`)
		for _, want := range passkeyTexts["en"] {
			if !strings.Contains(text, want) {
				t.Errorf("passkey step lacks %q:\n%s", want, text)
			}
		}
		screenshot(t, ctx, "settings-passkey-800-"+dialect(db))

		if _, err := env.sim.ConfirmPasskey("79123456789", true); err != nil {
			t.Fatal(err)
		}
		poll(t, ctx, `document.querySelector('#device[data-state=connected]') !== null`)
		if !eval[bool](t, ctx, `window.__notReloaded === true`) {
			t.Error("the page reloaded to show the connected state")
		}
		if text := eval[string](t, ctx, `document.body.innerText`); !strings.Contains(text, "+7 912 345-67-89") {
			t.Errorf("connected page lacks the linked number:\n%s", text)
		}
	})
}
