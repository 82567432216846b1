package handlers

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"

	"github.com/wabridge/b24wa/connector/wa"
	"github.com/wabridge/b24wa/connector/wa/simulator"
)

type simEnv struct {
	e     *echo.Echo
	sim   *simulator.Simulator
	clock *simulator.FakeClock
}

func newSimEnv(t *testing.T) *simEnv {
	t.Helper()
	clock := simulator.NewFakeClock(time.Date(2025, 12, 1, 10, 0, 0, 0, time.UTC))
	sim := simulator.New(simulator.Options{Clock: clock})
	t.Cleanup(func() { _ = sim.Close() })
	e := NewEcho(Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	RegisterSimulator(e, sim)
	return &simEnv{e: e, sim: sim, clock: clock}
}

// call sends a request through the router and decodes the JSON response.
func (env *simEnv) call(t *testing.T, method, path, body string) (int, map[string]any, []byte) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	}
	rec := httptest.NewRecorder()
	env.e.ServeHTTP(rec, req)
	var obj map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &obj)
	return rec.Code, obj, rec.Body.Bytes()
}

// simEvents collects a session's events for the API tests.
type simEvents struct {
	mu     sync.Mutex
	events []any
}

func (s *simEvents) handle(evt any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, evt)
	return nil
}

func (s *simEvents) has(match func(any) bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, evt := range s.events {
		if match(evt) {
			return true
		}
	}
	return false
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func (env *simEnv) startPairing(t *testing.T, prePair func(types.JID, string, string) bool) (wa.Session, *simEvents) {
	t.Helper()
	evts := &simEvents{}
	sess, err := env.sim.Open(context.Background(), types.EmptyJID, evts.handle, wa.OpenOptions{PrePair: prePair})
	if err != nil {
		t.Fatal(err)
	}
	items, err := sess.PairQR(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for range items {
		}
	}()
	return sess, evts
}

func TestSimulatorScanRoute(t *testing.T) {
	env := newSimEnv(t)
	if code, body, _ := env.call(t, http.MethodGet, "/simulator/qr", ""); code != http.StatusNotFound || body["error"] == "" {
		t.Errorf("GET /qr without pairing = %d %v, want 404 with an error", code, body)
	}
	sess, _ := env.startPairing(t, nil)

	_, qrBody, _ := env.call(t, http.MethodGet, "/simulator/qr", "")
	qr, _ := qrBody["qr"].(string)
	if strings.Count(qr, ",") != 3 {
		t.Fatalf("GET /qr = %v, want a code with 4 parts", qrBody)
	}
	code, body, _ := env.call(t, http.MethodPost, "/simulator/scan", `{"qr":"2@unknown,a,b,c","phone":"79001234567"}`)
	if code != http.StatusNotFound || !strings.Contains(body["error"].(string), "QR code") {
		t.Errorf("scan unknown = %d %v, want 404 naming the QR code", code, body)
	}
	code, body, _ = env.call(t, http.MethodPost, "/simulator/scan", `{"qr":`+jsonString(qr)+`,"phone":"+7 900 123-45-67","push_name":"Shop"}`)
	if code != http.StatusOK || body["jid"] != sess.JID().String() || !strings.HasPrefix(body["jid"].(string), "79001234567:") {
		t.Errorf("scan = %d %v, want 200 with the linked JID %s", code, body, sess.JID())
	}
	if code, _, _ := env.call(t, http.MethodPost, "/simulator/scan", `{"qr":`+jsonString(qr)+`,"phone":"79001234567"}`); code != http.StatusNotFound {
		t.Errorf("second scan of the same code = %d, want 404", code)
	}
}

func TestSimulatorScanExpiredAndRejected(t *testing.T) {
	env := newSimEnv(t)
	env.startPairing(t, nil)
	_, qrBody, _ := env.call(t, http.MethodGet, "/simulator/qr", "")
	expired := qrBody["qr"].(string)
	env.clock.Advance(60 * time.Second)
	if code, _, _ := env.call(t, http.MethodPost, "/simulator/scan", `{"qr":`+jsonString(expired)+`,"phone":"79001234567"}`); code != http.StatusNotFound {
		t.Errorf("scan of expired code = %d, want 404", code)
	}

	env2 := newSimEnv(t)
	env2.startPairing(t, func(types.JID, string, string) bool { return false })
	_, qrBody, _ = env2.call(t, http.MethodGet, "/simulator/qr", "")
	code, body, _ := env2.call(t, http.MethodPost, "/simulator/scan", `{"qr":`+jsonString(qrBody["qr"].(string))+`,"phone":"79001234567"}`)
	if code != http.StatusConflict || !strings.Contains(body["error"].(string), "rejected") {
		t.Errorf("rejected scan = %d %v, want 409", code, body)
	}
	if code, body, _ := env2.call(t, http.MethodPost, "/simulator/scan", `{"phone":"79001234567"}`); code != http.StatusBadRequest || body["error"] != "qr is required" {
		t.Errorf("scan without qr = %d %v, want 400", code, body)
	}
	if code, _, _ := env2.call(t, http.MethodPost, "/simulator/scan", `{"qr":`); code != http.StatusBadRequest {
		t.Errorf("malformed JSON = %d, want 400", code)
	}
}

func TestSimulatorMessageRoutes(t *testing.T) {
	env := newSimEnv(t)
	jid, err := env.sim.LinkDevice("79001234567", "Shop")
	if err != nil {
		t.Fatal(err)
	}
	evts := &simEvents{}
	sess, err := env.sim.Open(context.Background(), jid, evts.handle, wa.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "Connected", func() bool { return evts.has(func(e any) bool { _, ok := e.(*events.Connected); return ok }) })

	code, body, _ := env.call(t, http.MethodPost, "/simulator/inbound",
		`{"to":"79001234567","from":"79119876543","push_name":"Anna","text":"Hello","media":{"kind":"image","mime":"image/png","base64":"iVBORw0K"}}`)
	id, _ := body["id"].(string)
	if code != http.StatusOK || id == "" {
		t.Fatalf("inbound = %d %v, want 200 with an id", code, body)
	}
	if !evts.has(func(e any) bool {
		m, ok := e.(*events.Message)
		return ok && m.Info.ID == id && m.Message.GetImageMessage().GetCaption() == "Hello"
	}) {
		t.Error("handler did not get the image message")
	}
	if code, body, _ := env.call(t, http.MethodPost, "/simulator/inbound", `{"to":"79990000000","from":"79119876543","text":"x"}`); code != http.StatusNotFound || body["error"] == "" {
		t.Errorf("inbound to unknown number = %d %v, want 404", code, body)
	}
	if code, body, _ := env.call(t, http.MethodPost, "/simulator/inbound", `{"to":"79001234567","from":"79119876543","media":{"kind":"gif","base64":"AA=="}}`); code != http.StatusBadRequest || !strings.Contains(body["error"].(string), "media.kind") {
		t.Errorf("bad media kind = %d %v, want 400 naming media.kind", code, body)
	}

	customer := types.NewJID("79119876543", types.DefaultUserServer)
	sent, err := sess.Send(t.Context(), customer, &waE2E.Message{Conversation: proto.String("Hi Anna")}, wa.SendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	code, _, raw := env.call(t, http.MethodGet, "/simulator/outbound?from=79001234567", "")
	var out []simulator.OutboundMessage
	if err := json.Unmarshal(raw, &out); err != nil || code != http.StatusOK {
		t.Fatalf("outbound = %d %s: %v", code, raw, err)
	}
	if len(out) != 1 || out[0].ID != sent.ID || out[0].Text != "Hi Anna" || out[0].Kind != "text" || out[0].To != "79119876543" {
		t.Errorf("outbound = %+v, want the sent text", out)
	}
	if code, _, _ := env.call(t, http.MethodGet, "/simulator/outbound", ""); code != http.StatusBadRequest {
		t.Errorf("outbound without from = %d, want 400", code)
	}

	if code, _, _ := env.call(t, http.MethodPost, "/simulator/read", `{"phone":"79001234567","from":"79119876543","ids":[`+jsonString(sent.ID)+`]}`); code != http.StatusOK {
		t.Errorf("read = %d, want 200", code)
	}
	if !evts.has(func(e any) bool {
		r, ok := e.(*events.Receipt)
		return ok && r.Type == types.ReceiptTypeRead && r.MessageIDs[0] == sent.ID
	}) {
		t.Error("handler did not get the read receipt")
	}
	if code, _, _ := env.call(t, http.MethodPost, "/simulator/read", `{"phone":"79001234567","from":"79119876543","ids":[]}`); code != http.StatusBadRequest {
		t.Errorf("read without ids = %d, want 400", code)
	}
}

func TestSimulatorConnectionRoutes(t *testing.T) {
	env := newSimEnv(t)
	jid, err := env.sim.LinkDevice("79001234567", "Shop")
	if err != nil {
		t.Fatal(err)
	}
	evts := &simEvents{}
	sess, err := env.sim.Open(context.Background(), jid, evts.handle, wa.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}

	if code, body, _ := env.call(t, http.MethodPost, "/simulator/drop", ``); code != http.StatusOK || body["dropped"] != float64(1) {
		t.Errorf("drop = %d %v, want one dropped connection", code, body)
	}
	if sess.IsConnected() {
		t.Error("connected after drop")
	}
	env.clock.Advance(2 * time.Second)
	if !sess.IsConnected() {
		t.Error("not reconnected after the reconnect delay")
	}

	_, state, raw := env.call(t, http.MethodGet, "/simulator/state", "")
	var st simulator.State
	if err := json.Unmarshal(raw, &st); err != nil || len(st.Devices) != 1 || !st.Devices[0].Connected || st.LinkedNumbers[0] != "79001234567" {
		t.Errorf("state = %v, want one connected device of 79001234567", state)
	}

	if code, _, _ := env.call(t, http.MethodPost, "/simulator/send-failure", `{"phone":"79119876543","failure":"reachout_timelock"}`); code != http.StatusOK {
		t.Errorf("send-failure = %d", code)
	}
	if code, _, _ := env.call(t, http.MethodPost, "/simulator/send-failure", `{"phone":"79119876543","failure":"other"}`); code != http.StatusBadRequest {
		t.Errorf("unknown failure = %d, want 400", code)
	}
	if code, _, _ := env.call(t, http.MethodPost, "/simulator/replace", `{"phone":"79001234567"}`); code != http.StatusOK {
		t.Errorf("replace = %d", code)
	}
	if sess.IsConnected() {
		t.Error("connected after replace")
	}
	if err := sess.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := env.call(t, http.MethodPost, "/simulator/ban", `{"phone":"79001234567","code":102,"expire_seconds":600}`); code != http.StatusOK {
		t.Errorf("ban = %d", code)
	}
	if !evts.has(func(e any) bool {
		b, ok := e.(*events.TemporaryBan)
		return ok && b.Code == events.TempBanBlockedByUsers
	}) {
		t.Error("handler did not get TemporaryBan")
	}
	if code, _, _ := env.call(t, http.MethodPost, "/simulator/ban", `{"phone":"79001234567"}`); code != http.StatusBadRequest {
		t.Errorf("ban without duration = %d, want 400", code)
	}
	if code, _, _ := env.call(t, http.MethodPost, "/simulator/outdated", `{"outdated":true}`); code != http.StatusOK {
		t.Errorf("outdated = %d", code)
	}
	if code, _, _ := env.call(t, http.MethodPost, "/simulator/logout", `{"phone":"79001234567"}`); code != http.StatusOK {
		t.Errorf("logout = %d", code)
	}
	if code, _, _ := env.call(t, http.MethodPost, "/simulator/logout", `{}`); code != http.StatusBadRequest {
		t.Errorf("logout without phone = %d, want 400", code)
	}
	if code, _, _ := env.call(t, http.MethodPost, "/simulator/logout", `{"phone":"79990000000"}`); code != http.StatusNotFound {
		t.Errorf("logout of unknown number = %d, want 404", code)
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
