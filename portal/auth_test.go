package portal

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/internal/dbtest"
	"github.com/wabridge/b24wa/portal/b24fake"
)

// testClock is a clock that tests move by hand.
type testClock struct{ now time.Time }

func (c *testClock) Now() time.Time { return c.now }

func (e *installEnv) authenticator(clock *testClock) *Authenticator {
	return NewAuthenticator(e.store, e.client, e.box, AuthOptions{ConnectorID: testConnectorID, Now: clock.Now})
}

// settingRequest is a SETTING_CONNECTOR POST of user userID on line 3.
func (e *installEnv) settingRequest(t *testing.T, userID int, admin bool) PlacementRequest {
	t.Helper()
	access, refresh := e.fake.IssueTokens(userID, admin)
	options := `{"CONNECTOR":"acme_wa","LINE":"3","STATUS":false,"ACTIVE_STATUS":true}`
	form := mustParseForm(t, fixtureBody("AUTH_ID", access, "AUTH_EXPIRES", "3600", "REFRESH_ID", refresh,
		"member_id", e.fake.MemberID(), "APPLICATION_TOKEN", e.fake.ApplicationToken(),
		"PLACEMENT", "SETTING_CONNECTOR", "PLACEMENT_OPTIONS", options))
	query := url.Values{"DOMAIN": {e.fake.Domain()}, "PROTOCOL": {"0"}, "LANG": {"ru"}, "APP_SID": {"x"}}
	req, err := ParsePlacementRequest(query, form)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestAuthenticatePlacementAdmin(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newInstallEnv(t, db, b24fake.Options{NotInstalled: true})
		p := env.mustInstall(t)
		clock := &testClock{now: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
		auth := env.authenticator(clock)

		user, err := auth.AuthenticatePlacement(context.Background(), env.settingRequest(t, 1, true))
		if err != nil {
			t.Fatal(err)
		}
		want := FrameUser{PortalID: p.ID, MemberID: p.MemberID, UserID: 1, Admin: true, Line: "3", Lang: "ru",
			Origin: p.Origin(), ExpiresAt: clock.now.Add(time.Hour).Unix(), Token: user.Token}
		if *user != want {
			t.Errorf("user = %+v\nwant %+v", *user, want)
		}
		parsed, err := auth.ParseFrameToken(user.Token)
		if err != nil || *parsed != want {
			t.Errorf("ParseFrameToken = %+v, %v", parsed, err)
		}
	})
}

func TestAuthenticatePlacementReadOnlyUser(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newInstallEnv(t, db, b24fake.Options{NotInstalled: true})
		env.mustInstall(t)
		auth := env.authenticator(&testClock{now: time.Now()})
		user, err := auth.AuthenticatePlacement(context.Background(), env.settingRequest(t, 7, false))
		if err != nil {
			t.Fatal(err)
		}
		if user.Admin || user.UserID != 7 {
			t.Errorf("user = %+v, want user 7 without admin rights", user)
		}
	})
}

func TestAuthenticatePlacementUsesStoredEndpoint(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newInstallEnv(t, db, b24fake.Options{NotInstalled: true})
		env.mustInstall(t)
		auth := env.authenticator(&testClock{now: time.Now()})
		req := env.settingRequest(t, 1, true)
		req.Domain, req.ServerEndpoint = "169.254.169.254", "http://169.254.169.254/rest/"
		if _, err := auth.AuthenticatePlacement(context.Background(), req); err != nil {
			t.Fatalf("a DOMAIN in the request changed where the user is checked: %v", err)
		}
		if n := len(env.fake.CallsTo("user.current")); n != 1 {
			t.Errorf("user.current reached the stored portal %d times, want once", n)
		}
	})
}

