package sandbox

import (
	"bytes"
	"encoding/json"
	"html"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The tests here need no app: AppURL names a closed loopback port. The
// whole story against the real app runs in app/demo_test.go.
const closedAppURL = "http://127.0.0.1:9"

func startSandbox(t *testing.T) *Sandbox {
	t.Helper()
	s, err := Start(Options{AppURL: closedAppURL, ClientID: "local.sandbox.test", ClientSecret: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func get(t *testing.T, s *Sandbox, path string) (*http.Response, string) {
	t.Helper()
	res, err := http.Get(strings.TrimSuffix(s.URL(), "/") + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

func TestStartChecksAppURL(t *testing.T) {
	cases := []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:8080", true},
		{"http://[::1]:8080/", true},
		{"http://localhost:8080", true},
		{"https://127.0.0.1:8080", false},
		{"http://10.0.0.1:8080", false},
		{"http://wa.example.com", false},
		{"", false},
	}
	for _, c := range cases {
		s, err := Start(Options{AppURL: c.url})
		if c.ok != (err == nil) {
			t.Errorf("AppURL %q: error %v, want ok %v", c.url, err, c.ok)
		}
		if s != nil {
			s.Close()
		}
	}
}

var (
	actionPattern = regexp.MustCompile(`<form id="placement" method="post" action="([^"]+)"`)
	inputPattern  = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

// The installer form carries the query and body of Bitrix24's installer
// POST, with an administrator's token that the portal accepts.
func TestOpenInstallForm(t *testing.T) {
	s := startSandbox(t)
	res, body := get(t, s, "/sandbox/open/install?lang=ru")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	m := actionPattern.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no placement form in:\n%s", body)
	}
	action, err := url.Parse(html.UnescapeString(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	if got := action.Scheme + "://" + action.Host + action.Path; got != closedAppURL+"/install" {
		t.Errorf("form posts to %s", got)
	}
	query := action.Query()
	if query.Get("DOMAIN") != s.Portal().Domain() || query.Get("PROTOCOL") != "0" || query.Get("LANG") != "ru" {
		t.Errorf("query %v", query)
	}
	fields := url.Values{}
	for _, in := range inputPattern.FindAllStringSubmatch(body, -1) {
		fields.Add(in[1], html.UnescapeString(in[2]))
	}
	for _, name := range []string{"AUTH_ID", "REFRESH_ID", "member_id", "APPLICATION_TOKEN", "PLACEMENT", "SERVER_ENDPOINT"} {
		if fields.Get(name) == "" {
			t.Errorf("form lacks %s", name)
		}
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action "+closedAppURL+";") {
		t.Errorf("CSP %q does not let the form post to the app", csp)
	}

	info := restCall(t, s, "app.info", fields.Get("AUTH_ID"))
	if info.StatusCode != http.StatusOK {
		t.Errorf("app.info with the form's AUTH_ID: status %d", info.StatusCode)
	}
}

func restCall(t *testing.T, s *Sandbox, method, token string) *http.Response {
	t.Helper()
	res, err := http.Post(s.Portal().ClientEndpoint()+method+"?auth="+url.QueryEscape(token), "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	return res
}

// Before the install finishes, Bitrix24 offers neither the connector tile
// nor the app's page.
func TestOpenPagesNeedInstall(t *testing.T) {
	s := startSandbox(t)
	for _, page := range []string{"settings", "app"} {
		res, body := get(t, s, "/sandbox/open/"+page)
		if res.StatusCode != http.StatusOK || strings.Contains(body, `id="placement"`) || !strings.Contains(body, `class="notice"`) {
			t.Errorf("%s before install: status %d, body %.300s", page, res.StatusCode, body)
		}
	}
	if res, _ := get(t, s, "/sandbox/open/elsewhere"); res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown page: status %d", res.StatusCode)
	}
}

func TestFinishInstallNeedsConnector(t *testing.T) {
	s := startSandbox(t)
	res, err := http.Post(strings.TrimSuffix(s.URL(), "/")+"/sandbox/api/install/finish", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var answer struct{ Error string }
	_ = json.NewDecoder(res.Body).Decode(&answer)
	if res.StatusCode != http.StatusConflict || !strings.Contains(answer.Error, "has not registered the connector") {
		t.Errorf("status %d, error %q", res.StatusCode, answer.Error)
	}
}

// Without the app, the state reports what is missing instead of failing.
func TestStateWithoutApp(t *testing.T) {
	s := startSandbox(t)
	res, body := get(t, s, "/sandbox/api/state")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	var st stateView
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	if st.Phone.Error == "" || st.Portal.Installed || st.Portal.Registered {
		t.Errorf("state %+v", st)
	}
	if st.Portal.Domain != s.Portal().Domain() || st.Portal.LineName != lineName {
		t.Errorf("portal %+v", st.Portal)
	}
}

func TestIndexPage(t *testing.T) {
	s := startSandbox(t)
	res, body := get(t, s, "/")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, s.Portal().Domain()) {
		t.Fatalf("status %d, body %.300s", res.StatusCode, body)
	}
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"frame-src 'self' " + closedAppURL, "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	for _, asset := range []string{"/sandbox/assets/sandbox.js", "/sandbox/assets/sandbox.css", "/sandbox/assets/open.js"} {
		if res, _ := get(t, s, asset); res.StatusCode != http.StatusOK {
			t.Errorf("%s: status %d", asset, res.StatusCode)
		}
	}
	if res, _ := get(t, s, "/sandbox/assets/../templates/index.html"); res.StatusCode == http.StatusOK {
		t.Error("templates are served as assets")
	}
}

func TestSamplePicture(t *testing.T) {
	first := samplePicture(time.Unix(0, 0))
	img, err := png.Decode(bytes.NewReader(first))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 160 || b.Dy() != 120 {
		t.Errorf("picture is %v", b)
	}
	if second := samplePicture(time.Unix(0, 0).Add(2 * time.Second)); bytes.Equal(first, second) {
		t.Error("two pictures two seconds apart are the same")
	}
}

// A file the portal fetched is shown inline only when it is a picture. Any
// other file is a download, so it cannot run as a page on the portal's origin.
func TestServeFileTypes(t *testing.T) {
	cases := []struct {
		contentType, wantType string
		attachment            bool
	}{
		{"image/png", "image/png", false},
		{"image/jpeg", "image/jpeg", false},
		{"text/html", "application/octet-stream", true},
		{"image/svg+xml", "application/octet-stream", true},
	}
	for _, c := range cases {
		rec := httptest.NewRecorder()
		serveFile(rec, c.contentType, "file name.bin", []byte("data"))
		if got := rec.Header().Get("Content-Type"); got != c.wantType {
			t.Errorf("%s: Content-Type %q, want %q", c.contentType, got, c.wantType)
		}
		if got := strings.HasPrefix(rec.Header().Get("Content-Disposition"), "attachment"); got != c.attachment {
			t.Errorf("%s: Content-Disposition %q", c.contentType, rec.Header().Get("Content-Disposition"))
		}
	}
}

func TestDigits(t *testing.T) {
	cases := map[string]string{
		"+1 555 010 0100":   "15550100100",
		"8 (912) 345-67-89": "79123456789",
		"+8 912 345 67 89":  "89123456789",
		"":                  "",
	}
	for in, want := range cases {
		if got := digits(in); got != want {
			t.Errorf("digits(%q) = %q, want %q", in, got, want)
		}
	}
}
