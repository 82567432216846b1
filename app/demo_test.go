package main

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// sandboxState mirrors the parts of GET /sandbox/api/state the tests read.
type sandboxState struct {
	Portal struct {
		Registered  bool `json:"registered"`
		Installed   bool `json:"installed"`
		Events      int  `json:"events"`
		LineHealthy bool `json:"line_healthy"`
	} `json:"portal"`
	Phone struct {
		Error   string   `json:"error"`
		Pairing bool     `json:"pairing"`
		Linked  []string `json:"linked"`
	} `json:"phone"`
	Customers []struct {
		Phone    string   `json:"phone"`
		Messages []bubble `json:"messages"`
	} `json:"customers"`
	Chats []struct {
		ChatID   string        `json:"chat_id"`
		Messages []lineMessage `json:"messages"`
	} `json:"chats"`
}

// bubble is a message in the customer's WhatsApp chat.
type bubble struct {
	ID     string `json:"id"`
	Mine   bool   `json:"mine"`
	Text   string `json:"text"`
	Image  string `json:"image"`
	Status string `json:"status"`
}

// lineMessage is a message in the Open Line chat.
type lineMessage struct {
	Operator  bool   `json:"operator"`
	Text      string `json:"text"`
	Delivered bool   `json:"delivered"`
	Read      bool   `json:"read"`
	Error     string `json:"error"`
	Files     []struct {
		URL   string `json:"url"`
		Image bool   `json:"image"`
	} `json:"files"`
}

// syncBuffer collects the app's log for a failing test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// sandboxEnv is a running -demo on free loopback ports.
type sandboxEnv struct {
	t      *testing.T
	demo   *demo
	base   string // sandbox URL without the trailing slash
	client *http.Client
	logs   *syncBuffer
}

func startSandbox(t *testing.T) *sandboxEnv {
	t.Helper()
	environ := map[string]string{
		"HTTP_ADDR": "127.0.0.1:0", "DATA_DIR": filepath.Join(t.TempDir(), "data-demo"),
		"LOG_LEVEL": "debug", "WA_SEND_INTERVAL": "10ms",
	}
	cfg, _, err := demoConfig(func(name string) (string, bool) { v, ok := environ[name]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	if err := prepareDemoDir(cfg.DataDir); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	d, err := startDemo(context.Background(), cfg, logs)
	if err != nil {
		t.Fatalf("start the demo: %v\n%s", err, logs)
	}
	env := &sandboxEnv{t: t, demo: d, base: strings.TrimSuffix(d.sandbox.URL(), "/"), logs: logs,
		client: &http.Client{Timeout: 30 * time.Second}}
	t.Cleanup(func() {
		if err := d.Close(context.Background()); err != nil {
			t.Errorf("close the demo: %v", err)
		}
		if t.Failed() {
			t.Logf("app log:\n%s", logs)
		}
	})
	return env
}

// call sends a JSON request to the sandbox API and decodes the response
// into out, failing unless the status is want.
func (env *sandboxEnv) call(method, path string, body any, want int, out any) {
	env.t.Helper()
	var r io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		r = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, env.base+path, r)
	req.Header.Set("Content-Type", "application/json")
	res, err := env.client.Do(req)
	if err != nil {
		env.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		env.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, res.StatusCode, want, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			env.t.Fatalf("%s %s: decode %s: %v", method, path, raw, err)
		}
	}
}

func (env *sandboxEnv) state() sandboxState {
	env.t.Helper()
	var st sandboxState
	env.call(http.MethodGet, "/sandbox/api/state", nil, http.StatusOK, &st)
	return st
}

