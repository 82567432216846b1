package b24fake_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/wabridge/b24wa/portal/b24fake"
)

// call posts a JSON body to method with token and decodes the response.
func call(t *testing.T, p *b24fake.Portal, token, method string, body map[string]any) (int, map[string]any) {
	t.Helper()
	if body == nil {
		body = map[string]any{}
	}
	body["auth"] = token
	data, _ := json.Marshal(body)
	res, err := http.Post(p.ClientEndpoint()+method, "application/json", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatalf("%s: decode answer: %v", method, err)
	}
	return res.StatusCode, out
}

func newPortal(t *testing.T, opts b24fake.Options) (*b24fake.Portal, string) {
	t.Helper()
	p := b24fake.New(opts)
	t.Cleanup(p.Close)
	access, _ := p.IssueTokens(1, true)
	return p, access
}

func registerBody(id string) map[string]any {
	return map[string]any{
		"ID": id, "NAME": "WhatsApp", "ICON": map[string]any{"DATA_IMAGE": "data:image/svg+xml,x"},
		"PLACEMENT_HANDLER": "https://app.example.com/settings",
	}
}

func activate(t *testing.T, p *b24fake.Portal, token, connector string, line int) {
	t.Helper()
	if status, out := call(t, p, token, "imconnector.register", registerBody(connector)); status != 200 {
		t.Fatalf("register: %d %v", status, out)
	}
	body := map[string]any{"CONNECTOR": connector, "LINE": line, "ACTIVE": "1"}
	if status, out := call(t, p, token, "imconnector.activate", body); status != 200 {
		t.Fatalf("activate: %d %v", status, out)
	}
}

func TestRegisterHonoursOnlyJSONBooleans(t *testing.T) {
	p, token := newPortal(t, b24fake.Options{})
	strict := registerBody("Acme_WA")
	strict["CHAT_GROUP"], strict["NEED_SIGNATURE"] = true, false
	if status, out := call(t, p, token, "imconnector.register", strict); status != 200 || out["result"].(map[string]any)["result"] != true {
		t.Fatalf("register = %d %v", status, out)
	}
	c, ok := p.Connectors()["acme_wa"]
	if !ok {
		t.Fatalf("connector not stored under the lower-case id: %v", p.Connectors())
	}
	if !c.ChatGroup || c.NeedSignature {
		t.Errorf("JSON booleans ignored: CHAT_GROUP %v NEED_SIGNATURE %v", c.ChatGroup, c.NeedSignature)
	}

	loose := registerBody("acme_wa")
	loose["CHAT_GROUP"], loose["NEED_SIGNATURE"] = "Y", "0"
	call(t, p, token, "imconnector.register", loose)
	c = p.Connectors()["acme_wa"]
	if c.ChatGroup || !c.NeedSignature {
		t.Errorf("string flags applied: CHAT_GROUP %v NEED_SIGNATURE %v, want the defaults false and true", c.ChatGroup, c.NeedSignature)
	}
}

func TestRegisterInResultErrors(t *testing.T) {
	p, token := newPortal(t, b24fake.Options{})
	cases := map[string]map[string]any{
		"CONNECTOR_ID_REQUIRED":                {"NAME": "x"},
		"APPLICATION_REGISTRATION_ERROR_POINT": registerBody("acme.wa"),
		"ICON_REQUIRED":                        {"ID": "a", "NAME": "x", "PLACEMENT_HANDLER": "https://x.example.com/"},
	}
	for code, body := range cases {
		status, out := call(t, p, token, "imconnector.register", body)
		result, _ := out["result"].(map[string]any)
		if status != 200 || result["result"] != false || result["error"] != code {
			t.Errorf("%s: answer %d %v", code, status, out)
		}
	}
}

func TestSendMessagesNotActiveLine(t *testing.T) {
	p, token := newPortal(t, b24fake.Options{})
	call(t, p, token, "imconnector.register", registerBody("acme_wa"))
	status, out := call(t, p, token, "imconnector.send.messages", sendBody("acme_wa", "hello", nil))
	if status != 400 || out["error"] != "NOT_ACTIVE_LINE" {
		t.Errorf("answer %d %v, want 400 NOT_ACTIVE_LINE", status, out)
	}
}

func sendBody(connector, text string, files []any) map[string]any {
	message := map[string]any{"id": "wamid.1", "text": text}
	if files != nil {
		message["files"] = files
	}
	return map[string]any{"CONNECTOR": connector, "LINE": 1, "MESSAGES": []any{map[string]any{
		"user": map[string]any{"id": "155500"}, "message": message, "chat": map[string]any{"id": "wa:155500"},
	}}}
}

