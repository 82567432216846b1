package handlers

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"image"
	_ "image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"gorm.io/gorm"

	"github.com/wabridge/b24wa/connector"
	"github.com/wabridge/b24wa/internal/dbtest"
	"github.com/wabridge/b24wa/portal"
	"github.com/wabridge/b24wa/portal/b24fake"

	"github.com/wabridge/b24wa/internal/browsertest"
)

// shotsDir receives the screenshots of the browser tests.
const shotsDir = browsertest.ShotsDir

func chromiumPath(t *testing.T) string { return browsertest.ChromiumPath(t) }

func newBrowser(t *testing.T, width, height int) context.Context {
	return browsertest.New(t, width, height, 90*time.Second)
}

// autoSubmit is the page Bitrix24 serves around a placement: a form that
// posts the placement fields to the app as soon as it loads.
var autoSubmit = template.Must(template.New("").Parse(`<!doctype html><html><body>
<form method="post" action="{{.Action}}">{{range $k, $v := .Fields}}<input type="hidden" name="{{$k}}" value="{{$v}}">{{end}}</form>
<script>document.forms[0].submit()</script></body></html>`))

// portalPage serves, on its own loopback origin, an auto-submitting form of
// a fresh placement for every request, as Bitrix24 does on each opening.
func (env *pagesEnv) portalPage(appURL string, form func() b24fake.PlacementForm) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := form()
		query, body := env.fake.PlacementValues(f)
		target := "/settings"
		if f.Placement == portal.PlacementDefault {
			target = "/"
		}
		fields := map[string]string{}
		for k := range body {
			fields[k] = body.Get(k)
		}
		data := map[string]any{"Action": appURL + target + "?" + query.Encode(), "Fields": fields}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = autoSubmit.Execute(w, data)
	}))
	env.t.Cleanup(srv.Close)
	return srv
}

// serveApp runs the router on a real loopback listener; scan links then
// point at it.
func (env *pagesEnv) serveApp() *httptest.Server {
	srv := httptest.NewServer(env.e)
	env.t.Cleanup(srv.Close)
	env.deps.PublicURL = srv.URL
	return srv
}

func (env *pagesEnv) settingsForm(lang string) func() b24fake.PlacementForm {
	return func() b24fake.PlacementForm {
		return b24fake.PlacementForm{Placement: portal.PlacementSettingConnector, Lang: lang,
			Options: env.fake.SettingConnectorOptions(pagesConnector, pagesLine)}
	}
}

// browserQR reads the QR code the page shows, from a screenshot of the image.
func browserQR(t *testing.T, ctx context.Context) string {
	t.Helper()
	poll(t, ctx, `(() => { const i = document.querySelector('[data-role=qr]'); return i && !i.closest('[hidden]') && i.complete && i.naturalWidth > 0; })()`)
	shot, err := chromedp.Run(ctx, chromedp.Screenshot(`img[data-role="qr"]`))
	if err != nil {
		t.Fatalf("screenshot of the QR image: %v", err)
	}
	img, _, err := image.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatal(err)
	}
	return decodeQRImage(t, img)
}

// openVia loads a page that navigates on by itself (the auto-submitting
// placement form) and waits until selector exists in the page it lands on.
// chromedp.Navigate would wait for the load of the first page, which the
// form submission replaces.
func openVia(t *testing.T, ctx context.Context, target, selector string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`location.href = %q`, target))); err != nil {
		t.Fatalf("open %s: %v", target, err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		// readyState "complete" comes after DOMContentLoaded, so the page
		// scripts have bound their handlers by then.
		found, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(
			`document.readyState === 'complete' && document.querySelector(%q) !== null`, selector)))
		if err == nil && found {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s did not lead to a page with %s", target, selector)
}

