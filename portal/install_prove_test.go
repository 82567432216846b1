package portal

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/internal/dbtest"
	"github.com/wabridge/b24wa/portal/b24fake"
)

// attackerRequest is an installer POST made on attacker's own portal, with
// its tokens, DOMAIN and OAuth server, that claims victimMemberID.
func attackerRequest(env *installEnv, attacker *b24fake.Portal, victimMemberID string) InstallRequest {
	access, refresh := attacker.IssueTokens(1, true)
	req := env.installRequest()
	req.Domain, req.AuthID, req.RefreshID = attacker.Domain(), access, refresh
	req.ServerEndpoint, req.MemberID = attacker.ServerEndpoint(), victimMemberID
	return req
}

func TestInstallRejectsMemberIDOfAnotherPortal(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newInstallEnv(t, db, b24fake.Options{NotInstalled: true})
		victim := env.fake
		attacker := b24fake.New(b24fake.Options{NotInstalled: true})
		t.Cleanup(attacker.Close)

		cases := map[string]func(*InstallRequest){
			"attacker's OAuth server": func(*InstallRequest) {},
			"victim's OAuth server":   func(r *InstallRequest) { r.ServerEndpoint = victim.ServerEndpoint() },
		}
		for name, change := range cases {
			req := attackerRequest(env, attacker, victim.MemberID())
			change(&req)
			_, err := env.installer.InstallFromPage(context.Background(), req)
			if InstallStep(err) != StepVerify {
				t.Errorf("%s: step = %q, want %q (err %v)", name, InstallStep(err), StepVerify, err)
			}
			if !errors.Is(err, ErrTokensNotVerified) {
				t.Errorf("%s: err = %v, want ErrTokensNotVerified", name, err)
			}
		}
		if n := env.portalCount(t); n != 0 {
			t.Fatalf("%d portals stored after installs with another portal's member_id", n)
		}
		if n := len(attacker.CallsTo("imconnector.register")); n != 0 {
			t.Errorf("the attacker's portal got %d imconnector.register calls", n)
		}

		p, err := env.installer.InstallFromPage(context.Background(), env.installRequest())
		if err != nil {
			t.Fatalf("the victim's own install failed after the attack: %v", err)
		}
		if p.ClientEndpoint != victim.ClientEndpoint() {
			t.Errorf("stored endpoint = %q, want the victim's %q", p.ClientEndpoint, victim.ClientEndpoint())
		}
		if n := len(victim.CallsTo("imconnector.register")); n != 1 {
			t.Errorf("the victim's portal got %d imconnector.register calls, want 1", n)
		}
	})
}

func TestInstallEventRejectsMemberIDOfAnotherPortal(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newInstallEnv(t, db, b24fake.Options{})
		attacker := b24fake.New(b24fake.Options{})
		t.Cleanup(attacker.Close)
		form := attacker.EventForm(EventAppInstall, nil, b24fake.WithRefreshToken(),
			b24fake.WithAuthFields(map[string]any{"member_id": env.fake.MemberID()}))
		ev, err := ParseEvent(form.Encode(), FormLimits{})
		if err != nil {
			t.Fatal(err)
		}

		err = env.dispatcher.HandleEvent(context.Background(), ev)
		if !errors.Is(err, ErrTokensNotVerified) {
			t.Fatalf("err = %v, want ErrTokensNotVerified", err)
		}
		if n := env.portalCount(t); n != 0 {
			t.Fatalf("%d portals stored by ONAPPINSTALL with another portal's member_id", n)
		}

		own := env.event(t, EventAppInstall, nil, b24fake.WithRefreshToken())
		if err := env.dispatcher.HandleEvent(context.Background(), own); err != nil {
			t.Fatalf("the victim's own ONAPPINSTALL failed after the attack: %v", err)
		}
		p, err := env.store.ByMemberID(context.Background(), env.fake.MemberID())
		if err != nil {
			t.Fatal(err)
		}
		if p.ClientEndpoint != env.fake.ClientEndpoint() {
			t.Errorf("stored endpoint = %q, want %q", p.ClientEndpoint, env.fake.ClientEndpoint())
		}
	})
}

