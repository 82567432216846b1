package portal

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/internal/dbtest"
	"github.com/wabridge/b24wa/portal/b24fake"
)

func TestInstallFromPageRegistersConnector(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newInstallEnv(t, db, b24fake.Options{NotInstalled: true})
		req := env.installRequest()
		p, err := env.installer.InstallFromPage(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}

		if p.MemberID != env.fake.MemberID() || p.Domain != env.fake.Domain() || p.ClientEndpoint != env.fake.ClientEndpoint() {
			t.Errorf("stored portal = %s %s %s", p.MemberID, p.Domain, p.ClientEndpoint)
		}
		// Proving the new member_id exchanged REFRESH_ID once, so the rotated
		// pair is stored in place of the request's.
		access, refresh, err := env.store.Tokens(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		if access == "" || access == req.AuthID {
			t.Errorf("stored access token is empty or the revoked AUTH_ID")
		}
		if refresh == "" || refresh == req.RefreshID {
			t.Errorf("stored refresh token is empty or the used REFRESH_ID")
		}
		calls := env.fake.OAuthCalls()
		if len(calls) != 1 || calls[0].RefreshToken != req.RefreshID || calls[0].Status != http.StatusOK {
			t.Errorf("OAuth calls = %+v, want one successful exchange of REFRESH_ID", calls)
		}
		if p.ServerEndpoint != env.fake.ServerEndpoint() {
			t.Errorf("ServerEndpoint = %q", p.ServerEndpoint)
		}

		c, ok := env.fake.Connectors()[testConnectorID]
		if !ok {
			t.Fatalf("connector %s was not registered", testConnectorID)
		}
		if c.PlacementHandler != testPublicURL+"/settings" || c.Name != "WhatsApp" || c.ChatGroup {
			t.Errorf("connector = %+v", c)
		}
		if img, _ := c.Icon["DATA_IMAGE"].(string); !strings.HasPrefix(img, "data:image/svg+xml,%3Csvg%20") {
			t.Errorf("ICON DATA_IMAGE = %.60q", img)
		}
	})
}

func TestInstallSendsJSONBooleans(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newInstallEnv(t, db, b24fake.Options{NotInstalled: true})
		if _, err := env.installer.InstallFromPage(context.Background(), env.installRequest()); err != nil {
			t.Fatal(err)
		}
		calls := env.fake.CallsTo("imconnector.register")
		if len(calls) != 1 {
			t.Fatalf("imconnector.register called %d times", len(calls))
		}
		want := map[string]bool{
			"DEL_EXTERNAL_MESSAGES": true, "EDIT_INTERNAL_MESSAGES": true, "DEL_INTERNAL_MESSAGES": true,
			"NEWSLETTER": true, "NEED_SYSTEM_MESSAGES": true, "NEED_SIGNATURE": true, "CHAT_GROUP": false,
		}
		for name, value := range want {
			got, isBool := calls[0].Params[name].(bool)
			if !isBool || got != value {
				t.Errorf("%s = %#v, want the JSON boolean %v", name, calls[0].Params[name], value)
			}
		}
	})
}

func TestInstallBindsEveryEventOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newInstallEnv(t, db, b24fake.Options{NotInstalled: true})
		for range 2 {
			if _, err := env.installer.InstallFromPage(context.Background(), env.installRequest()); err != nil {
				t.Fatal(err)
			}
		}
		if n := len(env.fake.CallsTo("event.bind")); n != len(EventBindings) {
			t.Errorf("event.bind called %d times over two installs, want %d", n, len(EventBindings))
		}
		assertBoundTo(t, env.fake, testPublicURL+"/events")
	})
}

func TestInstallRebindsChangedHandlerURL(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newInstallEnv(t, db, b24fake.Options{NotInstalled: true})
		p, err := env.installer.InstallFromPage(context.Background(), env.installRequest())
		if err != nil {
			t.Fatal(err)
		}
		moved := env.newInstaller("https://moved.example.com/")
		if err := moved.Register(context.Background(), p); err != nil {
			t.Fatal(err)
		}
		if n := len(env.fake.CallsTo("event.unbind")); n != len(EventBindings) {
			t.Errorf("event.unbind called %d times, want %d", n, len(EventBindings))
		}
		assertBoundTo(t, env.fake, "https://moved.example.com/events")
	})
}

func TestInstallDuplicateBindIsNotAnError(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newInstallEnv(t, db, b24fake.Options{NotInstalled: true})
		env.fake.OnError("event.bind", 1, http.StatusBadRequest, "ERROR_CORE",
			"Unable to set event handler: Handler already binded")
		if _, err := env.installer.InstallFromPage(context.Background(), env.installRequest()); err != nil {
			t.Fatalf("a duplicate bind failed the install: %v", err)
		}
	})
}

