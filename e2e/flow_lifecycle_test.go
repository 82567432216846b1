package e2e

import (
	"io/fs"
	"net/http"
	"path/filepath"
	"slices"
	"strings"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/connector"
	"github.com/wabridge/b24wa/internal/database"
	"github.com/wabridge/b24wa/internal/dbtest"
	"github.com/wabridge/b24wa/portal"
	"github.com/wabridge/b24wa/portal/b24fake"
)

// logout unlinks the device with the page's button and checks the line, the
// portal and the simulated phone.
func (f *flow) logout() {
	t := f.t
	res := f.page.call(http.MethodPost, "/logout", nil)
	if res.status != http.StatusOK || !strings.Contains(res.String(), `"logged_out"`) {
		t.Fatalf("logout: status %d, body %s", res.status, res)
	}
	if state, linked, _ := f.panel(); state != "logged_out" || linked {
		t.Errorf("after logout: state %q linked %v, want logged_out and not linked", state, linked)
	}
	waitFor(t, stepTimeout, "the connector to be deactivated on the line", func() bool {
		return !slices.Contains(f.fake.ActiveLines(connectorID), openLine)
	})
	jid := f.jids[len(f.jids)-1]
	for _, d := range f.a.simulatorState().Devices {
		if d.JID == jid {
			t.Errorf("device %s is still linked on the phone after logout", jid)
		}
	}
}

// pairWithScanLink creates a scan link on the settings page and pairs
// through its public page, as a helper without portal access does.
func (f *flow) pairWithScanLink() {
	t := f.t
	var link struct {
		URL       string `json:"url"`
		Token     string `json:"token"`
		ExpiresIn int    `json:"expires_in"`
	}
	res := f.page.call(http.MethodPost, "/scan-links", nil)
	if res.status != http.StatusCreated {
		t.Fatalf("create scan link: status %d, body %s", res.status, res)
	}
	decodeJSON(t, res, &link)
	if link.URL != f.a.base+"/link/"+link.Token || len(link.Token) < 43 {
		t.Errorf("scan link %q with token of %d characters, want %s/link/<256-bit token>", link.URL, len(link.Token), f.a.base)
	}
	if link.ExpiresIn <= 0 || link.ExpiresIn > 15*60 {
		t.Errorf("scan link expires in %d s, want at most 15 minutes", link.ExpiresIn)
	}

	page := f.a.get(link.URL)
	if page.status != http.StatusOK {
		t.Fatalf("scan link page: status %d, body %s", page.status, page)
	}
	if !strings.Contains(page.String(), f.fake.Domain()) {
		t.Errorf("scan link page does not name the portal %s", f.fake.Domain())
	}
	if robots := page.header.Get("X-Robots-Tag"); !strings.Contains(robots, "noindex") {
		t.Errorf("scan link page X-Robots-Tag = %q, want noindex", robots)
	}

	f.waitLinkStatus(link.URL, "qr")
	img := f.a.get(link.URL + "/qr.png")
	if img.status != http.StatusOK {
		t.Fatalf("scan link qr.png: status %d, body %s", img.status, img)
	}
	code := decodeQR(t, img.body)
	if want := f.a.simulatorQR(); code != want {
		t.Fatalf("the scan link QR holds %.20q..., the phone sees %.20q...", code, want)
	}
	f.jids = append(f.jids, f.a.scan(code, shopPhone, "Shop"))
	f.waitLinkStatus(link.URL, "success")
	if state, linked, _ := f.panel(); state != "connected" || !linked {
		t.Errorf("after pairing through the link: state %q linked %v, want connected", state, linked)
	}
	if again := f.a.get(link.URL); again.status == http.StatusOK {
		t.Errorf("a used scan link still opens the pairing page")
	}
}

// waitLinkStatus polls the scan link page's status until step.
func (f *flow) waitLinkStatus(linkURL, step string) {
	f.t.Helper()
	waitFor(f.t, stepTimeout, "scan link step "+step, func() bool {
		var st pairingStatus
		f.a.getJSON(linkURL+"/status", &st)
		if st.Step == "failed" || st.Step == "expired" {
			f.t.Fatalf("scan link pairing ended with %q: %s", st.Step, st.Message)
		}
		return st.Step == step
	})
}

// uninstall removes the app from the portal with CLEAN=1 and checks that
// the portal's data is gone.
func (f *flow) uninstall() {
	t := f.t
	f.fake.Uninstall()
	evt, err := f.fake.SendEvent(f.ctx, f.a.base+"/events", b24fake.EventAppUninstall,
		f.fake.AppUninstallData(true), b24fake.WithoutTokens())
	if err != nil {
		t.Fatal(err)
	}
	_ = evt.Body.Close()
	if evt.StatusCode != http.StatusOK {
		t.Fatalf("ONAPPUNINSTALL: status %d", evt.StatusCode)
	}

	res := f.a.placement(f.fake, "/settings", f.settingsForm())
	if res.status != http.StatusForbidden {
		t.Errorf("settings page after uninstall: status %d, want 403", res.status)
	}
	if !strings.Contains(res.String(), "not installed") {
		t.Errorf("settings page after uninstall does not say the app is not installed:\n%s", res)
	}
	for _, d := range f.a.simulatorState().Devices {
		if d.Phone == shopPhone {
			t.Errorf("device %s is still linked on the phone after uninstall", d.JID)
		}
	}
	f.a.stop()
	f.checkDataGone()
}

// checkDataGone opens the app's database directly and requires every row
// of the portal gone, and the re-hosted media deleted.
func (f *flow) checkDataGone() {
	t := f.t
	db := f.openDatabase()
	tables := []struct {
		name  string
		model any
	}{
		{"portals", &portal.Portal{}}, {"lines", &connector.Line{}}, {"device_sessions", &connector.DeviceSession{}},
		{"scan_links", &connector.ScanLink{}}, {"chats", &connector.Chat{}}, {"message_links", &connector.MessageLink{}},
		{"deliveries", &connector.Delivery{}}, {"media_files", &connector.MediaFile{}},
	}
	for _, table := range tables {
		var n int64
		if err := db.Model(table.model).Count(&n).Error; err != nil {
			t.Errorf("count %s: %v", table.name, err)
			continue
		}
		if n != 0 {
			t.Errorf("%s has %d rows after uninstall with CLEAN=1, want 0", table.name, n)
		}
	}
	var left []string
	_ = filepath.WalkDir(filepath.Join(f.a.dataDir, "media"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			left = append(left, strings.TrimPrefix(path, f.a.dataDir+string(filepath.Separator)))
		}
		return nil
	})
	if len(left) > 0 {
		t.Errorf("DATA_DIR/media keeps %d files of the uninstalled portal: %v", len(left), left)
	}
}

// openDatabase opens the database the binary used, closed with the test.
func (f *flow) openDatabase() *gorm.DB {
	t := f.t
	target, err := database.ParseURL(f.dbURL, f.a.dataDir)
	if err != nil {
		t.Fatal(err)
	}
	db, err := database.Open(f.ctx, target, dbtest.Logger(t))
	if err != nil {
		t.Fatalf("open the app's database: %v", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sqlDB.Close() })
	return db
}
