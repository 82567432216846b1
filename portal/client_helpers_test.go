package portal_test

import (
	"context"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/internal/dbtest"
	"github.com/wabridge/b24wa/internal/secrets"
	"github.com/wabridge/b24wa/portal"
	"github.com/wabridge/b24wa/portal/b24fake"
)

// env is a fake portal, a store holding it and a client over that store.
type env struct {
	fake   *b24fake.Portal
	store  *portal.Store
	client *portal.Client
	portal *portal.Portal
	opts   portal.ClientOptions
}

func testBox(t testing.TB) *secrets.Box {
	t.Helper()
	box, err := secrets.New([]byte("0123456789abcdef0123456789abcdef-test-key"))
	if err != nil {
		t.Fatal(err)
	}
	return box
}

// clientOptions are fast defaults for tests: short backoff and a bucket that
// drains quickly.
func clientOptions(t testing.TB, fake *b24fake.Portal) portal.ClientOptions {
	return portal.ClientOptions{
		ClientID:          fake.ClientID(),
		ClientSecret:      fake.ClientSecret(),
		AllowInsecureHTTP: true,
		RetryBaseDelay:    10 * time.Millisecond,
		RateBurst:         50,
		RatePerSec:        200,
		Timeout:           5 * time.Second,
		Log:               dbtest.Logger(t),
	}
}

func newEnv(t *testing.T, db *gorm.DB, fopts b24fake.Options, tune func(*portal.ClientOptions)) *env {
	t.Helper()
	if fopts.RatePerSec == 0 {
		fopts.RateBurst, fopts.RatePerSec = 50, 200
	}
	fake := b24fake.New(fopts)
	t.Cleanup(fake.Close)
	store := portal.NewStore(db, testBox(t))
	access, refresh := fake.IssueTokens(1, true)
	p, err := store.Upsert(context.Background(), portal.Install{
		MemberID:         fake.MemberID(),
		Domain:           fake.Domain(),
		ClientEndpoint:   fake.ClientEndpoint(),
		ServerEndpoint:   fake.ServerEndpoint(),
		AccessToken:      access,
		RefreshToken:     refresh,
		ExpiresAt:        time.Now().Add(time.Hour),
		ApplicationToken: fake.ApplicationToken(),
		Lang:             "en",
		InstallerUserID:  1,
	})
	if err != nil {
		t.Fatal(err)
	}
	opts := clientOptions(t, fake)
	if tune != nil {
		tune(&opts)
	}
	return &env{fake: fake, store: store, client: portal.NewClient(store, opts), portal: p, opts: opts}
}

// activateConnector registers connector and activates it on line 1.
func (e *env) activateConnector(t *testing.T, connector string) {
	t.Helper()
	ctx := context.Background()
	register := map[string]any{
		"ID": connector, "NAME": "WhatsApp", "ICON": map[string]any{"DATA_IMAGE": "data:image/svg+xml,%3Csvg%3E"},
		"PLACEMENT_HANDLER": "https://app.example.com/settings",
	}
	if err := e.client.Call(ctx, e.portal.ID, "imconnector.register", register, nil); err != nil {
		t.Fatal(err)
	}
	activate := map[string]any{"CONNECTOR": connector, "LINE": 1, "ACTIVE": "1"}
	if err := e.client.Call(ctx, e.portal.ID, "imconnector.activate", activate, nil); err != nil {
		t.Fatal(err)
	}
}

func (e *env) reload(t *testing.T) *portal.Portal {
	t.Helper()
	p, err := e.store.ByID(context.Background(), e.portal.ID)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func sendParams(connector, chatID, text string) map[string]any {
	return map[string]any{
		"CONNECTOR": connector, "LINE": 1,
		"MESSAGES": []any{map[string]any{
			"user":    map[string]any{"id": "15550001111", "name": "Maria"},
			"message": map[string]any{"id": "wamid.1", "date": 1773265993, "text": text},
			"chat":    map[string]any{"id": chatID},
		}},
	}
}
