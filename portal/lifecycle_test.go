package portal

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/internal/dbtest"
	"github.com/wabridge/b24wa/portal/b24fake"
)

func messageAddData(connector string) map[string]any {
	return map[string]any{
		"CONNECTOR": connector, "LINE": 3,
		"MESSAGES": []any{map[string]any{
			"im":      map[string]any{"chat_id": 1807, "message_id": 86497},
			"message": map[string]any{"user_id": 1, "text": "[b]Anna:[/b][br]Hello"},
			"chat":    map[string]any{"id": "wa:15550001111"},
		}},
	}
}

func TestAppInstallEventNewPortal(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newInstallEnv(t, db, b24fake.Options{})
		ev := env.event(t, EventAppInstall, map[string]any{"VERSION": "1", "LANGUAGE_ID": "ru"}, b24fake.WithRefreshToken())
		if err := env.dispatcher.HandleEvent(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
		p, err := env.store.ByMemberID(context.Background(), env.fake.MemberID())
		if err != nil {
			t.Fatal(err)
		}
		token, err := env.store.ApplicationToken(p)
		if err != nil || token != env.fake.ApplicationToken() {
			t.Errorf("stored application token differs from the event's (err %v)", err)
		}
		if p.Lang != "ru" || p.ClientEndpoint != env.fake.ClientEndpoint() || p.InstallerUserID != 1 {
			t.Errorf("portal = lang %q, endpoint %q, installer %d", p.Lang, p.ClientEndpoint, p.InstallerUserID)
		}
		if len(env.fake.CallsTo("app.info")) != 1 || len(env.fake.Connectors()) != 1 {
			t.Error("ONAPPINSTALL of a new portal must check app.info and register the connector")
		}
		assertBoundTo(t, env.fake, testPublicURL+"/events")
	})
}

func TestAppInstallEventRejected(t *testing.T) {
	cases := map[string]struct {
		fake b24fake.Options
		opts []b24fake.EventOption
		want error
	}{
		"forged access token": {opts: []b24fake.EventOption{b24fake.WithAuthFields(map[string]any{"access_token": "forged"})},
			want: ErrTokensNotVerified},
		"no access token": {opts: []b24fake.EventOption{b24fake.WithoutTokens()}, want: ErrTokensNotVerified},
		"client endpoint elsewhere": {opts: []b24fake.EventOption{b24fake.WithAuthFields(
			map[string]any{"client_endpoint": "http://127.0.0.2:9/rest/"})}, want: ErrTokensNotVerified},
		"private domain": {opts: []b24fake.EventOption{b24fake.WithAuthFields(
			map[string]any{"domain": "169.254.169.254", "client_endpoint": ""})}, want: ErrTokensNotVerified},
		"install not finished": {fake: b24fake.Options{NotInstalled: true}, want: ErrTokensNotVerified},
		"no application token": {opts: []b24fake.EventOption{b24fake.WithoutApplicationToken()}, want: ErrEventUnverified},
		"no auth":              {opts: []b24fake.EventOption{b24fake.WithoutAuth()}, want: ErrEventUnverified},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
				env := newInstallEnv(t, db, tc.fake)
				ev := env.event(t, EventAppInstall, map[string]any{"VERSION": "1"}, tc.opts...)
				err := env.dispatcher.HandleEvent(context.Background(), ev)
				if !errors.Is(err, tc.want) {
					t.Fatalf("err = %v, want %v", err, tc.want)
				}
				if n := env.portalCount(t); n != 0 {
					t.Errorf("%d portals stored", n)
				}
				if n := len(env.fake.CallsTo("imconnector.register")); n != 0 {
					t.Errorf("imconnector.register called %d times", n)
				}
			})
		})
	}
}