// poll waits until a JavaScript expression is truthy in the page.
func poll(t *testing.T, ctx context.Context, expression string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expression, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ''`))
		t.Fatalf("waiting for %s: %v\npage text:\n%s", expression, err, body)
	}
}

func eval[T any](t *testing.T, ctx context.Context, expression string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expression))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expression, err)
	}
	return v
}

// screenshot saves the whole page as /tmp/shots/<name>.png.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	data, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(shotsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(shotsDir, name+".png"), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestBrowserSettingsPairing(t *testing.T) {
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
		current := env.waitQR(env.line().ID)
		if shown != current {
			t.Fatalf("the page shows %q, the simulator's current code is %q", shown, current)
		}
		poll(t, ctx, `/The code changes in \d+ s/.test(document.querySelector('[data-role=qr-countdown]').textContent)`)
		screenshot(t, ctx, "settings-qr-800-"+dialect(db))

		if _, err := env.sim.Scan(shown, "79123456789", "Shop on Lenina"); err != nil {
			t.Fatal(err)
		}
		poll(t, ctx, `document.querySelector('#device[data-state=connected]') !== null`)
		if !eval[bool](t, ctx, `window.__notReloaded === true`) {
			t.Error("the page reloaded to show the connected state")
		}
		text := eval[string](t, ctx, `document.body.innerText`)
		for _, want := range []string{"Connected", "+7 912 345-67-89", "Shop on Lenina", "Active"} {
			if !strings.Contains(text, want) {
				t.Errorf("connected page lacks %q", want)
			}
		}
		screenshot(t, ctx, "settings-connected-800-"+dialect(db))
	})
}

func TestBrowserScanLink(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		chromiumPath(t)
		env := newPagesEnv(t, db, pagesEnvOptions{})
		app := env.serveApp()
		_, path := env.createLink(env.openSettings(1, "ru"))
		ctx := newBrowser(t, 390, 844)

		if err := chromedp.Do(ctx, chromedp.Navigate(app.URL+path)); err != nil {
			t.Fatal(err)
		}
		first := browserQR(t, ctx)
		if want := env.waitQR(env.line().ID); first != want {
			t.Fatalf("the link page shows %q, the simulator's current code is %q", first, want)
		}
		text := eval[string](t, ctx, `document.body.innerText`)
		for _, want := range []string{env.fake.Domain(), "Открытая линия 3", "Подключить по номеру телефона"} {
			if !strings.Contains(text, want) {
				t.Errorf("link page lacks %q", want)
			}
		}
		poll(t, ctx, `/1[45]:\d\d/.test(document.querySelector('[data-role=link-countdown]').textContent)`)
		screenshot(t, ctx, "scanlink-390-"+dialect(db))

		// The first code lives 60 s; after that the simulator issues a new one
		// and the page must show it without a reload.
		env.clock.Advance(61 * time.Second)
		second := env.waitNewQR(first)
		poll(t, ctx, fmt.Sprintf(`document.querySelector('[data-role=qr]').src.indexOf('v=%s') >= 0`, qrVersion(second)))
		if got := browserQR(t, ctx); got != second {
			t.Errorf("after rotation the page shows %q, want the new code %q", got, second)
		}

		if _, err := env.sim.Scan(second, "79991234567", "Helper"); err != nil {
			t.Fatal(err)
		}
		poll(t, ctx, `!document.querySelector('[data-when=success]').hidden`)
		if text := eval[string](t, ctx, `document.body.innerText`); !strings.Contains(text, "+7 999 123-45-67") {
			t.Errorf("success state lacks the linked number:\n%s", text)
		}
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(800, 900)); err != nil {
			t.Fatal(err)
		}
		screenshot(t, ctx, "scanlink-success-800-"+dialect(db))

		portalPage := env.portalPage(app.URL, env.settingsForm("ru"))
		openVia(t, ctx, portalPage.URL, `#device[data-state=connected]`)
		rows := eval[string](t, ctx, `Array.from(document.querySelectorAll('tr[data-session]')).map(r => r.innerText).join('\n')`)
		if !strings.Contains(rows, "+7 999 123-45-67") || !strings.Contains(rows, "ссылка для подключения") {
			t.Errorf("the settings page's device sessions lack the session linked through the link:\n%s", rows)
		}
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844)); err != nil {
			t.Fatal(err)
		}
		screenshot(t, ctx, "settings-connected-390-"+dialect(db))
	})
}

// waitNewQR waits until the line's attempt shows a code other than old.
func (env *pagesEnv) waitNewQR(old string) string {
	env.t.Helper()
	var qr string
	env.waitFor("a new QR code", func() bool {
		st, err := env.mgr.PairingStatus(context.Background(), env.line().ID)
		if err != nil {
			return false
		}
		qr = st.QR
		return st.Step == connector.PairingQR && qr != "" && qr != old
	})
	return qr
}

func dialect(db *gorm.DB) string { return db.Dialector.Name() }