func TestInstallNewMemberNeedsRefreshToken(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newInstallEnv(t, db, b24fake.Options{})
		req := env.installRequest()
		req.RefreshID = ""
		_, err := env.installer.InstallFromPage(context.Background(), req)
		if InstallStep(err) != StepRequest || !errors.Is(err, ErrInstallMissingField) {
			t.Errorf("page: err = %v, want a request step failure", err)
		}
		if err == nil || !strings.Contains(err.Error(), "REFRESH_ID") {
			t.Errorf("page: error %v does not name REFRESH_ID", err)
		}

		ev := env.event(t, EventAppInstall, nil)
		err = env.dispatcher.HandleEvent(context.Background(), ev)
		if !errors.Is(err, ErrInstallMissingField) {
			t.Errorf("event: err = %v, want ErrInstallMissingField", err)
		}
		if err == nil || !strings.Contains(err.Error(), "auth[refresh_token]") {
			t.Errorf("event: error %v does not name auth[refresh_token]", err)
		}
		if n := env.portalCount(t); n != 0 {
			t.Errorf("%d portals stored without a refresh token", n)
		}
	})
}

func TestInstallKnownMemberSkipsRefreshProof(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newInstallEnv(t, db, b24fake.Options{})
		env.mustInstall(t)
		before := len(env.fake.OAuthCalls())

		req := env.installRequest()
		req.RefreshID = ""
		if _, err := env.installer.InstallFromPage(context.Background(), req); err != nil {
			t.Fatalf("reinstall of a known portal without REFRESH_ID: %v", err)
		}
		if n := len(env.fake.OAuthCalls()) - before; n != 0 {
			t.Errorf("reinstall of a known portal sent %d OAuth requests", n)
		}
	})
}

func TestInstallOAuthUnavailableIsRetryable(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newInstallEnv(t, db, b24fake.Options{})
		env.fake.OnOAuthError(1, http.StatusServiceUnavailable, "", "")
		req := env.installRequest()
		_, err := env.installer.InstallFromPage(context.Background(), req)
		if InstallStep(err) != StepVerify || !errors.Is(err, ErrOAuthUnavailable) {
			t.Fatalf("err = %v, want a verify step failure with ErrOAuthUnavailable", err)
		}
		if n := env.portalCount(t); n != 0 {
			t.Fatalf("%d portals stored while the OAuth server was down", n)
		}

		if _, err := env.installer.InstallFromPage(context.Background(), req); err != nil {
			t.Fatalf("the same install failed again after the OAuth server recovered: %v", err)
		}
	})
}

func TestInstallRejectsEndpointOnOtherHost(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newInstallEnv(t, db, b24fake.Options{})
		req := env.installRequest()
		// After a rename, app.info at the old DOMAIN still succeeds through a
		// redirect, but the OAuth server returns the new address.
		newDomain := env.fake.Rename()
		_, err := env.installer.InstallFromPage(context.Background(), req)
		if !errors.Is(err, ErrTokensNotVerified) {
			t.Fatalf("err = %v, want ErrTokensNotVerified", err)
		}
		if !strings.Contains(err.Error(), newDomain) || !strings.Contains(err.Error(), req.Domain) {
			t.Errorf("error %v does not name both %s and %s", err, newDomain, req.Domain)
		}
		if n := env.portalCount(t); n != 0 {
			t.Errorf("%d portals stored", n)
		}
	})
}

// hangingServer accepts requests and sends no response until the test ends.
// It returns its host:port.
func hangingServer(t *testing.T) string {
	t.Helper()
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-done:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() {
		close(done)
		srv.Close()
	})
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

func TestInstallTimesOutOnSilentPortal(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newInstallEnv(t, db, b24fake.Options{})
		installer := NewInstaller(env.store, env.client, InstallOptions{ConnectorID: testConnectorID,
			PublicURL: testPublicURL, AllowInsecureHTTP: true, Timeout: 200 * time.Millisecond})
		req := env.installRequest()
		req.Domain = hangingServer(t)

		result := make(chan error, 1)
		go func() {
			_, err := installer.InstallFromPage(context.Background(), req)
			result <- err
		}()
		var err error
		select {
		case err = <-result:
		case <-time.After(20 * time.Second):
			t.Fatal("install still running 20 s after its 200 ms deadline")
		}

		if InstallStep(err) != StepVerify {
			t.Errorf("step = %q, want %q (err %v)", InstallStep(err), StepVerify, err)
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want context.DeadlineExceeded in its chain", err)
		}
		if err != nil && !strings.Contains(err.Error(), "did not finish within 200ms") {
			t.Errorf("error %v does not name the install deadline", err)
		}
		if n := env.portalCount(t); n != 0 {
			t.Errorf("%d portals stored", n)
		}
	})
}
