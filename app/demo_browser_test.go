package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/wabridge/b24wa/internal/browsertest"
)

// sandboxShots receives the screenshots of the sandbox page, for a person
// to look at.
const sandboxShots = browsertest.ShotsDir

func sandboxBrowser(t *testing.T, width, height int) context.Context {
	return browsertest.New(t, width, height, 2*time.Minute)
}

// page drives the sandbox page in the browser.
type page struct {
	t   *testing.T
	ctx context.Context
}

// waitTrue waits until a JavaScript expression is truthy in the sandbox
// page, or, with inFrame, in the page inside the portal frame.
func (p page) waitTrue(expression string, inFrame bool) {
	p.t.Helper()
	opts := []chromedp.PollOption{chromedp.WithPollingTimeout(20 * time.Second), chromedp.WithPollingInterval(50 * time.Millisecond)}
	if inFrame {
		frames, err := chromedp.Run(p.ctx, chromedp.Nodes(chromedp.CSS("#portal-frame")))
		if err != nil || len(frames) == 0 {
			p.t.Fatalf("find the portal frame: %v", err)
		}
		opts = append(opts, chromedp.WithPollingInFrame(frames[0]))
	}
	var err error
	// A poll does not survive a navigation of its frame, so it is repeated
	// while the frame loads its next page.
	for range 20 {
		if _, err = chromedp.Run(p.ctx, chromedp.Poll[chromedp.Void](expression, opts...)); err == nil {
			return
		}
		if err == chromedp.ErrPollingTimeout {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	text, _ := chromedp.Run(p.ctx, chromedp.Evaluate[string](`document.body.innerText`))
	p.t.Fatalf("waiting for %s (in frame %v): %v\npage text:\n%s", expression, inFrame, err, text)
}

// run evaluates a statement in the sandbox page.
func (p page) run(statement string) {
	p.t.Helper()
	if _, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool]("("+statement+", true)")); err != nil {
		p.t.Fatalf("run %s: %v", statement, err)
	}
}

// clickInFrame clicks the first visible element matching selector inside
// the portal frame once it exists.
func (p page) clickInFrame(selector string) {
	p.t.Helper()
	// The click waits for the load event, because a button clicked before
	// the page's script attached its handlers does nothing.
	p.waitTrue(fmt.Sprintf(`(() => { if (document.readyState !== 'complete') return false;
		const b = [...document.querySelectorAll(%q)].find(e => e.offsetParent !== null);
		if (!b) return false; b.click(); return true; })()`, selector), true)
}