func TestSendMessagesElementFailureUnderSuccess(t *testing.T) {
	p, token := newPortal(t, b24fake.Options{})
	activate(t, p, token, "acme_wa", 1)
	media := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/ok.jpg" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "image/jpeg")
		_, _ = w.Write([]byte("JPEG"))
	}))
	defer media.Close()

	status, out := call(t, p, token, "imconnector.send.messages",
		sendBody("acme_wa", "", []any{map[string]any{"url": media.URL + "/gone.jpg"}}))
	result := out["result"].(map[string]any)
	element := result["DATA"].(map[string]any)["RESULT"].([]any)[0].(map[string]any)
	if status != 200 || result["SUCCESS"] != true || element["SUCCESS"] != false {
		t.Errorf("answer %d %v, want top-level SUCCESS true and the element false", status, out)
	}
	got := p.ReceivedMessages()
	if len(got) != 1 || got[0].ErrorCode != "IMCONNECTOR_NOT_ALL_THE_REQUIRED_DATA" || got[0].Files[0].Status != 404 {
		t.Errorf("recorded %+v", got)
	}

	_, out = call(t, p, token, "imconnector.send.messages",
		sendBody("acme_wa", "", []any{map[string]any{"url": media.URL + "/ok.jpg"}}))
	element = out["result"].(map[string]any)["DATA"].(map[string]any)["RESULT"].([]any)[0].(map[string]any)
	session, _ := element["session"].(map[string]any)
	if element["SUCCESS"] != true || session["CHAT_ID"] == nil {
		t.Errorf("file-only message: %v", element)
	}
	got = p.ReceivedMessages()
	if f := got[1].Files[0]; string(f.Body) != "JPEG" || f.ContentType != "image/jpeg" || f.Name != "ok.jpg" {
		t.Errorf("fetched file = %+v", f)
	}
}

func TestDeliveryStatusNeedsArray(t *testing.T) {
	p, token := newPortal(t, b24fake.Options{})
	activate(t, p, token, "acme_wa", 1)
	body := func(id any) map[string]any {
		return map[string]any{"CONNECTOR": "acme_wa", "LINE": 1, "MESSAGES": []any{map[string]any{
			"im": map[string]any{"chat_id": 10, "message_id": 20}, "message": map[string]any{"id": id},
			"chat": map[string]any{"id": "wa:1"},
		}}}
	}
	status, out := call(t, p, token, "imconnector.send.status.delivery", body("wamid.X"))
	if status != 400 || out["error"] != "ERROR_ARGUMENT" {
		t.Errorf("scalar message.id: %d %v, want 400 ERROR_ARGUMENT", status, out)
	}
	status, out = call(t, p, token, "imconnector.send.status.delivery", body([]any{"wamid.X"}))
	if status != 200 {
		t.Fatalf("array message.id: %d %v", status, out)
	}
	got := p.DeliveryStatuses()
	if len(got) != 1 || got[0].IMMessageID != 20 || got[0].ExternalIDs[0] != "wamid.X" {
		t.Errorf("recorded %+v", got)
	}
}

