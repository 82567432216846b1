package handlers

import (
	"net/http"
	"strings"
	"testing"

	"go.mau.fi/whatsmeow/types/events"
)

func TestSimulatorPasskeyRoutes(t *testing.T) {
	env := newSimEnv(t)
	sess, evts := env.startPairing(t, nil)
	_, qrBody, _ := env.call(t, http.MethodGet, "/simulator/qr", "")
	qr, _ := qrBody["qr"].(string)

	code, body, _ := env.call(t, http.MethodPost, "/simulator/scan", `{"qr":`+jsonString(qr)+`,"phone":"+7 900 123-45-67","push_name":"Shop","passkey":true}`)
	if code != http.StatusAccepted || body["step"] != "passkey" {
		t.Fatalf("scan with passkey = %d %v, want 202 with step passkey", code, body)
	}
	_, state, _ := env.call(t, http.MethodGet, "/simulator/state", "")
	if waits, _ := state["passkey_waits"].([]any); len(waits) != 1 || waits[0] != "79001234567" {
		t.Errorf("state passkey_waits = %v, want [79001234567]", state["passkey_waits"])
	}
	if code, _, _ := env.call(t, http.MethodGet, "/simulator/qr", ""); code != http.StatusNotFound {
		t.Errorf("GET /qr during the passkey prompt = %d, want 404", code)
	}

	cases := []struct {
		name   string
		body   string
		status int
		text   string
	}{
		{"no phone", `{"approve":true}`, http.StatusBadRequest, "phone is required"},
		{"no answer", `{"phone":"79001234567"}`, http.StatusBadRequest, "approve is required"},
		{"malformed phone", `{"phone":"12ab","approve":true}`, http.StatusBadRequest, "phone"},
		{"other phone", `{"phone":"79990000000","approve":true}`, http.StatusNotFound, "no pairing waits"},
		{"malformed JSON", `{"phone":`, http.StatusBadRequest, "not valid JSON"},
	}
	for _, tc := range cases {
		code, body, _ := env.call(t, http.MethodPost, "/simulator/passkey", tc.body)
		msg, _ := body["error"].(string)
		if code != tc.status || !strings.Contains(msg, tc.text) {
			t.Errorf("%s: %d %q, want %d containing %q", tc.name, code, msg, tc.status, tc.text)
		}
	}

	code, body, _ = env.call(t, http.MethodPost, "/simulator/passkey", `{"phone":"8 900 123-45-67","approve":true}`)
	if code != http.StatusOK || body["jid"] != sess.JID().String() || !strings.HasPrefix(body["jid"].(string), "79001234567:") {
		t.Errorf("approve = %d %v, want 200 with the linked JID %s", code, body, sess.JID())
	}
	waitFor(t, "PairSuccess", func() bool { return evts.has(func(e any) bool { _, ok := e.(*events.PairSuccess); return ok }) })
	if code, _, _ := env.call(t, http.MethodPost, "/simulator/passkey", `{"phone":"79001234567","approve":true}`); code != http.StatusNotFound {
		t.Errorf("second approval = %d, want 404", code)
	}
}

func TestSimulatorPasskeyRefusedAndPending(t *testing.T) {
	env := newSimEnv(t)
	sess, _ := env.startPairing(t, nil)
	code, err := sess.PairPhone(t.Context(), "79001234567")
	if err != nil {
		t.Fatal(err)
	}
	status, body, _ := env.call(t, http.MethodPost, "/simulator/pair-code", `{"code":`+jsonString(code)+`,"phone":"79001234567","passkey":true}`)
	if status != http.StatusAccepted || body["step"] != "passkey" {
		t.Fatalf("pair-code with passkey = %d %v, want 202 with step passkey", status, body)
	}

	env.startPairing(t, nil)
	_, qrBody, _ := env.call(t, http.MethodGet, "/simulator/qr", "")
	status, body, _ = env.call(t, http.MethodPost, "/simulator/scan", `{"qr":`+jsonString(qrBody["qr"].(string))+`,"phone":"79001234567","passkey":true}`)
	if msg, _ := body["error"].(string); status != http.StatusConflict || !strings.Contains(msg, "passkey") {
		t.Errorf("second prompt for one phone = %d %v, want 409 naming the passkey", status, body)
	}

	status, body, raw := env.call(t, http.MethodPost, "/simulator/passkey", `{"phone":"79001234567","approve":false}`)
	if status != http.StatusOK || len(body) != 0 {
		t.Errorf("refuse = %d %s, want 200 with {}", status, raw)
	}
	waitFor(t, "the pairing connection to close", func() bool { return !sess.IsConnected() })
	if devices := env.sim.State().Devices; len(devices) != 0 {
		t.Errorf("devices after the refusal = %v, want none", devices)
	}
}
