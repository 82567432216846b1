package e2e

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wabridge/b24wa/internal/dbtest"
	"github.com/wabridge/b24wa/portal/b24fake"
)

const (
	connectorID   = "b24wa_whatsapp" // the default B24_CONNECTOR_ID
	openLine      = 1                // the open line b24fake starts with
	shopPhone     = "79001234567"    // the business number linked to the line
	customerPhone = "79119876543"
	// stepTimeout bounds one step of the flow: a message crossing the
	// bridge, a pairing starting. Each normally takes well under a second.
	stepTimeout = 20 * time.Second
)

// boundEvents are the events the app must bind to PUBLIC_URL/events, as
// event.get reports them.
var boundEvents = []string{
	"ONIMCONNECTORMESSAGEADD", "ONIMCONNECTORMESSAGEUPDATE", "ONIMCONNECTORMESSAGEDELETE",
	"ONIMCONNECTORDIALOGSTART", "ONIMCONNECTORDIALOGFINISH", "ONIMCONNECTORSTATUSDELETE",
	"ONIMCONNECTORLINEDELETE", "ONAPPUNINSTALL", "ONAPPUPDATE", "ONAPPPAYMENT",
}

// TestEndToEnd walks the whole product through HTTP on each database:
// install, settings page, QR pairing, messages both ways with statuses,
// logout, re-link, a scan link, and uninstall with CLEAN=1.
func TestEndToEnd(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		runFlow(t, "")
	})
	t.Run("mariadb", func(t *testing.T) {
		t.Parallel()
		name, _ := dbtest.NewMySQLDatabase(t)
		runFlow(t, dbtest.URL(t, name))
	})
}

// flow is one walk through the product.
type flow struct {
	t     *testing.T
	ctx   context.Context
	a     *appServer
	fake  *b24fake.Portal
	dbURL string
	page  *framePage

	chatID string // the customer's chat.id at Bitrix24
	jids   []string
}

func runFlow(t *testing.T, dbURL string) {
	fake := b24fake.New(b24fake.Options{})
	t.Cleanup(fake.Close)
	f := &flow{t: t, ctx: t.Context(), fake: fake, dbURL: dbURL}
	f.a = startApp(t, appOptions{DatabaseURL: dbURL, Portal: fake})

	f.install()
	f.openSettings()
	f.jids = append(f.jids, f.pairOnSettingsPage())
	f.checkActivated()
	f.customerWrites()
	f.operatorReplies()
	f.restartKeepsLine()
	f.logout()
	f.jids = append(f.jids, f.pairOnSettingsPage())
	f.checkSessions(2)
	f.logout()
	f.pairWithScanLink()
	f.checkSessions(3)
	f.uninstall()
}

// install posts the installer page and sends ONAPPINSTALL, then checks
// what the portal recorded.
func (f *flow) install() {
	t := f.t
	res := f.a.placement(f.fake, "/install", b24fake.PlacementForm{})
	if res.status != http.StatusOK {
		t.Fatalf("installer POST: status %d, body %s", res.status, res)
	}
	if !strings.Contains(res.String(), `data-install-finish="1"`) {
		t.Errorf("installer page does not ask for BX24.installFinish:\n%s", res)
	}
	evt, err := f.fake.SendEvent(f.ctx, f.a.base+"/install", b24fake.EventAppInstall, f.fake.AppInstallData(), b24fake.WithRefreshToken())
	if err != nil {
		t.Fatal(err)
	}
	_ = evt.Body.Close()
	if evt.StatusCode != http.StatusOK {
		t.Fatalf("ONAPPINSTALL: status %d", evt.StatusCode)
	}

	c, ok := f.fake.Connectors()[connectorID]
	if !ok {
		t.Fatalf("connector %s is not registered; registered: %v", connectorID, f.fake.Connectors())
	}
	if c.PlacementHandler != f.a.base+"/settings" {
		t.Errorf("PLACEMENT_HANDLER = %q, want %s/settings", c.PlacementHandler, f.a.base)
	}
	f.checkRegisterFlags()
	f.checkBindings()
}