func TestTokensExpireAndRotate(t *testing.T) {
	p, _ := newPortal(t, b24fake.Options{})
	access, refresh := p.IssueTokens(1, true)
	p.ExpireAccessTokens()
	if status, out := call(t, p, access, "app.info", nil); status != 401 || out["error"] != "expired_token" {
		t.Errorf("expired token: %d %v", status, out)
	}
	if status, out := call(t, p, "", "app.info", nil); status != 401 || out["error"] != "NO_AUTH_FOUND" {
		t.Errorf("no token: %d %v", status, out)
	}
	tokenURL := strings.TrimSuffix(p.ServerEndpoint(), "rest/") + "oauth/token/"
	refreshOnce := func() (int, map[string]any) {
		q := url.Values{"grant_type": {"refresh_token"}, "client_id": {p.ClientID()},
			"client_secret": {p.ClientSecret()}, "refresh_token": {refresh}}
		res, err := http.Get(tokenURL + "?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(res.Body).Decode(&out)
		return res.StatusCode, out
	}
	status, out := refreshOnce()
	if status != 200 || out["access_token"] == "" || out["client_endpoint"] != p.ClientEndpoint() {
		t.Fatalf("refresh: %d %v", status, out)
	}
	if status, out := refreshOnce(); status != 400 || out["error"] != "invalid_grant" {
		t.Errorf("reused refresh token: %d %v, want 400 invalid_grant", status, out)
	}
}

func TestEventBindRules(t *testing.T) {
	p, token := newPortal(t, b24fake.Options{})
	bind := map[string]any{"event": "OnImConnectorMessageAdd", "handler": "https://app.example.com/events"}
	if status, _ := call(t, p, token, "event.bind", bind); status != 200 {
		t.Fatalf("first bind: %d", status)
	}
	if status, out := call(t, p, token, "event.bind", bind); status != 400 || out["error"] != "ERROR_CORE" {
		t.Errorf("duplicate bind: %d %v, want 400 ERROR_CORE", status, out)
	}
	bad := map[string]any{"event": "OnAppUpdate", "handler": "http://localhost/events"}
	if status, out := call(t, p, token, "event.bind", bad); status != 400 || out["error"] != "ERROR_WRONG_HANDLER_URL" {
		t.Errorf("undotted host: %d %v, want ERROR_WRONG_HANDLER_URL", status, out)
	}
	_, out := call(t, p, token, "event.get", nil)
	rows := out["result"].([]any)
	if len(rows) != 1 || rows[0].(map[string]any)["event"] != "ONIMCONNECTORMESSAGEADD" {
		t.Errorf("event.get = %v", rows)
	}
}

func TestWebhookCannotUseImconnector(t *testing.T) {
	p, _ := newPortal(t, b24fake.Options{})
	hook := p.AddWebhook(1)
	res, err := http.Post(hook+"imconnector.status", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 403 || !strings.Contains(string(body), "WRONG_AUTH_TYPE") {
		t.Errorf("webhook call: %d %s, want 403 WRONG_AUTH_TYPE", res.StatusCode, body)
	}
}

func TestRateLimitRejectsOverflow(t *testing.T) {
	p, token := newPortal(t, b24fake.Options{RateBurst: 3, RatePerSec: 0.001})
	for i := range 3 {
		if status, _ := call(t, p, token, "user.admin", nil); status != 200 {
			t.Fatalf("call %d: %d", i, status)
		}
	}
	if status, out := call(t, p, token, "user.admin", nil); status != 503 || out["error"] != "QUERY_LIMIT_EXCEEDED" {
		t.Errorf("fourth call: %d %v, want 503 QUERY_LIMIT_EXCEEDED", status, out)
	}
}

func TestBatchSectionsAndLimit(t *testing.T) {
	p, token := newPortal(t, b24fake.Options{})
	status, out := call(t, p, token, "batch", map[string]any{"halt": 0, "cmd": map[string]any{"a": "user.admin", "b": "app.info"}})
	result := out["result"].(map[string]any)
	if status != 200 || len(result["result_error"].([]any)) != 0 {
		t.Errorf("batch = %d %v, want an empty result_error list", status, out)
	}
	cmd := map[string]any{}
	for i := range 51 {
		cmd[strings.Repeat("k", i+1)] = "user.admin"
	}
	status, out = call(t, p, token, "batch", map[string]any{"cmd": cmd})
	if status != 400 || out["error"] != "ERROR_BATCH_LENGTH_EXCEEDED" {
		t.Errorf("51 commands: %d %v", status, out)
	}
}

func TestOperatorSendsEventToHandler(t *testing.T) {
	p, token := newPortal(t, b24fake.Options{})
	activate(t, p, token, "acme_wa", 1)
	got := make(chan url.Values, 1)
	handler := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		got <- r.PostForm
	}))
	defer handler.Close()
	bind := map[string]any{"event": "OnImConnectorMessageAdd", "handler": handler.URL + "/events"}
	if status, out := call(t, p, token, "event.bind", bind); status != 200 {
		t.Fatalf("bind: %d %v", status, out)
	}

	sent, err := p.OperatorSends(context.Background(), b24fake.OperatorMessage{Line: 1, ChatID: "wa:155500", Text: "Hello"})
	if err != nil {
		t.Fatal(err)
	}
	form := <-got
	want := map[string]string{
		"event":                             "ONIMCONNECTORMESSAGEADD",
		"data[CONNECTOR]":                   "acme_wa",
		"data[LINE]":                        "1",
		"data[MESSAGES][0][chat][id]":       "wa:155500",
		"data[MESSAGES][0][message][text]":  "[b]Anna Admin:[/b][br] Hello",
		"data[MESSAGES][0][im][message_id]": strconv.Itoa(sent.IMMessageID),
		"auth[application_token]":           p.ApplicationToken(),
		"auth[member_id]":                   p.MemberID(),
	}
	for k, v := range want {
		if form.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, form.Get(k), v)
		}
	}
	if form.Get("auth[access_token]") == "" || form.Has("auth[refresh_token]") {
		t.Errorf("auth block: access %q, refresh present %v", form.Get("auth[access_token]"), form.Has("auth[refresh_token]"))
	}
}
