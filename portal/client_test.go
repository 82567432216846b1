package portal_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/internal/dbtest"
	"github.com/wabridge/b24wa/portal"
	"github.com/wabridge/b24wa/portal/b24fake"
)

func TestCallDecodesResult(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		e := newEnv(t, db, b24fake.Options{AppStatus: "T"}, nil)
		ctx := context.Background()

		var info struct {
			Code      string `json:"CODE"`
			Status    string `json:"STATUS"`
			Installed bool   `json:"INSTALLED"`
		}
		if err := e.client.Call(ctx, e.portal.ID, "app.info", nil, &info); err != nil {
			t.Fatal(err)
		}
		if info.Code != "b24wa.whatsapp" || info.Status != "T" || !info.Installed {
			t.Errorf("app.info = %+v", info)
		}

		var raw json.RawMessage
		if err := e.client.Call(ctx, e.portal.ID, "user.admin", nil, &raw); err != nil {
			t.Fatal(err)
		}
		if string(raw) != "true" {
			t.Errorf("user.admin = %s, want true", raw)
		}

		resp, err := e.client.CallResponse(ctx, e.portal.ID, "user.current", nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Time.OperatingResetAt == 0 || resp.Time.Start == 0 {
			t.Errorf("time block not decoded: %+v", resp.Time)
		}
		calls := e.fake.CallsTo("user.current")
		if len(calls) != 1 || calls[0].Token == "" {
			t.Fatalf("fake saw %d user.current calls, want 1 with a token", len(calls))
		}
	})
}

func TestCallUnknownMethodIsAPIError(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		e := newEnv(t, db, b24fake.Options{}, nil)
		err := e.client.Call(context.Background(), e.portal.ID, "no.such.method", nil, nil)
		var apiErr *portal.APIError
		if !errors.As(err, &apiErr) {
			t.Fatalf("error %v is not an APIError", err)
		}
		if apiErr.HTTPStatus != http.StatusNotFound || apiErr.Code != portal.CodeMethodNotFound {
			t.Errorf("APIError = %+v", apiErr)
		}
	})
}

func TestConcurrentExpiredTokenRefreshesOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		e := newEnv(t, db, b24fake.Options{}, nil)
		e.fake.ExpireAccessTokens()

		var wg sync.WaitGroup
		errs := make(chan error, 50)
		for range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- e.client.Call(context.Background(), e.portal.ID, "app.info", nil, nil)
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("call failed: %v", err)
			}
		}
		if n := e.fake.RefreshCount(); n != 1 {
			t.Errorf("refreshes = %d, want 1", n)
		}
		if n := len(e.fake.OAuthCalls()); n != 1 {
			t.Errorf("token requests = %d, want 1", n)
		}
	})
}

func TestRotatedRefreshTokenPersisted(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		e := newEnv(t, db, b24fake.Options{}, nil)
		ctx := context.Background()
		e.fake.ExpireAccessTokens()
		if err := e.client.Call(ctx, e.portal.ID, "app.info", nil, nil); err != nil {
			t.Fatal(err)
		}

		// A new client (a restarted process) must use the rotated pair: the
		// first refresh token is spent and would get invalid_grant.
		restarted := portal.NewClient(e.store, e.opts)
		e.fake.ExpireAccessTokens()
		if err := restarted.Call(ctx, e.portal.ID, "app.info", nil, nil); err != nil {
			t.Fatal(err)
		}
		calls := e.fake.OAuthCalls()
		if len(calls) != 2 {
			t.Fatalf("token requests = %d, want 2", len(calls))
		}
		for i, c := range calls {
			if c.Status != http.StatusOK {
				t.Errorf("token request %d answered %d %s", i, c.Status, c.Error)
			}
		}
		if calls[0].RefreshToken == calls[1].RefreshToken {
			t.Error("second refresh reused the first refresh token")
		}
		p := e.reload(t)
		if p.TokenExpiresAt == nil || p.TokenExpiresAt.Before(time.Now()) {
			t.Errorf("stored expiry %v is not in the future", p.TokenExpiresAt)
		}
	})
}

