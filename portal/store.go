package portal

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/internal/database"
	"github.com/wabridge/b24wa/internal/secrets"
)

// Store reads and writes portals rows. Tokens and the application token are
// sealed with the Box, bound to the row by "portal:<member_id>:<column>".
type Store struct {
	db  *gorm.DB
	box *secrets.Box
}

// NewStore returns a Store over db sealing secrets with box.
func NewStore(db *gorm.DB, box *secrets.Box) *Store {
	return &Store{db: db, box: box}
}

// Install is what an installer POST, a placement POST or ONAPPINSTALL tells
// about a portal. Empty ApplicationToken, RefreshToken, Lang and zero
// InstallerUserID keep the stored values, because older installer POSTs lack
// APPLICATION_TOKEN and events lack the refresh token.
type Install struct {
	MemberID         string
	Domain           string
	ClientEndpoint   string
	ServerEndpoint   string
	AccessToken      string
	RefreshToken     string
	ExpiresAt        time.Time
	ApplicationToken string
	Scope            string
	Lang             string
	InstallerUserID  int64
}

// TokenSet is a pair issued by the OAuth server. A non-empty ClientEndpoint
// (from the refresh answer) replaces the stored one together with its host as
// the domain.
type TokenSet struct {
	AccessToken    string
	RefreshToken   string
	ExpiresAt      time.Time
	ClientEndpoint string
}

func sealData(memberID, column string) string {
	return "portal:" + memberID + ":" + column
}

// ByID returns the portal with the given id or ErrPortalNotFound.
func (s *Store) ByID(ctx context.Context, id uint64) (*Portal, error) {
	return s.first(ctx, "id = ?", id)
}

// ByMemberID returns the portal with the given member_id or ErrPortalNotFound.
func (s *Store) ByMemberID(ctx context.Context, memberID string) (*Portal, error) {
	return s.first(ctx, "member_id = ?", memberID)
}

// ListInstalled returns every portal that has not uninstalled the app, by id.
func (s *Store) ListInstalled(ctx context.Context) ([]Portal, error) {
	var rows []Portal
	err := s.db.WithContext(ctx).Where("uninstalled_at IS NULL").Order("id").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list portals: %w", err)
	}
	return rows, nil
}

func (s *Store) first(ctx context.Context, query string, arg any) (*Portal, error) {
	var p Portal
	err := s.db.WithContext(ctx).Where(query, arg).Take(&p).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fmt.Errorf("%w: %v", ErrPortalNotFound, arg)
	}
	if err != nil {
		return nil, fmt.Errorf("load portal %v: %w", arg, err)
	}
	return &p, nil
}

// Upsert creates the portal of in.MemberID or updates its address, tokens and
// install details. A reinstall clears uninstalled_at and sets installed_at
// again. Fresh tokens also clear any attention mark.
func (s *Store) Upsert(ctx context.Context, in Install) (*Portal, error) {
	if in.MemberID == "" || in.Domain == "" {
		return nil, fmt.Errorf("upsert portal: member_id and domain are required")
	}
	p, err := s.upsertOnce(ctx, in)
	if err != nil && database.IsUniqueViolation(err) {
		// A concurrent install of the same portal created the row first.
		p, err = s.upsertOnce(ctx, in)
	}
	return p, err
}

func (s *Store) upsertOnce(ctx context.Context, in Install) (*Portal, error) {
	var p Portal
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		err := tx.Where("member_id = ?", in.MemberID).Take(&p).Error
		creating := errors.Is(err, gorm.ErrRecordNotFound)
		if err != nil && !creating {
			return err
		}
		s.applyInstall(&p, in)
		if creating {
			return tx.Create(&p).Error
		}
		return tx.Save(&p).Error
	})
	if err != nil {
		return nil, fmt.Errorf("upsert portal %s: %w", in.MemberID, err)
	}
	return &p, nil
}

func (s *Store) applyInstall(p *Portal, in Install) {
	now := time.Now().UTC()
	p.MemberID = in.MemberID
	p.Domain = in.Domain
	if in.ClientEndpoint != "" {
		p.ClientEndpoint = in.ClientEndpoint
	}
	if in.ServerEndpoint != "" {
		p.ServerEndpoint = in.ServerEndpoint
	}
	if in.AccessToken != "" {
		p.AccessToken = s.box.SealString(in.AccessToken, sealData(in.MemberID, "access_token"))
		p.TokenExpiresAt = timePtr(in.ExpiresAt)
	}
	if in.RefreshToken != "" {
		p.RefreshToken = s.box.SealString(in.RefreshToken, sealData(in.MemberID, "refresh_token"))
	}
	if in.ApplicationToken != "" {
		p.ApplicationToken = s.box.SealString(in.ApplicationToken, sealData(in.MemberID, "application_token"))
	}
	if in.Scope != "" {
		p.Scope = in.Scope
	}
	if in.Lang != "" {
		p.Lang = in.Lang
	}
	if p.Lang == "" {
		p.Lang = "en"
	}
	if in.InstallerUserID != 0 {
		p.InstallerUserID = in.InstallerUserID
	}
	if p.InstalledAt == nil || p.UninstalledAt != nil {
		p.InstalledAt = &now
	}
	p.UninstalledAt = nil
	p.State = StateActive
	p.AttentionReason = ""
	p.AttentionSince = nil
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

// Tokens returns the decrypted access and refresh tokens of p.
func (s *Store) Tokens(ctx context.Context, p *Portal) (access, refresh string, err error) {
	access, err = s.box.OpenString(p.AccessToken, sealData(p.MemberID, "access_token"))
	if err != nil {
		return "", "", fmt.Errorf("open access token of portal %d: %w", p.ID, err)
	}
	refresh, err = s.box.OpenString(p.RefreshToken, sealData(p.MemberID, "refresh_token"))
	if err != nil {
		return "", "", fmt.Errorf("open refresh token of portal %d: %w", p.ID, err)
	}
	return access, refresh, nil
}

// ApplicationToken returns the decrypted application_token of p, which
// authenticates events; empty when none was stored.
func (s *Store) ApplicationToken(p *Portal) (string, error) {
	token, err := s.box.OpenString(p.ApplicationToken, sealData(p.MemberID, "application_token"))
	if err != nil {
		return "", fmt.Errorf("open application token of portal %d: %w", p.ID, err)
	}
	return token, nil
}
