package portal_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/internal/dbtest"
	"github.com/wabridge/b24wa/portal"
)

func installFixture(memberID string) portal.Install {
	return portal.Install{
		MemberID: memberID, Domain: "example.bitrix24.com",
		ClientEndpoint: "https://example.bitrix24.com/rest/", ServerEndpoint: "https://oauth.bitrix.info/rest/",
		AccessToken: "access-1", RefreshToken: "refresh-1", ExpiresAt: time.Now().Add(time.Hour),
		ApplicationToken: "app-token-1", Lang: "ru", InstallerUserID: 7,
	}
}

func TestStoreUpsertCreatesAndUpdates(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		s := portal.NewStore(db, testBox(t))
		p, err := s.Upsert(ctx, installFixture("m1"))
		if err != nil {
			t.Fatal(err)
		}
		access, refresh, err := s.Tokens(ctx, p)
		if err != nil || access != "access-1" || refresh != "refresh-1" {
			t.Fatalf("Tokens = %q %q %v", access, refresh, err)
		}
		if string(p.AccessToken) == "access-1" {
			t.Error("access token stored in clear text")
		}

		again := installFixture("m1")
		again.Domain, again.ClientEndpoint = "renamed.bitrix24.com", "https://renamed.bitrix24.com/rest/"
		again.AccessToken, again.RefreshToken, again.ApplicationToken = "access-2", "", ""
		p2, err := s.Upsert(ctx, again)
		if err != nil {
			t.Fatal(err)
		}
		if p2.ID != p.ID || p2.Domain != "renamed.bitrix24.com" {
			t.Errorf("second upsert: id %d domain %s, want id %d renamed", p2.ID, p2.Domain, p.ID)
		}
		access, refresh, _ = s.Tokens(ctx, p2)
		if access != "access-2" || refresh != "refresh-1" {
			t.Errorf("tokens after update = %q %q, want access-2 and the kept refresh-1", access, refresh)
		}
		appToken, err := s.ApplicationToken(p2)
		if err != nil || appToken != "app-token-1" {
			t.Errorf("application token = %q %v, want the kept app-token-1", appToken, err)
		}
	})
}

func TestStoreNotFound(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		s := portal.NewStore(db, testBox(t))
		if _, err := s.ByMemberID(context.Background(), "nobody"); !errors.Is(err, portal.ErrPortalNotFound) {
			t.Errorf("ByMemberID = %v, want ErrPortalNotFound", err)
		}
		if _, err := s.ByID(context.Background(), 999); !errors.Is(err, portal.ErrPortalNotFound) {
			t.Errorf("ByID = %v, want ErrPortalNotFound", err)
		}
	})
}

func TestStoreSealedValueBoundToRow(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		s := portal.NewStore(db, testBox(t))
		a, _ := s.Upsert(ctx, installFixture("ma"))
		b, _ := s.Upsert(ctx, installFixture("mb"))
		b.AccessToken = a.AccessToken
		if _, _, err := s.Tokens(ctx, b); err == nil {
			t.Error("a sealed token copied to another portal opened")
		}
	})
}

func TestStoreAttentionAndTokens(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		s := portal.NewStore(db, testBox(t))
		p, _ := s.Upsert(ctx, installFixture("m1"))
		if err := s.SetAttention(ctx, p.ID, portal.AttentionInvalidGrant); err != nil {
			t.Fatal(err)
		}
		got, _ := s.ByID(ctx, p.ID)
		if got.State != portal.StateAttention || got.AttentionSince == nil {
			t.Fatalf("after SetAttention: state %q since %v", got.State, got.AttentionSince)
		}
		set := portal.TokenSet{AccessToken: "a2", RefreshToken: "r2", ExpiresAt: time.Now().Add(time.Hour),
			ClientEndpoint: "https://new.bitrix24.com/rest/"}
		if err := s.SaveTokens(ctx, got, set); err != nil {
			t.Fatal(err)
		}
		if got.State != portal.StateActive || got.AttentionReason != "" {
			t.Errorf("after SaveTokens: state %q reason %q, want active", got.State, got.AttentionReason)
		}
		if got.Domain != "new.bitrix24.com" {
			t.Errorf("domain = %q, want new.bitrix24.com", got.Domain)
		}
		access, refresh, _ := s.Tokens(ctx, got)
		if access != "a2" || refresh != "r2" {
			t.Errorf("tokens = %q %q", access, refresh)
		}

		if err := s.SetAttention(ctx, p.ID, portal.AttentionOverload); err != nil {
			t.Fatal(err)
		}
		if err := s.ClearAttention(ctx, p.ID, portal.AttentionInvalidGrant); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.ByID(ctx, p.ID); got.AttentionReason != portal.AttentionOverload {
			t.Errorf("ClearAttention with another reason cleared %q", portal.AttentionOverload)
		}
	})
}

func TestStoreLicenceUninstallDelete(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		s := portal.NewStore(db, testBox(t))
		p, _ := s.Upsert(ctx, installFixture("m1"))
		days := -3
		if err := s.SetLicence(ctx, p.ID, "T", true, &days); err != nil {
			t.Fatal(err)
		}
		got, _ := s.ByID(ctx, p.ID)
		if got.LicenceStatus != "T" || !got.LicencePaymentExpired || got.LicenceDays == nil || *got.LicenceDays != -3 {
			t.Errorf("licence = %q %v %v", got.LicenceStatus, got.LicencePaymentExpired, got.LicenceDays)
		}

		if err := s.MarkUninstalled(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
		got, _ = s.ByID(ctx, p.ID)
		if got.State != portal.StateUninstalled || got.UninstalledAt == nil || len(got.AccessToken) != 0 {
			t.Errorf("after uninstall: state %q at %v token %d bytes", got.State, got.UninstalledAt, len(got.AccessToken))
		}
		if list, _ := s.ListInstalled(ctx); len(list) != 0 {
			t.Errorf("ListInstalled returned %d uninstalled portals", len(list))
		}
		again, err := s.Upsert(ctx, installFixture("m1"))
		if err != nil || again.UninstalledAt != nil || again.State != portal.StateActive {
			t.Fatalf("reinstall: %+v %v", again, err)
		}

		now := time.Now().UTC()
		err = db.Exec("INSERT INTO `lines` (portal_id, line_id, connector_id, state_since, created_at, updated_at) VALUES (?, '1', 'c', ?, ?, ?)",
			p.ID, now, now, now).Error
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
		var lines int64
		db.Table("lines").Where("portal_id = ?", p.ID).Count(&lines)
		if lines != 0 {
			t.Errorf("%d lines survived the portal's deletion", lines)
		}
	})
}
