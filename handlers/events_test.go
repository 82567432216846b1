package handlers

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/wabridge/b24wa/portal"
	"github.com/wabridge/b24wa/portal/b24fake"
)

// operatorMessage is the data of ONIMCONNECTORMESSAGEADD with a text and
// two files.
func operatorMessage(connector string) map[string]any {
	return map[string]any{
		"CONNECTOR": connector, "LINE": 3,
		"MESSAGES": []any{map[string]any{
			"im": map[string]any{"chat_id": 1807, "message_id": 86497},
			"message": map[string]any{"user_id": 1, "text": "[b]Anna Ops:[/b] [br]See the files",
				"files": []any{
					map[string]any{"name": "photo.jpg", "type": "image", "link": "https://example.bitrix24.com/~Xyz12#img.jpg",
						"size": 48211, "width": 800, "height": 600},
					map[string]any{"name": "price.pdf", "type": "file", "link": "https://example.bitrix24.com/~Pdf34", "size": 1024},
				}},
			"chat": map[string]any{"id": "wa:15550001111"},
		}},
	}
}

func TestEventsAcceptConnectorEvents(t *testing.T) {
	eachPortal(t, b24fake.Options{NotInstalled: true}, func(t *testing.T, f *portalFixture) {
		f.install()

		message := func(id any) map[string]any {
			return map[string]any{"CONNECTOR": portalTestConnector, "LINE": "3", "MESSAGES": []any{map[string]any{
				"im": map[string]any{"chat_id": 1807, "message_id": 86497}, "message": map[string]any{"id": id, "text": "x"},
				"chat": map[string]any{"id": "wa:15550001111"}}}}
		}
		sent := []struct {
			name string
			data any
			opts []b24fake.EventOption
		}{
			{portal.EventMessageAdd, operatorMessage(portalTestConnector), nil},
			{portal.EventMessageUpdate, message([]any{"3EB0A1", "3EB0A2"}), nil},
			{portal.EventMessageDelete, message("3EB0A1"), nil},
			{portal.EventDialogStart, map[string]any{"CONNECTOR": portalTestConnector, "LINE": 3, "DATA": []any{
				map[string]any{"session": map[string]any{"id": 3282, "closed": "N"}}}}, []b24fake.EventOption{b24fake.WithEventIDKey()}},
			{portal.EventDialogFinish, map[string]any{"CONNECTOR": portalTestConnector, "LINE": 3, "DATA": []any{
				map[string]any{"session": map[string]any{"id": 3282, "closed": "Y"}}}}, []b24fake.EventOption{b24fake.WithEventIDKey()}},
			{portal.EventStatusDelete, map[string]any{"connector": portalTestConnector, "line": 3}, nil},
			{portal.EventLineDelete, 107, nil},
			{portal.EventMessageAdd, operatorMessage(portalTestConnector), []b24fake.EventOption{b24fake.WithoutTokens()}},
		}

		for _, ev := range sent {
			if res := f.send("/events", ev.name, ev.data, ev.opts...); res.status != http.StatusOK {
				t.Errorf("%s: status %d: %s", ev.name, res.status, res.body)
			}
		}

		got := f.sink.received()
		if len(got) != len(sent) {
			t.Fatalf("sink got %d events, want %d", len(got), len(sent))
		}
		msgs, err := got[0].Messages()
		if err != nil {
			t.Fatal(err)
		}
		files := msgs.Messages[0].Files
		if len(files) != 2 || files[0].Width != 800 || files[1].Name != "price.pdf" {
			t.Errorf("files = %+v", files)
		}
		update, _ := got[1].Messages()
		if ids := update.Messages[0].ExternalIDs; !reflect.DeepEqual(ids, []string{"3EB0A1", "3EB0A2"}) {
			t.Errorf("update ids = %v", ids)
		}
		if line, err := got[6].DeletedLine(); err != nil || line != "107" {
			t.Errorf("line delete = %q, %v", line, err)
		}
		if got[3].HandlerID == "" {
			t.Error("eventId was not read as the handler id")
		}
	})
}