// valueInFrame waits until a JavaScript expression returns a non-empty
// string in the portal frame and returns it.
func (p page) valueInFrame(expression string) string {
	p.t.Helper()
	frames, err := chromedp.Run(p.ctx, chromedp.Nodes(chromedp.CSS("#portal-frame")))
	if err != nil || len(frames) == 0 {
		p.t.Fatalf("find the portal frame: %v", err)
	}
	v, err := chromedp.Run(p.ctx, chromedp.Poll[string](expression, chromedp.WithPollingInFrame(frames[0]),
		chromedp.WithPollingTimeout(20*time.Second), chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil {
		p.t.Fatalf("waiting for %s in the frame: %v", expression, err)
	}
	return v
}

// shot saves the whole page as /tmp/shots/sandbox-<name>.png.
func (p page) shot(name string) {
	p.t.Helper()
	data, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(sandboxShots, 0o755); err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sandboxShots, "sandbox-"+name+".png"), data, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

func TestBrowserSandboxStory(t *testing.T) {
	ctx := sandboxBrowser(t, 1280, 900)
	env := startSandbox(t)
	p := page{t: t, ctx: ctx}
	if err := chromedp.Do(ctx, chromedp.Navigate(env.base+"/")); err != nil {
		t.Fatal(err)
	}
	p.waitTrue(`document.querySelector('#steps li.next') !== null`, false)
	p.shot("1-start")

	p.run(`document.getElementById('open-install').click()`)
	p.waitTrue(`document.getElementById('portal-badge').textContent === 'installed'`, false)
	p.waitTrue(`document.readyState === 'complete' && document.body.innerText.length > 0`, true)
	p.shot("2-installed")

	p.run(`document.getElementById('open-app').click()`)
	p.waitTrue(`document.getElementById('app-page') !== null`, true)
	p.shot("2b-app-page")

	p.run(`document.getElementById('open-settings').click()`)
	p.clickInFrame(`#link [data-action=start]`)
	p.waitTrue(`(() => { const i = document.querySelector('[data-role=qr]'); return i && i.complete && i.naturalWidth > 0 && !i.closest('[hidden]'); })()`, true)
	p.waitTrue(`document.getElementById('phone-badge').textContent === 'QR code on screen'`, false)
	p.shot("3-qr")

	p.run(`document.getElementById('scan').click()`)
	p.waitTrue(`document.getElementById('phone-badge').textContent.startsWith('linked: +15550100100')`, false)
	p.waitTrue(`document.querySelector('#device[data-state=connected]') !== null`, true)
	p.waitTrue(`document.getElementById('line-badge').textContent === 'connector active'`, false)
	p.shot("4-linked")

	p.run(`document.getElementById('customer-text').value = 'Hello, is the shop open today?'`)
	p.run(`document.querySelector('#customer-form [type=submit]').click()`)
	p.waitTrue(`document.getElementById('line-chat').innerText.includes('Hello, is the shop open today?')`, false)
	p.run(`document.getElementById('customer-text').value = 'Like this one'`)
	p.run(`document.getElementById('customer-picture').click()`)
	p.waitTrue(`(() => { const i = document.querySelector('#line-chat img'); return i && i.complete && i.naturalWidth === 160; })()`, false)
	p.waitTrue(`document.querySelectorAll('#customer-chat .bubble.out .tick.delivered').length === 2`, false)
	p.shot("5-customer-wrote")

	p.run(`document.getElementById('operator-text').value = 'Yes, until 8 pm. See you!'`)
	p.run(`document.querySelector('#operator-form [type=submit]').click()`)
	p.waitTrue(`[...document.querySelectorAll('#customer-chat .bubble.in')].some(b => b.innerText.includes('Yes, until 8 pm') && b.querySelector('.tick.delivered'))`, false)
	p.waitTrue(`document.querySelector('#line-chat .bubble.out .tick.delivered') !== null`, false)
	p.waitTrue(`document.querySelectorAll('#customer-chat .bubble.out .tick.read').length === 2`, false)
	p.shot("6-operator-answered")

	p.run(`document.getElementById('customer-read').click()`)
	p.waitTrue(`document.querySelector('#line-chat .bubble.out .tick.read') !== null`, false)
	p.waitTrue(`document.querySelector('#customer-chat .bubble.in .tick.read') !== null`, false)
	p.waitTrue(`document.querySelectorAll('#steps li.done').length === 6`, false)
	p.shot("7-read")

	p.run(`document.getElementById('phone-logout').click()`)
	p.waitTrue(`document.getElementById('phone-badge').textContent === 'no device linked'`, false)
	p.run(`document.getElementById('open-settings').click()`)
	p.waitTrue(`document.querySelector('#device[data-state=logged_out]') !== null`, true)
	p.shot("8-logged-out")

	// Link again through a scan link opened in a new tab, as a helper would.
	p.clickInFrame(`[data-action=create-link]`)
	link := p.valueInFrame(`(() => { const i = document.querySelector('[data-role=link-url]'); return i && i.value; })()`)
	if !strings.HasPrefix(link, env.demo.app.cfg.PublicBase()+"/link/") {
		t.Fatalf("scan link %q is not an address of the app", link)
	}
	tab, closeTab := chromedp.NewContext(ctx)
	defer closeTab()
	if err := chromedp.Do(tab, chromedp.EmulateViewport(390, 844), chromedp.Navigate(link)); err != nil {
		t.Fatal(err)
	}
	helper := page{t: t, ctx: tab}
	helper.waitTrue(`(() => { const i = document.querySelector('[data-role=qr]'); return i && i.complete && i.naturalWidth > 0 && !i.closest('[hidden]'); })()`, false)
	helper.shot("9-scan-link-tab")

	p.run(`document.getElementById('scan').click()`)
	p.waitTrue(`document.getElementById('phone-badge').textContent.startsWith('linked: +15550100100')`, false)
	helper.waitTrue(`document.querySelector('[data-pairing][data-step=success]') !== null`, false)
	helper.shot("10-scan-link-done")
	p.run(`document.getElementById('open-settings').click()`)
	p.waitTrue(`document.querySelector('#device[data-state=connected]') !== null`, true)
	p.shot("11-linked-again")

	if err := chromedp.Do(ctx, chromedp.EmulateViewport(800, 900)); err != nil {
		t.Fatal(err)
	}
	p.waitTrue(`document.querySelector('.phone').getBoundingClientRect().top > document.querySelector('.portal').getBoundingClientRect().bottom`, false)
	p.shot("12-narrow-800")
}
