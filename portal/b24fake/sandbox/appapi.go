package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// actionTimeout bounds one request of the page: the calls it makes to the
// app and the events the portal sends. Sending a customer's message waits
// until the app has stored it.
const actionTimeout = 20 * time.Second

// appAPI calls the app's WhatsApp simulator control API. The structs below
// copy the JSON of handlers.RegisterSimulator, because this package speaks
// to the app only over HTTP, as a browser or a test would.
type appAPI struct {
	base   string
	client *http.Client
}

func newAppAPI(base string) *appAPI {
	return &appAPI{base: base, client: &http.Client{
		Timeout: actionTimeout,
		// The app's simulator routes never redirect; a redirect could only
		// lead away from the loopback address.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// simState is GET /simulator/state.
type simState struct {
	Devices       []simDevice `json:"devices"`
	LinkedNumbers []string    `json:"linked_numbers"`
	Pairings      int         `json:"pairings"`
}

type simDevice struct {
	JID       string    `json:"jid"`
	Phone     string    `json:"phone"`
	PushName  string    `json:"push_name"`
	LinkedAt  time.Time `json:"linked_at"`
	Connected bool      `json:"connected"`
	LoggedIn  bool      `json:"logged_in"`
	Unlinked  bool      `json:"unlinked"`
}

// simOutbound is one element of GET /simulator/outbound: a message the app
// sent through a linked number.
type simOutbound struct {
	ID     string    `json:"id"`
	To     string    `json:"to"`
	Text   string    `json:"text"`
	Kind   string    `json:"kind"`
	Status string    `json:"status"` // sent, delivered or read
	Time   time.Time `json:"time"`
	Media  *struct {
		MIME string `json:"mime"`
		Name string `json:"name"`
		Size uint64 `json:"size"`
	} `json:"media"`
}

// simReadMark is one element of GET /simulator/read-marks: a read receipt
// the app sent for a customer's messages.
type simReadMark struct {
	Chat string    `json:"chat"`
	IDs  []string  `json:"ids"`
	At   time.Time `json:"at"`
}

// simInbound is the body of POST /simulator/inbound.
type simInbound struct {
	To       string    `json:"to"`
	From     string    `json:"from"`
	PushName string    `json:"push_name"`
	Text     string    `json:"text"`
	Media    *simMedia `json:"media,omitempty"`
}

type simMedia struct {
	Kind   string `json:"kind"`
	MIME   string `json:"mime"`
	Name   string `json:"name"`
	Base64 string `json:"base64"`
}

// appError is an error response of the app: the status and its message.
type appError struct {
	Status  int
	Message string
}

func (e *appError) Error() string {
	return fmt.Sprintf("app answered %d: %s", e.Status, e.Message)
}

func (a *appAPI) state(ctx context.Context) (simState, error) {
	var st simState
	err := a.call(ctx, http.MethodGet, "/simulator/state", nil, &st)
	return st, err
}

func (a *appAPI) currentQR(ctx context.Context) (string, error) {
	var out struct {
		QR string `json:"qr"`
	}
	err := a.call(ctx, http.MethodGet, "/simulator/qr", nil, &out)
	return out.QR, err
}

func (a *appAPI) scan(ctx context.Context, qr, phone, pushName string) (string, error) {
	var out struct {
		JID string `json:"jid"`
	}
	body := map[string]string{"qr": qr, "phone": phone, "push_name": pushName}
	err := a.call(ctx, http.MethodPost, "/simulator/scan", body, &out)
	return out.JID, err
}

func (a *appAPI) logout(ctx context.Context, phone string) error {
	return a.call(ctx, http.MethodPost, "/simulator/logout", map[string]string{"phone": phone}, nil)
}

func (a *appAPI) inbound(ctx context.Context, in simInbound) (string, error) {
	var out struct {
		ID string `json:"id"`
	}
	err := a.call(ctx, http.MethodPost, "/simulator/inbound", in, &out)
	return out.ID, err
}

func (a *appAPI) outbound(ctx context.Context, phone string) ([]simOutbound, error) {
	var out []simOutbound
	err := a.call(ctx, http.MethodGet, "/simulator/outbound?from="+url.QueryEscape(phone), nil, &out)
	return out, err
}

func (a *appAPI) readMarks(ctx context.Context, phone string) ([]simReadMark, error) {
	var out []simReadMark
	err := a.call(ctx, http.MethodGet, "/simulator/read-marks?from="+url.QueryEscape(phone), nil, &out)
	return out, err
}

// read plays the customer from opening the messages ids that phone sent.
func (a *appAPI) read(ctx context.Context, phone, from string, ids []string) error {
	body := map[string]any{"phone": phone, "from": from, "ids": ids}
	return a.call(ctx, http.MethodPost, "/simulator/read", body, nil)
}

// call sends a JSON request and decodes the JSON response into out. A status
// other than 200 becomes an *appError with the app's {"error"} message.
func (a *appAPI) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		raw, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(raw)
	}

	req, err := http.NewRequestWithContext(ctx, method, a.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}

	res, err := a.client.Do(req)
	if err != nil {
		return fmt.Errorf("call the app's simulator at %s: %w", a.base, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 8<<20))
	if err != nil {
		return fmt.Errorf("read the response of %s %s: %w", method, path, err)
	}
	if res.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(raw, &e) != nil || e.Error == "" {
			e.Error = fmt.Sprintf("%.200s", raw)
		}
		return &appError{Status: res.StatusCode, Message: e.Error}
	}

	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("decode the response of %s %s: %w", method, path, err)
	}
	return nil
}
