package portal

import (
	"errors"
	"reflect"
	"testing"
)

func mustEvent(t *testing.T, body string) *Event {
	t.Helper()
	ev, err := ParseEvent(body, FormLimits{})
	if err != nil {
		t.Fatalf("ParseEvent: %v", err)
	}
	return ev
}

func TestDecodeEventAuth(t *testing.T) {
	ev := mustEvent(t, fixtureEvent(fixtureMessageAdd("acme_wa"), fixtureMember, fixtureAppToken))
	want := EventAuth{
		AccessToken: "s6p6eclrryjd7b0d0wjvv8qkl0ffp7ae", Expires: 1773762761, ExpiresIn: 3600,
		Scope: "imconnector,imopenlines,im", Domain: fixtureDomain,
		ServerEndpoint: "https://oauth.bitrix.info/rest/", Status: "F",
		ClientEndpoint: "https://" + fixtureDomain + "/rest/", MemberID: fixtureMember, UserID: 27,
		ApplicationToken: fixtureAppToken,
	}
	if !reflect.DeepEqual(ev.Auth, want) {
		t.Errorf("Auth = %+v\nwant %+v", ev.Auth, want)
	}
	if ev.Name != EventMessageAdd || ev.HandlerID != "555" || ev.TS != 1773759161 {
		t.Errorf("Name, HandlerID, TS = %q, %q, %d", ev.Name, ev.HandlerID, ev.TS)
	}
}

func TestDecodeEventLowerCaseName(t *testing.T) {
	ev := mustEvent(t, "event=onAppUninstall&data[CLEAN]=0")
	if ev.Name != EventAppUninstall {
		t.Errorf("Name = %q, want it upper-cased", ev.Name)
	}
	if ev.Auth.HasTokens() || ev.Auth.MemberID != "" {
		t.Errorf("an event without auth decoded auth %+v", ev.Auth)
	}
}

func TestDecodeEventRejectsMissingName(t *testing.T) {
	for _, body := range []string{"", "data[LINE]=3", "event=&ts=1"} {
		if _, err := ParseEvent(body, FormLimits{}); !errors.Is(err, ErrMalformedEvent) {
			t.Errorf("%q: err = %v, want ErrMalformedEvent", body, err)
		}
	}
	if _, err := ParseEvent("event=X&a[b=1", FormLimits{}); !errors.Is(err, ErrMalformedForm) {
		t.Errorf("a bad form must wrap ErrMalformedForm, got %v", err)
	}
}

func TestEventMessagesWithFiles(t *testing.T) {
	ev := mustEvent(t, fixtureEvent(fixtureMessageAdd("ACME_WA"), fixtureMember, fixtureAppToken))
	got, err := ev.Messages()
	if err != nil {
		t.Fatal(err)
	}
	if got.Connector != "acme_wa" || got.Line != "3" || len(got.Messages) != 2 {
		t.Fatalf("Connector, Line, len = %q, %q, %d", got.Connector, got.Line, len(got.Messages))
	}
	first := got.Messages[0]
	if first.BitrixChatID != "1807" || first.BitrixMessageID != "86497" || first.ExternalChatID != "wa:15550001111" {
		t.Errorf("ids = %+v", first)
	}
	if first.UserID != "27" || first.Text != "[b]Anna Ops:[/b] [br]Good afternoon!" || first.Files != nil {
		t.Errorf("text message = %+v", first)
	}
	wantFiles := []MessageFile{
		{Name: "photo.jpg", Type: "image", Link: "https://" + fixtureDomain + "/~Xyz12#img.jpg", Size: 48211, Width: 800, Height: 600},
		{Name: "price.pdf", Type: "file", Link: "https://" + fixtureDomain + "/~Pdf34", Size: 1024},
	}
	if !reflect.DeepEqual(got.Messages[1].Files, wantFiles) {
		t.Errorf("Files = %+v\nwant %+v", got.Messages[1].Files, wantFiles)
	}
}

func TestEventMessageIDs(t *testing.T) {
	update, err := mustEvent(t, fixtureBody(fixtureMessageUpdate("acme_wa")...)).Messages()
	if err != nil {
		t.Fatal(err)
	}
	if got := update.Messages[0].ExternalIDs; !reflect.DeepEqual(got, []string{"3EB0C767D0A1", "3EB0C767D0A2"}) {
		t.Errorf("update ids = %v", got)
	}
	del, err := mustEvent(t, fixtureBody(fixtureMessageDelete("acme_wa")...)).Messages()
	if err != nil {
		t.Fatal(err)
	}
	if got := del.Messages[0].ExternalIDs; !reflect.DeepEqual(got, []string{"3EB0C767D0A1"}) {
		t.Errorf("delete ids = %v, want the scalar as one id", got)
	}
}

func TestEventMessagesMalformed(t *testing.T) {
	cases := map[string]string{
		"no messages": "event=ONIMCONNECTORMESSAGEADD&data[CONNECTOR]=a&data[LINE]=1",
		"no im ids":   "event=ONIMCONNECTORMESSAGEADD&data[MESSAGES][0][message][text]=x",
		"wrong kind":  "event=ONIMCONNECTORDIALOGSTART&data[MESSAGES][0][im][chat_id]=1",
	}
	for name, body := range cases {
		if _, err := mustEvent(t, body).Messages(); !errors.Is(err, ErrMalformedEvent) {
			t.Errorf("%s: err = %v, want ErrMalformedEvent", name, err)
		}
	}
}