func TestRefreshRefusalMarksAttention(t *testing.T) {
	cases := []struct {
		name   string
		setup  func(e *env)
		tune   func(o *portal.ClientOptions)
		reason string
	}{
		{"invalid_grant", func(e *env) {
			e.fake.OnOAuthError(1, http.StatusBadRequest, "invalid_grant", "Invalid grant")
		}, nil, portal.AttentionInvalidGrant},
		{"payment required", func(e *env) { e.fake.SetPaymentRequired(true) }, nil, portal.AttentionPaymentRequired},
		{"invalid_client", func(e *env) {}, func(o *portal.ClientOptions) { o.ClientSecret = "wrong" }, portal.AttentionInvalidClient},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
				e := newEnv(t, db, b24fake.Options{}, tc.tune)
				tc.setup(e)
				e.fake.ExpireAccessTokens()
				ctx := context.Background()

				err := e.client.Call(ctx, e.portal.ID, "app.info", nil, nil)
				if !errors.Is(err, portal.ErrNeedsAttention) {
					t.Fatalf("error = %v, want ErrNeedsAttention", err)
				}
				p := e.reload(t)
				if p.State != portal.StateAttention || p.AttentionReason != tc.reason {
					t.Errorf("state %q reason %q, want attention %q", p.State, p.AttentionReason, tc.reason)
				}
				err = e.client.Call(ctx, e.portal.ID, "app.info", nil, nil)
				if !errors.Is(err, portal.ErrNeedsAttention) {
					t.Errorf("second call error = %v, want ErrNeedsAttention", err)
				}
				if n := len(e.fake.OAuthCalls()); n != 1 {
					t.Errorf("token requests = %d, want 1 (no retry loop)", n)
				}
			})
		})
	}
}

func TestRefreshServerErrorIsRetryable(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		e := newEnv(t, db, b24fake.Options{}, nil)
		e.fake.OnOAuthError(1, http.StatusBadGateway, "", "")
		e.fake.ExpireAccessTokens()
		ctx := context.Background()

		err := e.client.Call(ctx, e.portal.ID, "app.info", nil, nil)
		if !errors.Is(err, portal.ErrOAuthUnavailable) {
			t.Fatalf("error = %v, want ErrOAuthUnavailable", err)
		}
		if p := e.reload(t); p.State != portal.StateActive {
			t.Errorf("state = %q after a 5xx refresh, want active", p.State)
		}
		if err := e.client.Call(ctx, e.portal.ID, "app.info", nil, nil); err != nil {
			t.Errorf("call after the OAuth server recovered: %v", err)
		}
	})
}

func TestCallAsDoesNotRefresh(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		e := newEnv(t, db, b24fake.Options{}, nil)
		access, _ := e.fake.IssueTokens(7, false)
		ctx := context.Background()

		var user struct {
			ID string `json:"ID"`
		}
		if err := e.client.CallAs(ctx, e.fake.ClientEndpoint(), access, "user.current", nil, &user); err != nil {
			t.Fatal(err)
		}
		if user.ID != "7" {
			t.Errorf("user.current ID = %q, want 7", user.ID)
		}
		e.fake.ExpireAccessTokens()
		err := e.client.CallAs(ctx, e.fake.ClientEndpoint(), access, "user.current", nil, nil)
		if !portal.IsCode(err, portal.CodeExpiredToken) {
			t.Errorf("error = %v, want expired_token", err)
		}
		if n := len(e.fake.OAuthCalls()); n != 0 {
			t.Errorf("CallAs sent %d token requests", n)
		}
	})
}

func TestInResultErrorOfRegister(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		e := newEnv(t, db, b24fake.Options{}, nil)
		var raw json.RawMessage
		params := map[string]any{"NAME": "x"}
		if err := e.client.Call(context.Background(), e.portal.ID, "imconnector.register", params, &raw); err != nil {
			t.Fatal(err)
		}
		err := portal.CheckResultTrue(raw)
		if !portal.IsCode(err, "CONNECTOR_ID_REQUIRED") {
			t.Errorf("CheckResultTrue(%s) = %v, want CONNECTOR_ID_REQUIRED", raw, err)
		}
		if err := portal.CheckResultTrue(json.RawMessage(`{"result":true}`)); err != nil {
			t.Errorf("CheckResultTrue(true) = %v", err)
		}
	})
}