// checkRegisterFlags requires every flag of imconnector.register to be a
// JSON boolean, because the portal ignores "Y", 1 and form strings.
func (f *flow) checkRegisterFlags() {
	calls := f.fake.CallsTo("imconnector.register")
	if len(calls) == 0 {
		f.t.Fatal("imconnector.register was never called")
	}
	params := calls[len(calls)-1].Params
	flags := []string{"DEL_EXTERNAL_MESSAGES", "EDIT_INTERNAL_MESSAGES", "DEL_INTERNAL_MESSAGES",
		"NEWSLETTER", "NEED_SYSTEM_MESSAGES", "NEED_SIGNATURE", "CHAT_GROUP"}
	for _, name := range flags {
		if _, isBool := params[name].(bool); !isBool {
			f.t.Errorf("imconnector.register %s = %#v, want a JSON boolean", name, params[name])
		}
	}
	if params["NEED_SIGNATURE"] != true {
		f.t.Errorf("NEED_SIGNATURE = %#v, want true so operators' names reach customers", params["NEED_SIGNATURE"])
	}
}

// checkBindings requires each event bound once, to PUBLIC_URL/events.
func (f *flow) checkBindings() {
	handler := f.a.base + "/events"
	count := map[string]int{}
	for _, b := range f.fake.BoundEvents() {
		if b.Handler != handler {
			f.t.Errorf("event %s bound to %s, want %s", b.Event, b.Handler, handler)
		}
		count[b.Event]++
	}
	for _, name := range boundEvents {
		if count[name] != 1 {
			f.t.Errorf("event %s bound %d times, want once", name, count[name])
		}
	}
}

// openSettings posts the SETTING_CONNECTOR placement as the administrator.
func (f *flow) openSettings() {
	res := f.a.placement(f.fake, "/settings", f.settingsForm())
	f.page = openFramePage(f.t, f.a, res)
	if !strings.Contains(f.page.body, f.fake.Domain()) {
		f.t.Errorf("settings page does not name the portal %s", f.fake.Domain())
	}
	if ancestors := cspDirective(res.header.Get("Content-Security-Policy"), "frame-ancestors"); !slices.Contains(ancestors, f.fake.URL()) {
		f.t.Errorf("settings page CSP frame-ancestors %v does not let the portal %s frame it", ancestors, f.fake.URL())
	}
	if state, linked, _ := f.panel(); state != "new" || linked {
		f.t.Errorf("fresh line: state %q linked %v, want new and not linked", state, linked)
	}
}

func (f *flow) settingsForm() b24fake.PlacementForm {
	return b24fake.PlacementForm{Placement: "SETTING_CONNECTOR", Options: f.fake.SettingConnectorOptions(connectorID, openLine)}
}

// pairOnSettingsPage starts pairing through the page's API, reads the QR
// image as the browser shows it, scans it with the business phone and waits
// until the line is connected. It returns the new device JID.
func (f *flow) pairOnSettingsPage() string {
	t := f.t
	res := f.page.call(http.MethodPost, "/pairing", nil)
	if res.status != http.StatusOK {
		t.Fatalf("start pairing: status %d, body %s", res.status, res)
	}
	f.waitPairing(func(st pairingStatus) bool { return st.Step == "qr" && st.QR != "" }, "a QR code on the settings page")

	img := f.page.call(http.MethodGet, "/qr.png", nil)
	if img.status != http.StatusOK || img.header.Get("Content-Type") != "image/png" {
		t.Fatalf("qr.png: status %d, type %q", img.status, img.header.Get("Content-Type"))
	}
	code := decodeQR(t, img.body)
	if want := f.a.simulatorQR(); code != want {
		t.Fatalf("the QR image holds %.20q..., the phone sees %.20q...", code, want)
	}
	jid := f.a.scan(code, shopPhone, "Shop")
	f.waitPairing(func(st pairingStatus) bool { return st.Step == "success" }, "pairing success")
	waitFor(t, stepTimeout, "the line to be connected", func() bool {
		state, linked, _ := f.panel()
		return state == "connected" && linked
	})
	return jid
}