func TestAppInstallEventKnownPortal(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newInstallEnv(t, db, b24fake.Options{NotInstalled: true})
		env.mustInstall(t)
		infoCalls := len(env.fake.CallsTo("app.info"))

		forged := env.event(t, EventAppInstall, nil, b24fake.WithApplicationToken("0123456789abcdef0123456789abcdef"))
		if err := env.dispatcher.HandleEvent(context.Background(), forged); !errors.Is(err, ErrApplicationTokenMismatch) {
			t.Fatalf("wrong token: err = %v", err)
		}
		good := env.event(t, EventAppInstall, nil, b24fake.WithRefreshToken())
		if err := env.dispatcher.HandleEvent(context.Background(), good); err != nil {
			t.Fatal(err)
		}
		if n := len(env.fake.CallsTo("app.info")); n != infoCalls {
			t.Errorf("a known token was checked with app.info again (%d calls)", n-infoCalls)
		}
		if n := len(env.fake.CallsTo("event.bind")); n != len(EventBindings) {
			t.Errorf("event.bind called %d times, want %d", n, len(EventBindings))
		}
	})
}

func TestAppUpdateRotatesToken(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newInstallEnv(t, db, b24fake.Options{NotInstalled: true})
		env.mustInstall(t)
		old := env.fake.ApplicationToken()
		rotated := env.fake.RotateApplicationToken()
		gets := len(env.fake.CallsTo("event.get"))

		ev := env.event(t, EventAppUpdate, map[string]any{"VERSION": "2", "PREVIOUS_VERSION": "1"}, b24fake.WithRefreshToken())
		if err := env.dispatcher.HandleEvent(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
		p, _ := env.store.ByMemberID(context.Background(), env.fake.MemberID())
		if token, _ := env.store.ApplicationToken(p); token != rotated {
			t.Error("the rotated application token was not stored")
		}
		if n := len(env.fake.CallsTo("event.get")); n != gets+1 {
			t.Errorf("registration ran %d times after the update, want once", n-gets)
		}

		stale := env.event(t, EventMessageAdd, messageAddData(testConnectorID), b24fake.WithApplicationToken(old))
		if err := env.dispatcher.HandleEvent(context.Background(), stale); !errors.Is(err, ErrApplicationTokenMismatch) {
			t.Errorf("event with the old token: err = %v", err)
		}
		fresh := env.event(t, EventMessageAdd, messageAddData(testConnectorID))
		if err := env.dispatcher.HandleEvent(context.Background(), fresh); err != nil {
			t.Errorf("event with the new token: %v", err)
		}
	})
}

func TestAppUpdateForgedKeepsToken(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newInstallEnv(t, db, b24fake.Options{NotInstalled: true})
		env.mustInstall(t)
		ev := env.event(t, EventAppUpdate, map[string]any{"VERSION": "2"},
			b24fake.WithApplicationToken("ffffffffffffffffffffffffffffffff"),
			b24fake.WithAuthFields(map[string]any{"access_token": "forged"}))
		if err := env.dispatcher.HandleEvent(context.Background(), ev); !errors.Is(err, ErrApplicationTokenMismatch) {
			t.Fatalf("err = %v", err)
		}
		p, _ := env.store.ByMemberID(context.Background(), env.fake.MemberID())
		if token, _ := env.store.ApplicationToken(p); token != env.fake.ApplicationToken() {
			t.Error("a forged update replaced the stored application token")
		}
	})
}

func TestAppUninstallClean(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newInstallEnv(t, db, b24fake.Options{NotInstalled: true})
		p := env.mustInstall(t)
		insertLine(t, db, p.ID)
		if n := countLines(t, db, p.ID); n != 1 {
			t.Fatalf("%d lines before the uninstall, want 1", n)
		}

		ev := env.event(t, EventAppUninstall, map[string]any{"LANGUAGE_ID": "en", "CLEAN": 1}, b24fake.WithoutTokens())
		if err := env.dispatcher.HandleEvent(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(env.hooks.calls, []string{"uninstalled clean"}) {
			t.Errorf("hooks = %v", env.hooks.calls)
		}
		if _, err := env.store.ByID(context.Background(), p.ID); !errors.Is(err, ErrPortalNotFound) {
			t.Errorf("portal still stored after CLEAN=1 (err %v)", err)
		}
		if n := countLines(t, db, p.ID); n != 0 {
			t.Errorf("%d lines left after CLEAN=1", n)
		}
	})
}