func TestAuthenticatePlacementRejected(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newInstallEnv(t, db, b24fake.Options{NotInstalled: true})
		env.mustInstall(t)
		auth := env.authenticator(&testClock{now: time.Now()})
		cases := map[string]struct {
			change func(*PlacementRequest)
			want   error
		}{
			"wrong application token": {func(r *PlacementRequest) { r.ApplicationToken = "x" + r.ApplicationToken[1:] },
				ErrApplicationTokenMismatch},
			"unknown member":  {func(r *PlacementRequest) { r.MemberID = "ffffffffffffffffffffffffffffffff" }, ErrFramePortalUnknown},
			"forged AUTH_ID":  {func(r *PlacementRequest) { r.AuthID = "forged" }, ErrFrameUserNotVerified},
			"no AUTH_ID":      {func(r *PlacementRequest) { r.AuthID = "" }, ErrMalformedPlacement},
			"other connector": {func(r *PlacementRequest) { r.Options.Connector = "other_wa" }, ErrMalformedPlacement},
		}
		for name, tc := range cases {
			req := env.settingRequest(t, 1, true)
			tc.change(&req)
			if _, err := auth.AuthenticatePlacement(context.Background(), req); !errors.Is(err, tc.want) {
				t.Errorf("%s: err = %v, want %v", name, err, tc.want)
			}
		}
	})
}

func TestFrameTokenExpiry(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newInstallEnv(t, db, b24fake.Options{NotInstalled: true})
		env.mustInstall(t)
		clock := &testClock{now: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
		auth := env.authenticator(clock)
		user, err := auth.AuthenticatePlacement(context.Background(), env.settingRequest(t, 1, true))
		if err != nil {
			t.Fatal(err)
		}

		clock.now = clock.now.Add(59 * time.Minute)
		if _, err := auth.ParseFrameToken(user.Token); err != nil {
			t.Errorf("token refused before its hour ended: %v", err)
		}
		clock.now = clock.now.Add(time.Minute)
		if _, err := auth.ParseFrameToken(user.Token); !errors.Is(err, ErrFrameTokenExpired) {
			t.Errorf("token after an hour: err = %v, want ErrFrameTokenExpired", err)
		}
	})
}

func TestFrameTokenForged(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newInstallEnv(t, db, b24fake.Options{NotInstalled: true})
		env.mustInstall(t)
		clock := &testClock{now: time.Now()}
		auth := env.authenticator(clock)
		user, err := auth.AuthenticatePlacement(context.Background(), env.settingRequest(t, 7, false))
		if err != nil {
			t.Fatal(err)
		}
		payload, signature, _ := strings.Cut(user.Token, ".")
		otherPurpose, err := env.box.IssueToken("scan_link", user, clock.now.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		for name, token := range map[string]string{
			"empty":          "",
			"no signature":   payload,
			"bad signature":  payload + "." + signature[:len(signature)-2] + "AA",
			"swapped claims": strings.Replace(user.Token, payload[:4], "eyJ4", 1),
			"other purpose":  otherPurpose,
			"garbage":        "not-a-token.at-all",
		} {
			if _, err := auth.ParseFrameToken(token); !errors.Is(err, ErrFrameTokenInvalid) {
				t.Errorf("%s: err = %v, want ErrFrameTokenInvalid", name, err)
			}
		}
	})
}

func TestPlacementAdminRestoresTokens(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newInstallEnv(t, db, b24fake.Options{NotInstalled: true})
		p := env.mustInstall(t)
		if err := env.store.SetAttention(context.Background(), p.ID, AttentionInvalidGrant); err != nil {
			t.Fatal(err)
		}
		auth := env.authenticator(&testClock{now: time.Now()})

		if _, err := auth.AuthenticatePlacement(context.Background(), env.settingRequest(t, 7, false)); err != nil {
			t.Fatal(err)
		}
		if stored, _ := env.store.ByID(context.Background(), p.ID); stored.State != StateAttention {
			t.Error("a non-administrator's tokens cleared the attention mark")
		}

		req := env.settingRequest(t, 1, true)
		if _, err := auth.AuthenticatePlacement(context.Background(), req); err != nil {
			t.Fatal(err)
		}
		stored, _ := env.store.ByID(context.Background(), p.ID)
		access, _, err := env.store.Tokens(context.Background(), stored)
		if err != nil || access != req.AuthID || stored.State != StateActive {
			t.Errorf("state %q, stored token is the administrator's: %v (err %v)", stored.State, access == req.AuthID, err)
		}
	})
}