// waitPairing polls the page's pairing status until done holds.
func (f *flow) waitPairing(done func(pairingStatus) bool, what string) {
	f.t.Helper()
	var last pairingStatus
	waitFor(f.t, stepTimeout, what, func() bool {
		res := f.page.call(http.MethodGet, "/pairing", nil)
		if res.status != http.StatusOK {
			f.t.Fatalf("pairing status: status %d, body %s", res.status, res)
		}
		decodeJSON(f.t, res, &last)
		if last.Step == "failed" || last.Step == "expired" {
			f.t.Fatalf("pairing ended with %q: %s", last.Step, last.Message)
		}
		return done(last)
	})
}

var (
	panelState   = regexp.MustCompile(`id="device" data-state="([^"]*)" data-linked="([^"]*)"`)
	panelSession = regexp.MustCompile(`<tr data-session>`)
)

// panel reads the device state and the number of device sessions from the
// line's panel, the HTML the settings page shows.
func (f *flow) panel() (state string, linked bool, sessions int) {
	f.t.Helper()
	res := f.page.call(http.MethodGet, "/panel", nil)
	if res.status != http.StatusOK {
		f.t.Fatalf("panel: status %d, body %s", res.status, res)
	}
	m := panelState.FindStringSubmatch(res.String())
	if m == nil {
		f.t.Fatalf("panel has no device section:\n%s", res)
	}
	return m[1], m[2] == "true", len(panelSession.FindAllString(res.String(), -1))
}

// checkSessions requires n rows in the panel's device session list, with
// every device JID different.
func (f *flow) checkSessions(n int) {
	f.t.Helper()
	if _, _, sessions := f.panel(); sessions != n {
		f.t.Errorf("panel lists %d device sessions, want %d", sessions, n)
	}
	seen := map[string]bool{}
	for _, jid := range f.jids {
		if seen[jid] {
			f.t.Errorf("device JID %s was linked twice; a re-link must get a new device", jid)
		}
		seen[jid] = true
	}
}

// checkActivated requires imconnector.activate and then
// imconnector.connector.data.set for the line after pairing.
func (f *flow) checkActivated() {
	t := f.t
	activate, dataSet := -1, -1
	waitFor(t, stepTimeout, "imconnector.activate and then imconnector.connector.data.set", func() bool {
		activate, dataSet = -1, -1
		for i, c := range f.fake.Calls() {
			line := paramText(c.Params["LINE"])
			switch {
			case c.Method == "imconnector.activate" && paramText(c.Params["ACTIVE"]) == "1" && line == "1" && activate < 0:
				activate = i
			case c.Method == "imconnector.connector.data.set" && line == "1" && activate >= 0 && dataSet < 0:
				dataSet = i
			}
		}
		return activate >= 0 && dataSet > activate
	})
	if !slices.Contains(f.fake.ActiveLines(connectorID), openLine) {
		t.Errorf("connector is not active on line %d; active lines %v", openLine, f.fake.ActiveLines(connectorID))
	}
	if st, _ := f.fake.LineStatus(connectorID, openLine); !st.Status() {
		t.Errorf("line status at the portal = %+v, want active, connected and registered", st)
	}
}

// cspDirective returns the sources of one directive of a
// Content-Security-Policy header.
func cspDirective(policy, name string) []string {
	for _, directive := range strings.Split(policy, ";") {
		fields := strings.Fields(directive)
		if len(fields) > 0 && fields[0] == name {
			return fields[1:]
		}
	}
	return nil
}