func TestInstallRegisterFailureNamesStep(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newInstallEnv(t, db, b24fake.Options{NotInstalled: true})
		env.fake.OnError("imconnector.register", 1, http.StatusForbidden, "WRONG_AUTH_TYPE",
			"Current authorization type is denied for this method")
		_, err := env.installer.InstallFromPage(context.Background(), env.installRequest())
		if InstallStep(err) != StepRegister || !errors.Is(err, ErrRegistrationFailed) || !IsCode(err, "WRONG_AUTH_TYPE") {
			t.Fatalf("err = %v, want a register step failure with WRONG_AUTH_TYPE", err)
		}
		if n := len(env.fake.CallsTo("event.bind")); n != 0 {
			t.Errorf("events were bound after the connector failed to register (%d calls)", n)
		}
	})
}

func TestInstallRecordsLicence(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newInstallEnv(t, db, b24fake.Options{NotInstalled: true})
		days := 12
		env.fake.SetAppStatus("T", false, &days)
		p, err := env.installer.InstallFromPage(context.Background(), env.installRequest())
		if err != nil {
			t.Fatal(err)
		}
		p, err = env.store.ByID(context.Background(), p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if p.LicenceStatus != "T" || p.LicencePaymentExpired || p.LicenceDays == nil || *p.LicenceDays != 12 {
			t.Errorf("licence = %q %v %v", p.LicenceStatus, p.LicencePaymentExpired, p.LicenceDays)
		}
	})
}

func TestInstallRejectsForgedToken(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newInstallEnv(t, db, b24fake.Options{NotInstalled: true})
		req := env.installRequest()
		req.AuthID = "forged0000000000000000000000000"
		_, err := env.installer.InstallFromPage(context.Background(), req)
		if InstallStep(err) != StepVerify || !errors.Is(err, ErrTokensNotVerified) {
			t.Fatalf("err = %v, want a verify step failure", err)
		}
		if n := env.portalCount(t); n != 0 {
			t.Errorf("%d portals stored after a forged install", n)
		}
		if n := len(env.fake.CallsTo("imconnector.register")); n != 0 {
			t.Errorf("imconnector.register called %d times after a forged install", n)
		}
	})
}

func TestInstallRejectsMissingFields(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newInstallEnv(t, db, b24fake.Options{NotInstalled: true})
		for name, change := range map[string]func(*InstallRequest){
			"no DOMAIN":        func(r *InstallRequest) { r.Domain = "" },
			"no AUTH_ID":       func(r *InstallRequest) { r.AuthID = "" },
			"no member_id":     func(r *InstallRequest) { r.MemberID = "" },
			"invalid memberid": func(r *InstallRequest) { r.MemberID = "a'b" },
		} {
			req := env.installRequest()
			change(&req)
			_, err := env.installer.InstallFromPage(context.Background(), req)
			if InstallStep(err) != StepRequest || !errors.Is(err, ErrInstallMissingField) {
				t.Errorf("%s: err = %v", name, err)
			}
		}
		if n := len(env.fake.Calls()); n != 0 {
			t.Errorf("%d requests sent for incomplete installs", n)
		}
	})
}

// rejectingTransport fails the test if anything is sent through it.
type rejectingTransport struct{ sent atomic.Int32 }

func (r *rejectingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r.sent.Add(1)
	return nil, errors.New("no request may be sent in this test")
}

func TestInstallRejectsPrivateDomains(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newInstallEnv(t, db, b24fake.Options{NotInstalled: true})
		transport := &rejectingTransport{}
		client := NewClient(env.store, ClientOptions{HTTPClient: &http.Client{Transport: transport}})
		secure := NewInstaller(env.store, client, InstallOptions{ConnectorID: testConnectorID, PublicURL: testPublicURL})
		domains := []string{
			"169.254.169.254", "10.0.0.5", "192.168.1.10", "172.16.0.1", "100.64.0.1", "0.0.0.0",
			"127.0.0.1", "[::1]", "[fd00::1]", "[fe80::1]", "[::ffff:169.254.169.254]",
			"example.com/evil", "user@example.com", "example.com?x=1", "http://example.com", "",
		}
		for _, domain := range domains {
			req := env.installRequest()
			req.Domain, req.Protocol = domain, "1"
			_, err := secure.InstallFromPage(context.Background(), req)
			if InstallStep(err) != StepRequest {
				t.Errorf("DOMAIN %q: err = %v, want a request step failure", domain, err)
			}
		}
		if n := transport.sent.Load(); n != 0 {
			t.Errorf("%d requests were sent to refused domains", n)
		}
		if n := env.portalCount(t); n != 0 {
			t.Errorf("%d portals stored", n)
		}
	})
}

