package e2e

import (
	"net/http"
	"net/url"

	"github.com/wabridge/b24wa/connector/wa/simulator"
)

// The simulator's control API (handlers.RegisterSimulator) plays the phones:
// the business phone that scans codes and the customers' phones.

// simulatorQR returns the code the newest running pairing shows.
func (a *appServer) simulatorQR() string {
	a.t.Helper()
	var out struct {
		QR string `json:"qr"`
	}
	a.getJSON("/simulator/qr", &out)
	if out.QR == "" {
		a.t.Fatal("GET /simulator/qr returned no code")
	}
	return out.QR
}

// scan plays the business phone scanning qr and returns the linked device JID.
func (a *appServer) scan(qr, phone, pushName string) string {
	a.t.Helper()
	var out struct {
		JID string `json:"jid"`
	}
	res := a.postJSON("/simulator/scan", map[string]string{"qr": qr, "phone": phone, "push_name": pushName}, &out)
	if res.status != http.StatusOK || out.JID == "" {
		a.t.Fatalf("POST /simulator/scan: status %d, body %s", res.status, res)
	}
	return out.JID
}

// inbound plays a customer writing and returns the message id. It fails
// the test unless the call succeeds.
func (a *appServer) inbound(msg simulator.InboundMessage) string {
	a.t.Helper()
	var out struct {
		ID string `json:"id"`
	}
	res := a.postJSON("/simulator/inbound", msg, &out)
	if res.status != http.StatusOK || out.ID == "" {
		a.t.Fatalf("POST /simulator/inbound: status %d, body %s", res.status, res)
	}
	return out.ID
}

// outbound returns what the app sent through the business number phone.
func (a *appServer) outbound(phone string) []simulator.OutboundMessage {
	a.t.Helper()
	var out []simulator.OutboundMessage
	a.getJSON("/simulator/outbound?from="+url.QueryEscape(phone), &out)
	return out
}

// readMarks returns the read receipts the app sent through phone.
func (a *appServer) readMarks(phone string) []simulator.ReadMark {
	a.t.Helper()
	var out []simulator.ReadMark
	a.getJSON("/simulator/read-marks?from="+url.QueryEscape(phone), &out)
	return out
}

// simulatorState returns the simulated store's devices.
func (a *appServer) simulatorState() simulator.State {
	a.t.Helper()
	var out simulator.State
	a.getJSON("/simulator/state", &out)
	return out
}
