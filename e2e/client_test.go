package e2e

import (
	"bytes"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wabridge/b24wa/portal/b24fake"
)

// response is an HTTP response of the app with its body read in full.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) String() string { return string(r.body) }

// do sends req to the app and reads the whole response. A transport error
// fails the test.
func (a *appServer) do(req *http.Request) response {
	a.t.Helper()
	res, err := a.http.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		a.t.Fatalf("%s %s: read body: %v", req.Method, req.URL, err)
	}
	return response{status: res.StatusCode, header: res.Header, body: body}
}

// get requests a path or an absolute URL of the app.
func (a *appServer) get(target string) response {
	a.t.Helper()
	req, err := http.NewRequest(http.MethodGet, a.url(target), nil)
	if err != nil {
		a.t.Fatal(err)
	}
	return a.do(req)
}

// postJSON posts in as JSON and decodes a 200 response into out (when not nil).
func (a *appServer) postJSON(path string, in, out any) response {
	a.t.Helper()
	raw, err := json.Marshal(in)
	if err != nil {
		a.t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, a.url(path), bytes.NewReader(raw))
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	res := a.do(req)
	if out != nil && res.status == http.StatusOK {
		decodeJSON(a.t, res, out)
	}
	return res
}

// getJSON requests path and decodes its JSON response, failing unless it is 200.
func (a *appServer) getJSON(path string, out any) {
	a.t.Helper()
	res := a.get(path)
	if res.status != http.StatusOK {
		a.t.Fatalf("GET %s: status %d, body %s", path, res.status, res)
	}
	decodeJSON(a.t, res, out)
}

func (a *appServer) url(target string) string {
	if strings.HasPrefix(target, "http://") {
		return target
	}
	return a.base + target
}

func decodeJSON(t *testing.T, res response, out any) {
	t.Helper()
	if err := json.Unmarshal(res.body, out); err != nil {
		t.Fatalf("answer is not the expected JSON: %v; body %s", err, res)
	}
}

// placement posts the portal's form for a placement (the installer or the
// settings page) as Bitrix24 does into its iframe.
func (a *appServer) placement(fake *b24fake.Portal, path string, form b24fake.PlacementForm) response {
	a.t.Helper()
	req := fake.NewPlacementRequest(a.base+path, form)
	return a.do(req)
}

// framePage is an opened iframe page: the token and API base its scripts use.
type framePage struct {
	a     *appServer
	body  string
	token string
	api   string
}

var dataAttr = regexp.MustCompile(`(data-[a-z-]+)="([^"]*)"`)

// openFramePage reads the data-token and data-api attributes of a page.
func openFramePage(t *testing.T, a *appServer, res response) *framePage {
	t.Helper()
	if res.status != http.StatusOK {
		t.Fatalf("settings page: status %d, body %s", res.status, res)
	}
	p := &framePage{a: a, body: res.String()}
	for _, m := range dataAttr.FindAllStringSubmatch(p.body, -1) {
		switch m[1] {
		case "data-token":
			p.token = html.UnescapeString(m[2])
		case "data-api":
			p.api = html.UnescapeString(m[2])
		}
	}
	if p.token == "" || p.api == "" {
		t.Fatalf("settings page has no data-token or data-api:\n%s", p.body)
	}
	return p
}

// call sends a request of the page's scripts: form-encoded, with the frame
// token in X-Frame-Token.
func (p *framePage) call(method, path string, form url.Values) response {
	p.a.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, p.a.base+p.api+path, body)
	if err != nil {
		p.a.t.Fatal(err)
	}
	req.Header.Set("X-Frame-Token", p.token)
	req.Header.Set("Accept", "application/json")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return p.a.do(req)
}

// pairingStatus is the JSON of GET .../pairing and GET /link/<token>/status.
type pairingStatus struct {
	Step        string `json:"step"`
	QR          string `json:"qr"` // version of the code, not the code
	QRExpiresIn int    `json:"qr_expires_in"`
	Phone       string `json:"phone"`
	Message     string `json:"message"`
}

// waitFor polls cond every 50 ms until it holds, failing the test after
// timeout with what.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