func TestInstallKnownPortalKeepsStoredEndpoint(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newInstallEnv(t, db, b24fake.Options{NotInstalled: true})
		first := env.mustInstall(t)

		other := b24fake.New(b24fake.Options{MemberID: "other0000000000000000000000000000"})
		t.Cleanup(other.Close)
		access, refresh := other.IssueTokens(1, true)
		req := env.installRequest()
		req.Domain, req.AuthID, req.RefreshID = other.Domain(), access, refresh

		_, err := env.installer.InstallFromPage(context.Background(), req)
		if !errors.Is(err, ErrTokensNotVerified) {
			t.Fatalf("err = %v, want the other portal's token to be refused by the stored endpoint", err)
		}
		if n := len(other.Calls()); n != 0 {
			t.Errorf("the address from the request got %d calls", n)
		}
		stored, err := env.store.ByID(context.Background(), first.ID)
		if err != nil {
			t.Fatal(err)
		}
		if stored.ClientEndpoint != env.fake.ClientEndpoint() || stored.Domain != env.fake.Domain() {
			t.Errorf("stored address changed to %s", stored.ClientEndpoint)
		}
	})
}

func TestInstallRejectsOtherAppCode(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newInstallEnv(t, db, b24fake.Options{NotInstalled: true, AppCode: "someone.else"})
		strict := NewInstaller(env.store, env.client, InstallOptions{ConnectorID: testConnectorID,
			PublicURL: testPublicURL, AppCode: "b24wa.whatsapp", AllowInsecureHTTP: true})
		_, err := strict.InstallFromPage(context.Background(), env.installRequest())
		if !errors.Is(err, ErrTokensNotVerified) {
			t.Fatalf("err = %v, want tokens of another app refused", err)
		}
	})
}

// assertBoundTo checks that every event of EventBindings is bound exactly
// once, to handler.
func assertBoundTo(t *testing.T, fake *b24fake.Portal, handler string) {
	t.Helper()
	bound := map[string]int{}
	for _, b := range fake.BoundEvents() {
		if b.Handler != handler {
			t.Errorf("%s is bound to %s, want %s", b.Event, b.Handler, handler)
		}
		bound[b.Event]++
	}
	for _, name := range EventBindings {
		if n := bound[strings.ToUpper(name)]; n != 1 {
			t.Errorf("%s bound %d times, want once", name, n)
		}
	}
	if len(bound) != len(EventBindings) {
		t.Errorf("%d distinct events bound, want %d", len(bound), len(EventBindings))
	}
}

func TestInstallIgnoresUnknownOAuthServer(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newInstallEnv(t, db, b24fake.Options{})
		first := env.mustInstall(t)
		// Clear the stored OAuth server, so that a reinstall naming an
		// unknown one shows whether it is stored. The portal is known, so no
		// refresh token is exchanged and nothing is sent to these addresses.
		if err := db.Model(&Portal{}).Where("id = ?", first.ID).Update("server_endpoint", "").Error; err != nil {
			t.Fatal(err)
		}
		for _, endpoint := range []string{"https://collector.example.net/rest/", "http://169.254.169.254/rest/", "::"} {
			req := env.installRequest()
			req.ServerEndpoint = endpoint
			p, err := env.installer.InstallFromPage(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if p.ServerEndpoint != "" {
				t.Errorf("SERVER_ENDPOINT %q stored as %q; the client secret would be sent there", endpoint, p.ServerEndpoint)
			}
		}

		ev := env.event(t, EventAppInstall, nil, b24fake.WithRefreshToken(),
			b24fake.WithAuthFields(map[string]any{"server_endpoint": "https://collector.example.net/rest/"}))
		if err := env.dispatcher.HandleEvent(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
		if p, _ := env.store.ByMemberID(context.Background(), env.fake.MemberID()); p.ServerEndpoint != "" {
			t.Errorf("ONAPPINSTALL stored server endpoint %q", p.ServerEndpoint)
		}

		trusted := NewInstaller(env.store, env.client, InstallOptions{ConnectorID: testConnectorID,
			PublicURL: testPublicURL, OAuthHosts: []string{"oauth.bitrix.info"}})
		if got := trusted.serverEndpoint("https://OAUTH.bitrix.info.evil.net/rest/"); got != "" {
			t.Errorf("a look-alike host was accepted: %q", got)
		}
	})
}