func TestAppUninstallKeepsData(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newInstallEnv(t, db, b24fake.Options{NotInstalled: true})
		p := env.mustInstall(t)
		ev := env.event(t, EventAppUninstall, map[string]any{"CLEAN": 0}, b24fake.WithoutTokens())
		if err := env.dispatcher.HandleEvent(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
		p, err := env.store.ByID(context.Background(), p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if p.State != StateUninstalled || p.UninstalledAt == nil {
			t.Errorf("state = %q, uninstalled at %v", p.State, p.UninstalledAt)
		}
		again := env.event(t, EventAppUninstall, map[string]any{"CLEAN": 0}, b24fake.WithoutTokens())
		if err := env.dispatcher.HandleEvent(context.Background(), again); err != nil {
			t.Errorf("a repeated uninstall failed: %v", err)
		}
		if len(env.hooks.calls) != 1 {
			t.Errorf("hooks called %d times, want once", len(env.hooks.calls))
		}
		msg := env.event(t, EventMessageAdd, messageAddData(testConnectorID))
		if err := env.dispatcher.HandleEvent(context.Background(), msg); !errors.Is(err, ErrEventUnverified) {
			t.Errorf("event of an uninstalled portal: err = %v", err)
		}
	})
}

func TestAppUninstallRejected(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newInstallEnv(t, db, b24fake.Options{NotInstalled: true})
		p := env.mustInstall(t)
		for name, opts := range map[string][]b24fake.EventOption{
			"wrong token": {b24fake.WithoutTokens(), b24fake.WithApplicationToken("00000000000000000000000000000000")},
			"no token":    {b24fake.WithoutTokens(), b24fake.WithoutApplicationToken()},
			"no auth":     {b24fake.WithoutAuth()},
		} {
			ev := env.event(t, EventAppUninstall, map[string]any{"CLEAN": 1}, opts...)
			if err := env.dispatcher.HandleEvent(context.Background(), ev); err == nil {
				t.Errorf("%s: uninstall accepted", name)
			}
		}
		if len(env.hooks.calls) != 0 {
			t.Errorf("hooks called by forged uninstalls: %v", env.hooks.calls)
		}
		if stored, err := env.store.ByID(context.Background(), p.ID); err != nil || stored.State != StateActive {
			t.Errorf("portal changed by forged uninstalls: %v", err)
		}
	})
}

func TestAppUninstallHookFailure(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newInstallEnv(t, db, b24fake.Options{NotInstalled: true})
		p := env.mustInstall(t)
		env.hooks.err = errors.New("session manager is down")
		ev := env.event(t, EventAppUninstall, map[string]any{"CLEAN": 1}, b24fake.WithoutTokens())
		if err := env.dispatcher.HandleEvent(context.Background(), ev); err == nil {
			t.Fatal("a hook failure was not reported")
		}
		stored, err := env.store.ByID(context.Background(), p.ID)
		if err != nil {
			t.Fatalf("portal deleted although its lines were not stopped: %v", err)
		}
		if stored.State != StateUninstalled {
			t.Errorf("state = %q, want uninstalled", stored.State)
		}
	})
}

func TestAppPaymentRechecksLicence(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newInstallEnv(t, db, b24fake.Options{NotInstalled: true})
		p := env.mustInstall(t)
		days := 28
		env.fake.SetAppStatus("P", false, &days)
		db.Model(&Portal{}).Where("id = ?", p.ID).Update("licence_checked_at", time.Now().Add(-time.Hour))

		ev := env.event(t, EventAppPayment, map[string]any{"STATUS": "T", "DAYS": 999},
			b24fake.WithoutTokens(), b24fake.WithoutApplicationToken())
		if err := env.dispatcher.HandleEvent(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
		p, _ = env.store.ByID(context.Background(), p.ID)
		if p.LicenceStatus != "P" || p.LicenceDays == nil || *p.LicenceDays != 28 {
			t.Errorf("licence = %q %v, want app.info's P and 28 days, not the event's", p.LicenceStatus, p.LicenceDays)
		}

		calls := len(env.fake.CallsTo("app.info"))
		if err := env.dispatcher.HandleEvent(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
		if n := len(env.fake.CallsTo("app.info")); n != calls {
			t.Errorf("a second unauthenticated payment event within a minute called app.info again")
		}
		forged := env.event(t, EventAppPayment, nil, b24fake.WithoutTokens(), b24fake.WithApplicationToken("bad"))
		if err := env.dispatcher.HandleEvent(context.Background(), forged); !errors.Is(err, ErrApplicationTokenMismatch) {
			t.Errorf("payment with a wrong token: err = %v", err)
		}
	})
}