func TestEventsRejectForgeries(t *testing.T) {
	eachPortal(t, b24fake.Options{NotInstalled: true}, func(t *testing.T, f *portalFixture) {
		before := f.install()
		stranger := b24fake.New(b24fake.Options{})
		t.Cleanup(stranger.Close)

		cases := []struct {
			name   string
			send   func() response
			status int
			key    string
		}{
			{"wrong token", func() response {
				return f.send("/events", portal.EventMessageAdd, operatorMessage(portalTestConnector),
					b24fake.WithApplicationToken(strings.Repeat("0", 32)))
			}, http.StatusForbidden, "portal.error.application_token_mismatch"},
			{"unknown member", func() response {
				res, err := stranger.SendEvent(t.Context(), f.srv.URL+"/events", portal.EventMessageAdd, operatorMessage(portalTestConnector))
				if err != nil {
					t.Fatal(err)
				}
				return readResponse(t, res)
			}, http.StatusForbidden, "portal.error.event_unknown_portal"},
			{"wrong connector", func() response {
				return f.send("/events", portal.EventMessageAdd, operatorMessage("other_wa"))
			}, http.StatusForbidden, "portal.error.event_wrong_connector"},
			{"no auth", func() response {
				return f.send("/events", portal.EventMessageAdd, operatorMessage(portalTestConnector), b24fake.WithoutAuth())
			}, http.StatusForbidden, "portal.error.event_unverified"},
			{"forged uninstall", func() response {
				return f.send("/events", portal.EventAppUninstall, map[string]any{"CLEAN": 1}, b24fake.WithoutTokens(),
					b24fake.WithApplicationToken("x"))
			}, http.StatusForbidden, "portal.error.application_token_mismatch"},
			{"malformed body", func() response {
				return f.post("/events", echo.MIMEApplicationForm, "event=ONIMCONNECTORMESSAGEADD&data[MESSAGES][0=1")
			}, http.StatusBadRequest, "portal.error.malformed_form"},
			{"no event name", func() response {
				return f.post("/events", echo.MIMEApplicationForm, "data[CONNECTOR]="+portalTestConnector)
			}, http.StatusBadRequest, "portal.error.malformed_event"},
			{"JSON body", func() response {
				return f.post("/events", echo.MIMEApplicationJSON, `{"event":"ONIMCONNECTORMESSAGEADD"}`)
			}, http.StatusUnsupportedMediaType, "portal.error.not_form"},
			{"huge body", func() response {
				return f.post("/events", echo.MIMEApplicationForm, "event=X&pad="+strings.Repeat("a", int(f.maxEvent)))
			}, http.StatusRequestEntityTooLarge, "portal.error.body_too_large"},
		}
		for _, tc := range cases {
			res := tc.send()
			if res.status != tc.status {
				t.Errorf("%s: status %d, want %d (%s)", tc.name, res.status, tc.status, res.body)
				continue
			}
			var body map[string]string
			if err := json.Unmarshal([]byte(res.body), &body); err != nil {
				t.Errorf("%s: body is not JSON: %s", tc.name, res.body)
				continue
			}
			if body["error"] != tc.key || body["message"] == "" {
				t.Errorf("%s: body = %v, want error %s with a message", tc.name, body, tc.key)
			}
		}

		if n := len(f.sink.received()); n != 0 {
			t.Errorf("%d forged events reached the sink", n)
		}
		if n := len(f.hooks.calls()); n != 0 {
			t.Errorf("a forged uninstall reached the hooks")
		}
		after := f.portal()
		if after.State != portal.StateActive || !reflect.DeepEqual(after.ApplicationToken, before.ApplicationToken) {
			t.Errorf("portal changed by forged events: state %q", after.State)
		}
		if !strings.Contains(f.logs.String(), "Rejected a Bitrix24 event") {
			t.Error("rejected events were not logged")
		}
	})
}

func TestEventsSinkFailureIsLogged(t *testing.T) {
	eachPortal(t, b24fake.Options{NotInstalled: true}, func(t *testing.T, f *portalFixture) {
		p := f.install()
		f.sink.err = errors.New("deliveries table is locked")
		res := f.send("/events", portal.EventMessageAdd, operatorMessage(portalTestConnector))
		if res.status != http.StatusInternalServerError {
			t.Fatalf("status %d, want 500", res.status)
		}
		logs := f.logs.String()
		for _, want := range []string{"level=ERROR", "portal_id=" + itoaU(p.ID), "member_id=" + p.MemberID,
			"event=" + portal.EventMessageAdd, "deliveries table is locked"} {
			if !strings.Contains(logs, want) {
				t.Errorf("error log lacks %q", want)
			}
		}
	})
}

func TestEventsUninstallCleanRemovesPortal(t *testing.T) {
	eachPortal(t, b24fake.Options{NotInstalled: true}, func(t *testing.T, f *portalFixture) {
		f.install()
		res := f.send("/events", portal.EventAppUninstall, map[string]any{"LANGUAGE_ID": "en", "CLEAN": 1}, b24fake.WithoutTokens())
		if res.status != http.StatusOK {
			t.Fatalf("status %d: %s", res.status, res.body)
		}
		if got := f.hooks.calls(); !reflect.DeepEqual(got, []bool{true}) {
			t.Errorf("hooks = %v", got)
		}
		if n := f.portalCount(); n != 0 {
			t.Errorf("%d portals left after CLEAN=1", n)
		}
	})
}

func TestEventsAppUpdateAndPayment(t *testing.T) {
	eachPortal(t, b24fake.Options{NotInstalled: true}, func(t *testing.T, f *portalFixture) {
		f.install()
		rotated := f.fake.RotateApplicationToken()
		if res := f.send("/events", portal.EventAppUpdate, map[string]any{"VERSION": "2"}, b24fake.WithRefreshToken()); res.status != http.StatusOK {
			t.Fatalf("ONAPPUPDATE: %d %s", res.status, res.body)
		}
		if token, _ := f.store.ApplicationToken(f.portal()); token != rotated {
			t.Error("ONAPPUPDATE did not store the rotated token")
		}

		days := 30
		f.fake.SetAppStatus("P", false, &days)
		res := f.send("/events", portal.EventAppPayment, map[string]any{"STATUS": "P"}, b24fake.WithoutTokens())
		if res.status != http.StatusOK {
			t.Fatalf("ONAPPPAYMENT: %d %s", res.status, res.body)
		}
		if p := f.portal(); p.LicenceStatus != "P" || p.LicenceDays == nil || *p.LicenceDays != 30 {
			t.Errorf("licence = %q %v", p.LicenceStatus, p.LicenceDays)
		}
	})
}