// waitFor polls the state until ok returns true, for at most 20 s.
func (env *sandboxEnv) waitFor(what string, ok func(sandboxState) bool) sandboxState {
	env.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st := env.state()
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			raw, _ := json.MarshalIndent(st, "", "  ")
			env.t.Fatalf("timed out waiting until %s; state:\n%s", what, raw)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var (
	formActionPattern = regexp.MustCompile(`<form id="placement" method="post" action="([^"]+)"`)
	formInputPattern  = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

// openFrame loads /sandbox/open/<page> and posts its form to the app as the
// browser does, returning the app's response, the form's action and the
// response body.
func (env *sandboxEnv) openFrame(page string) (*http.Response, string, string) {
	env.t.Helper()
	res, err := env.client.Get(env.base + "/sandbox/open/" + page)
	if err != nil {
		env.t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := formActionPattern.FindStringSubmatch(string(raw))
	if m == nil {
		env.t.Fatalf("/sandbox/open/%s has no placement form:\n%s", page, raw)
	}
	action := html.UnescapeString(m[1])
	form := url.Values{}
	for _, in := range formInputPattern.FindAllStringSubmatch(string(raw), -1) {
		form.Add(html.UnescapeString(in[1]), html.UnescapeString(in[2]))
	}
	res, err = env.client.PostForm(action, form)
	if err != nil {
		env.t.Fatalf("post the %s form to %s: %v", page, action, err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res, action, string(body)
}

func TestSandboxStory(t *testing.T) {
	env := startSandbox(t)
	const business, customer = "15550100100", "15550100199"

	res, err := env.client.Get(env.base + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(page), `id="portal-frame"`) {
		t.Fatalf("sandbox page: status %d, body %.300s", res.StatusCode, page)
	}

	// Install: the installer POST registers the connector; the wizard ends.
	installRes, installAction, _ := env.openFrame("install")
	if installRes.StatusCode != http.StatusOK {
		t.Fatalf("install page: status %d", installRes.StatusCode)
	}
	if !strings.HasPrefix(installAction, env.demo.app.cfg.PublicBase()+"/install?") {
		t.Errorf("install form posts to %s", installAction)
	}
	env.call(http.MethodPost, "/sandbox/api/install/finish", map[string]any{}, http.StatusOK, nil)
	st := env.state()
	if !st.Portal.Registered || !st.Portal.Installed || st.Portal.Events == 0 {
		t.Fatalf("after install: registered %v, installed %v, %d events bound", st.Portal.Registered, st.Portal.Installed, st.Portal.Events)
	}

	// Contact Center frames the connector settings of the line.
	settings := openSettings(t, env)

	settings.startPairing(t)
	env.waitFor("a QR code is on screen", func(s sandboxState) bool { return s.Phone.Pairing })
	env.call(http.MethodPost, "/sandbox/api/phone/scan", map[string]string{"phone": "+1 555 010 0100", "push_name": "Sandbox Shop"}, http.StatusOK, nil)
	env.waitFor("the number is linked and the line active", func(s sandboxState) bool {
		return len(s.Phone.Linked) == 1 && s.Phone.Linked[0] == business && s.Portal.LineHealthy
	})

	// The customer writes; the Open Line receives the text and the picture.
	var sent struct{ ID string }
	env.call(http.MethodPost, "/sandbox/api/customer/send", map[string]any{"from": "+1 555 010 0199", "name": "Maria Garcia", "text": "Hello, is the shop open?"}, http.StatusOK, &sent)
	env.call(http.MethodPost, "/sandbox/api/customer/send", map[string]any{"from": customer, "name": "Maria Garcia", "text": "Like this one", "image": true}, http.StatusOK, nil)
	st = env.waitFor("both messages reach the Open Line", func(s sandboxState) bool {
		return len(s.Chats) == 1 && len(s.Chats[0].Messages) == 2 && len(s.Chats[0].Messages[1].Files) == 1
	})
	chat := st.Chats[0]
	if chat.Messages[0].Text != "Hello, is the shop open?" || chat.Messages[0].Operator {
		t.Errorf("first Open Line message: %+v", chat.Messages[0])
	}
	checkPictureArrived(t, env, st)

	// The operator replies; the reply reaches the phone and is confirmed.
	env.call(http.MethodPost, "/sandbox/api/operator/send", map[string]string{"chat_id": chat.ChatID, "text": "Yes, until 8 pm"}, http.StatusOK, nil)
	st = env.waitFor("the answer is delivered on both sides", func(s sandboxState) bool {
		reply := businessBubble(s, customer)
		return reply != nil && reply.Status == "delivered" && operatorMessage(s) != nil && operatorMessage(s).Delivered
	})
	if reply := businessBubble(st, customer); !strings.Contains(reply.Text, "Yes, until 8 pm") {
		t.Errorf("the customer got %q", reply.Text)
	}
	if op := operatorMessage(st); op.Read || op.Error != "" {
		t.Errorf("operator message before the customer read it: %+v", op)
	}
	env.waitFor("the customer's messages are marked read after the answer", func(s sandboxState) bool {
		return customerBubble(s, customer, sent.ID) != nil && customerBubble(s, customer, sent.ID).Status == "read"
	})

	// The customer reads the reply.
	var read struct{ Read int }
	env.call(http.MethodPost, "/sandbox/api/customer/read", map[string]string{"from": customer}, http.StatusOK, &read)
	if read.Read != 1 {
		t.Errorf("read receipts sent for %d messages, want 1", read.Read)
	}
	env.waitFor("the portal gets the read status", func(s sandboxState) bool {
		return operatorMessage(s).Read && businessBubble(s, customer).Status == "read"
	})

	// The phone removes the device; the line can be linked again.
	env.call(http.MethodPost, "/sandbox/api/phone/logout", map[string]string{"phone": business}, http.StatusOK, nil)
	env.waitFor("no number is linked", func(s sandboxState) bool { return len(s.Phone.Linked) == 0 })
	env.call(http.MethodPost, "/sandbox/api/customer/send", map[string]any{"from": customer, "text": "Anyone there?"}, http.StatusConflict, nil)

	settings = openSettings(t, env)
	if strings.Contains(settings.body, `data-step="success"`) {
		t.Error("after the phone removed the device, the settings page still shows the old pairing as linked")
	}
	settings.startPairing(t)
	env.waitFor("a new QR code is on screen", func(s sandboxState) bool { return s.Phone.Pairing })
	env.call(http.MethodPost, "/sandbox/api/phone/scan", map[string]string{"phone": business, "push_name": "Sandbox Shop"}, http.StatusOK, nil)
	env.waitFor("the number is linked again", func(s sandboxState) bool { return len(s.Phone.Linked) == 1 && s.Portal.LineHealthy })
	env.call(http.MethodPost, "/sandbox/api/customer/send", map[string]any{"from": customer, "text": "Back again"}, http.StatusOK, nil)
	st = env.waitFor("the message after relinking arrives", func(s sandboxState) bool {
		return len(s.Chats) == 1 && len(s.Chats[0].Messages) == 4
	})
	if got := st.Chats[0].Messages[3].Text; got != "Back again" {
		t.Errorf("last Open Line message %q", got)
	}
	if businessBubble(st, customer) == nil {
		t.Error("the customer's chat lost the reply sent before the device was removed")
	}
}

// settingsFrame is the connector settings page as the iframe got it.
type settingsFrame struct {
	client *http.Client
	appURL string
	api    string
	token  string
	body   string
}

var dataPattern = regexp.MustCompile(`(data-api|data-token)="([^"]*)"`)

// openSettings opens the settings placement and checks that the portal's
// origin may frame it.
func openSettings(t *testing.T, env *sandboxEnv) *settingsFrame {
	t.Helper()
	res, action, body := env.openFrame("settings")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("settings page: status %d, body %.500s", res.StatusCode, body)
	}
	if !strings.HasPrefix(action, env.demo.app.cfg.PublicBase()+"/settings?") {
		t.Errorf("settings form posts to %s", action)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'self' "+env.base) {
		t.Errorf("settings page CSP %q does not let %s frame it", csp, env.base)
	}
	f := &settingsFrame{client: env.client, appURL: env.demo.app.cfg.PublicBase(), body: body}
	for _, m := range dataPattern.FindAllStringSubmatch(body, -1) {
		if m[1] == "data-api" && f.api == "" {
			f.api = html.UnescapeString(m[2])
		}
		if m[1] == "data-token" && f.token == "" {
			f.token = html.UnescapeString(m[2])
		}
	}
	if f.api == "" || f.token == "" {
		t.Fatalf("settings page has no data-api or data-token:\n%.1000s", body)
	}
	return f
}

// startPairing presses the settings page's link button: its script posts
// to the pairing API with the frame token.
func (f *settingsFrame) startPairing(t *testing.T) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.appURL+f.api+"/pairing", nil)
	req.Header.Set("X-Frame-Token", f.token)
	res, err := f.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("start pairing: status %d, body %s", res.StatusCode, raw)
	}
}

// checkPictureArrived compares the picture the customer sent with the file
// the portal downloaded from the app.
func checkPictureArrived(t *testing.T, env *sandboxEnv, st sandboxState) {
	t.Helper()
	file := st.Chats[0].Messages[1].Files[0]
	if !file.Image {
		t.Fatalf("the portal's file is not shown as a picture: %+v", file)
	}
	var picture string
	for _, c := range st.Customers {
		for _, m := range c.Messages {
			if m.Image != "" {
				picture = m.Image
			}
		}
	}
	if picture == "" {
		t.Fatal("the customer's chat shows no picture")
	}
	sentPNG := env.get(picture)
	storedPNG := env.get(file.URL)
	if !bytes.HasPrefix(sentPNG, []byte("\x89PNG")) || !bytes.Equal(sentPNG, storedPNG) {
		t.Errorf("the portal stored %d bytes, the customer sent %d bytes of PNG", len(storedPNG), len(sentPNG))
	}
}

func (env *sandboxEnv) get(path string) []byte {
	env.t.Helper()
	res, err := env.client.Get(env.base + path)
	if err != nil {
		env.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		env.t.Fatalf("GET %s: status %d", path, res.StatusCode)
	}
	return raw
}

// businessBubble returns the newest message the business sent to phone.
func businessBubble(s sandboxState, phone string) *bubble {
	var found *bubble
	for _, c := range s.Customers {
		for i := range c.Messages {
			if c.Phone == phone && !c.Messages[i].Mine {
				found = &c.Messages[i]
			}
		}
	}
	return found
}

func customerBubble(s sandboxState, phone, id string) *bubble {
	for _, c := range s.Customers {
		for i := range c.Messages {
			if c.Phone == phone && c.Messages[i].ID == id {
				return &c.Messages[i]
			}
		}
	}
	return nil
}

// operatorMessage returns the newest operator message in the Open Line.
func operatorMessage(s sandboxState) *lineMessage {
	for c := range s.Chats {
		msgs := s.Chats[c].Messages
		for i := len(msgs) - 1; i >= 0; i-- {
			if msgs[i].Operator {
				return &msgs[i]
			}
		}
	}
	return nil
}

func TestDemoConfigForcesSandbox(t *testing.T) {
	environ := map[string]string{
		"WHATSAPP_BACKEND": "whatsmeow", "DATABASE_URL": "mysql://root@127.0.0.1:3306/prod",
		"SMTP_URL": "smtp://mail.example.com:587", "PUBLIC_URL": "https://wa.example.com",
	}
	cfg, ignored, err := demoConfig(func(name string) (string, bool) { v, ok := environ[name]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct{ name, got, want string }{
		{"WHATSAPP_BACKEND", cfg.WhatsAppBackend, "simulator"},
		{"DATABASE_URL", cfg.DatabaseURL, ""},
		{"SMTP_URL", cfg.SMTPURL, ""},
		{"PUBLIC_URL", cfg.PublicURL, "http://127.0.0.1:8080"},
		{"HTTP_ADDR", cfg.HTTPAddr, "127.0.0.1:8080"},
		{"DATA_DIR", cfg.DataDir, "./data-demo"},
		{"BX24_SCRIPT_URL", cfg.BX24ScriptURL, "-"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if !cfg.AllowInsecureHTTP {
		t.Error("ALLOW_INSECURE_HTTP is false")
	}
	if cfg.B24ClientID == "" || cfg.B24ClientSecret == "" || cfg.SecretKey == "" {
		t.Error("client id, client secret or secret key not generated")
	}
	if want := "DATABASE_URL,PUBLIC_URL,SMTP_URL,WHATSAPP_BACKEND"; strings.Join(ignored, ",") != want {
		t.Errorf("ignored %v, want %s", ignored, want)
	}
}

func TestDemoAddrRejectsNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:8080", "192.168.1.10:8080", "localhost:8080", "[::]:8080", "8080"} {
		_, _, err := demoConfig(func(name string) (string, bool) {
			if name == "HTTP_ADDR" {
				return addr, true
			}
			return "", false
		})
		if err == nil || !strings.Contains(err.Error(), "HTTP_ADDR") {
			t.Errorf("HTTP_ADDR=%s: error %v, want one naming HTTP_ADDR", addr, err)
		}
	}
}

func TestPrepareDemoDir(t *testing.T) {
	root := t.TempDir()
	write := func(path string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	fresh := filepath.Join(root, "fresh")
	if err := prepareDemoDir(fresh); err != nil {
		t.Fatalf("new directory: %v", err)
	}
	write(filepath.Join(fresh, "app.db"))
	write(filepath.Join(fresh, "media", "a.png"))
	if err := prepareDemoDir(fresh); err != nil {
		t.Fatalf("second start: %v", err)
	}
	entries, _ := os.ReadDir(fresh)
	if len(entries) != 1 || entries[0].Name() != demoMarker {
		t.Errorf("after clearing, the directory holds %v", entries)
	}

	foreign := filepath.Join(root, "production")
	write(filepath.Join(foreign, "app.db"))
	err := prepareDemoDir(foreign)
	if err == nil || !strings.Contains(err.Error(), "not made by -demo") {
		t.Fatalf("foreign directory: error %v", err)
	}
	if _, err := os.Stat(filepath.Join(foreign, "app.db")); err != nil {
		t.Errorf("the foreign directory lost its file: %v", err)
	}
}

// The sandbox page shows readable errors for actions out of order.
func TestSandboxActionsOutOfOrder(t *testing.T) {
	env := startSandbox(t)
	var answer struct{ Error string }
	cases := []struct {
		path   string
		body   any
		status int
		phrase string
	}{
		{"/sandbox/api/operator/send", map[string]string{"chat_id": "x", "text": "hi"}, http.StatusConflict, "install is not finished"},
		{"/sandbox/api/install/finish", map[string]any{}, http.StatusConflict, "has not registered the connector"},
		{"/sandbox/api/phone/scan", map[string]string{"phone": "15550100100"}, http.StatusConflict, "no QR code is on screen"},
		{"/sandbox/api/customer/send", map[string]string{"from": "15550100199", "text": "hi"}, http.StatusConflict, "no WhatsApp number is linked"},
		{"/sandbox/api/customer/send", map[string]string{"from": "", "text": "hi"}, http.StatusBadRequest, "number and a text"},
		{"/sandbox/api/phone/logout", map[string]string{"phone": "15550100100"}, http.StatusNotFound, "WhatsApp simulator"},
	}
	for _, c := range cases {
		answer.Error = ""
		env.call(http.MethodPost, c.path, c.body, c.status, &answer)
		if !strings.Contains(answer.Error, c.phrase) {
			t.Errorf("%s: error %q lacks %q", c.path, answer.Error, c.phrase)
		}
	}

	status, body := env.openFrameNotice(t, "settings")
	if status != http.StatusOK || !strings.Contains(body, "once the app is installed") {
		t.Errorf("settings before install: status %d, body %.300s", status, body)
	}
}

// openFrameNotice loads /sandbox/open/<page> when it shows a notice
// instead of a form.
func (env *sandboxEnv) openFrameNotice(t *testing.T, page string) (int, string) {
	t.Helper()
	res, err := env.client.Get(env.base + "/sandbox/open/" + page)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res.StatusCode, string(raw)
}