func TestConnectorEventsReachSink(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newInstallEnv(t, db, b24fake.Options{NotInstalled: true})
		env.mustInstall(t)
		events := []*Event{
			env.event(t, EventMessageAdd, messageAddData("ACME_WA")),
			env.event(t, EventDialogStart, map[string]any{"CONNECTOR": testConnectorID, "LINE": "3",
				"DATA": []any{map[string]any{"session": map[string]any{"id": 1}}}}, b24fake.WithEventIDKey()),
			env.event(t, EventStatusDelete, map[string]any{"connector": testConnectorID, "line": 3}),
			env.event(t, EventLineDelete, 107),
			env.event(t, EventMessageAdd, messageAddData(testConnectorID), b24fake.WithoutTokens()),
		}
		for _, ev := range events {
			if err := env.dispatcher.HandleEvent(context.Background(), ev); err != nil {
				t.Errorf("%s: %v", ev.Name, err)
			}
		}
		want := []string{EventMessageAdd, EventDialogStart, EventStatusDelete, EventLineDelete, EventMessageAdd}
		if got := env.sink.names(); !reflect.DeepEqual(got, want) {
			t.Errorf("sink got %v, want %v", got, want)
		}
	})
}

func TestConnectorEventsRejected(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newInstallEnv(t, db, b24fake.Options{NotInstalled: true})
		env.mustInstall(t)
		stranger := b24fake.New(b24fake.Options{})
		t.Cleanup(stranger.Close)
		strangerEvent, err := ParseEvent(stranger.EventForm(EventMessageAdd, messageAddData(testConnectorID)).Encode(), FormLimits{})
		if err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name string
			ev   *Event
			want error
		}{
			{"wrong token", env.event(t, EventMessageAdd, messageAddData(testConnectorID),
				b24fake.WithApplicationToken(env.fake.ApplicationToken()[1:])), ErrApplicationTokenMismatch},
			{"unknown member", strangerEvent, ErrEventUnknownPortal},
			{"wrong connector", env.event(t, EventMessageAdd, messageAddData("other_wa")), ErrEventWrongConnector},
			{"no connector", env.event(t, EventStatusDelete, map[string]any{"line": 3}), ErrEventWrongConnector},
			{"no auth", env.event(t, EventMessageAdd, messageAddData(testConnectorID), b24fake.WithoutAuth()), ErrEventUnverified},
			{"no messages", env.event(t, EventMessageAdd, map[string]any{"CONNECTOR": testConnectorID, "LINE": 3}), ErrMalformedEvent},
			{"no line", env.event(t, EventLineDelete, ""), ErrMalformedEvent},
		}
		for _, tc := range cases {
			if err := env.dispatcher.HandleEvent(context.Background(), tc.ev); !errors.Is(err, tc.want) {
				t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
			}
		}
		if got := env.sink.names(); len(got) != 0 {
			t.Errorf("rejected events reached the sink: %v", got)
		}
	})
}

func TestConnectorEventSinkFailure(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env := newInstallEnv(t, db, b24fake.Options{NotInstalled: true})
		env.mustInstall(t)
		env.sink.err = errTestSink
		err := env.dispatcher.HandleEvent(context.Background(), env.event(t, EventMessageAdd, messageAddData(testConnectorID)))
		if !errors.Is(err, errTestSink) {
			t.Fatalf("err = %v, want the sink's error", err)
		}
	})
}

func insertLine(t *testing.T, db *gorm.DB, portalID uint64) {
	t.Helper()
	now := time.Now().UTC()
	err := db.Table("lines").Create(map[string]any{"portal_id": portalID, "line_id": "3",
		"connector_id": testConnectorID, "state_since": now, "created_at": now, "updated_at": now}).Error
	if err != nil {
		t.Fatal(err)
	}
}

func countLines(t *testing.T, db *gorm.DB, portalID uint64) int64 {
	t.Helper()
	var n int64
	if err := db.Table("lines").Where("portal_id = ?", portalID).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}