func TestEventDialogs(t *testing.T) {
	ev := mustEvent(t, fixtureBody(fixtureDialogFinish("acme_wa")...))
	if ev.HandlerID != "1" {
		t.Errorf("HandlerID = %q, want eventId", ev.HandlerID)
	}
	got, err := ev.Dialogs()
	if err != nil {
		t.Fatal(err)
	}
	want := []Dialog{{ExternalChatID: "wa:15550001111", SessionID: "3282", Closed: true, CloseTerm: 10, UserID: "585"}}
	if got.Connector != "acme_wa" || got.Line != "3" || !reflect.DeepEqual(got.Dialogs, want) {
		t.Errorf("Dialogs = %+v", got)
	}
}

func TestEventLineAsNumberOrString(t *testing.T) {
	for _, line := range []string{"3", " 3 "} {
		ev := mustEvent(t, fixtureBody("event", "ONIMCONNECTORDIALOGSTART", "data[CONNECTOR]", "a", "data[LINE]", line))
		if ev.Line() != "3" {
			t.Errorf("LINE %q read as %q", line, ev.Line())
		}
	}
}

func TestEventStatusAndLineDelete(t *testing.T) {
	status, err := mustEvent(t, fixtureBody(fixtureStatusDelete("acme_wa")...)).StatusDeleted()
	if err != nil {
		t.Fatal(err)
	}
	if *status != (StatusDelete{Connector: "acme_wa", Line: "3"}) {
		t.Errorf("StatusDeleted = %+v", status)
	}
	line, err := mustEvent(t, fixtureBody(fixtureLineDelete()...)).DeletedLine()
	if err != nil || line != "107" {
		t.Errorf("DeletedLine = %q, %v", line, err)
	}
	if _, err := mustEvent(t, "event=ONIMCONNECTORLINEDELETE").DeletedLine(); !errors.Is(err, ErrMalformedEvent) {
		t.Errorf("line delete without data: err = %v", err)
	}
}

func TestEventAppData(t *testing.T) {
	install, err := mustEvent(t, fixtureEvent(fixtureAppInstall(), fixtureMember, fixtureAppToken)).AppInstall()
	if err != nil || *install != (AppInstall{Version: "1", Active: true, Installed: true, LanguageID: "en"}) {
		t.Errorf("AppInstall = %+v, %v", install, err)
	}
	ev := mustEvent(t, fixtureEvent(fixtureAppInstall(), fixtureMember, fixtureAppToken))
	if ev.Auth.RefreshToken == "" {
		t.Error("ONAPPINSTALL refresh token was not decoded")
	}

	for clean, want := range map[string]bool{"1": true, "0": false, "": false} {
		u, err := mustEvent(t, fixtureAppUninstall(fixtureMember, fixtureAppToken, clean)).AppUninstall()
		if err != nil || u.Clean != want {
			t.Errorf("CLEAN=%q: Clean = %v, %v", clean, u, err)
		}
	}

	update, err := mustEvent(t, fixtureEvent(fixtureAppUpdate(), fixtureMember, fixtureAppToken)).AppUpdate()
	if err != nil || *update != (AppUpdate{Version: "2.1.0", PreviousVersion: "2.0.3", LanguageID: "en"}) {
		t.Errorf("AppUpdate = %+v, %v", update, err)
	}

	payment, err := mustEvent(t, fixtureAppPayment(fixtureMember)).AppPayment()
	if err != nil || payment.Status != "P" || payment.PaymentExpired || payment.Days == nil || *payment.Days != 28 {
		t.Errorf("AppPayment = %+v, %v", payment, err)
	}
	if _, err := mustEvent(t, fixtureAppPayment(fixtureMember)).AppUninstall(); !errors.Is(err, ErrMalformedEvent) {
		t.Errorf("AppUninstall of a payment event: err = %v", err)
	}
}

func TestParsePlacementOptions(t *testing.T) {
	raw := `{"CONNECTOR":"ACME_WA","LINE":"3","STATUS":false,"ACTIVE_STATUS":true,"CONNECTION_STATUS":"Y",` +
		`"REGISTER_STATUS":1,"ERROR_STATUS":false,"URI":"/contact_center/connector/?ID=acme_wa"}`
	got, err := parsePlacementOptions(raw)
	if err != nil {
		t.Fatal(err)
	}
	if got.Connector != "acme_wa" || got.Line != "3" || got.Status || !got.ActiveStatus ||
		!got.ConnectionStatus || !got.RegisterStatus || got.ErrorStatus || got.URI != "/contact_center/connector/?ID=acme_wa" {
		t.Errorf("options = %+v", got)
	}
	numeric, err := parsePlacementOptions(`{"LINE":3}`)
	if err != nil || numeric.Line != "3" {
		t.Errorf("numeric LINE = %q, %v", numeric.Line, err)
	}
	if _, err := parsePlacementOptions(`["x"]`); !errors.Is(err, ErrMalformedPlacement) {
		t.Errorf("a JSON list: err = %v", err)
	}
}
