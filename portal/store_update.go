package portal

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"gorm.io/gorm"
)

// refreshReasons are the attention reasons that new tokens resolve.
var refreshReasons = []string{AttentionInvalidGrant, AttentionInvalidClient, AttentionPaymentRequired}

// SaveTokens stores a new token pair of p in one statement and updates p. It
// also clears an attention mark left by a failed refresh, since the new pair
// proves the OAuth server accepts the app again.
func (s *Store) SaveTokens(ctx context.Context, p *Portal, t TokenSet) error {
	updates := map[string]any{
		"access_token":     s.box.SealString(t.AccessToken, sealData(p.MemberID, "access_token")),
		"refresh_token":    s.box.SealString(t.RefreshToken, sealData(p.MemberID, "refresh_token")),
		"token_expires_at": timePtr(t.ExpiresAt),
	}
	if t.ClientEndpoint != "" {
		u, err := url.Parse(t.ClientEndpoint)
		if err != nil || u.Host == "" {
			return fmt.Errorf("save tokens of portal %d: client endpoint %q is not a URL", p.ID, t.ClientEndpoint)
		}
		updates["client_endpoint"] = t.ClientEndpoint
		updates["domain"] = u.Host
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&Portal{}).Where("id = ?", p.ID).Updates(updates).Error; err != nil {
			return err
		}
		return tx.Model(&Portal{}).
			Where("id = ? AND state = ? AND attention_reason IN ?", p.ID, StateAttention, refreshReasons).
			Updates(map[string]any{"state": StateActive, "attention_reason": "", "attention_since": nil}).Error
	})
	if err != nil {
		return fmt.Errorf("save tokens of portal %d: %w", p.ID, err)
	}
	fresh, err := s.ByID(ctx, p.ID)
	if err != nil {
		return err
	}
	*p = *fresh
	return nil
}

// SetAttention marks the portal as needing its administrator, with a reason
// such as invalid_grant or overload. AttentionSince keeps the time of the
// first mark while the state lasts.
func (s *Store) SetAttention(ctx context.Context, id uint64, reason string) error {
	now := time.Now().UTC()
	err := s.db.WithContext(ctx).Model(&Portal{}).Where("id = ? AND uninstalled_at IS NULL", id).
		Updates(map[string]any{
			"state":            StateAttention,
			"attention_reason": reason,
			"attention_since":  gorm.Expr("COALESCE(attention_since, ?)", now),
		}).Error
	if err != nil {
		return fmt.Errorf("set attention %s on portal %d: %w", reason, id, err)
	}
	return nil
}

// ClearAttention returns an attention portal to the active state. A non-empty
// reason clears only a mark with that reason.
func (s *Store) ClearAttention(ctx context.Context, id uint64, reason string) error {
	q := s.db.WithContext(ctx).Model(&Portal{}).Where("id = ? AND state = ?", id, StateAttention)
	if reason != "" {
		q = q.Where("attention_reason = ?", reason)
	}
	err := q.Updates(map[string]any{"state": StateActive, "attention_reason": "", "attention_since": nil}).Error
	if err != nil {
		return fmt.Errorf("clear attention on portal %d: %w", id, err)
	}
	return nil
}

// SetLicence stores the app's marketplace status from app.info or
// ONAPPPAYMENT: the status letter (F, D, T, P, L), whether payment expired and
// the days left (nil for free apps).
func (s *Store) SetLicence(ctx context.Context, id uint64, status string, paymentExpired bool, days *int) error {
	err := s.db.WithContext(ctx).Model(&Portal{}).Where("id = ?", id).Updates(map[string]any{
		"licence_status":          status,
		"licence_payment_expired": paymentExpired,
		"licence_days":            days,
		"licence_checked_at":      time.Now().UTC(),
	}).Error
	if err != nil {
		return fmt.Errorf("set licence of portal %d: %w", id, err)
	}
	return nil
}

// SetDomain stores the new address of a renamed portal.
func (s *Store) SetDomain(ctx context.Context, id uint64, domain, clientEndpoint string) error {
	err := s.db.WithContext(ctx).Model(&Portal{}).Where("id = ?", id).
		Updates(map[string]any{"domain": domain, "client_endpoint": clientEndpoint}).Error
	if err != nil {
		return fmt.Errorf("set domain of portal %d: %w", id, err)
	}
	return nil
}

// SetApplicationToken replaces the stored application_token, which
// ONAPPUPDATE rotates.
func (s *Store) SetApplicationToken(ctx context.Context, p *Portal, token string) error {
	sealed := s.box.SealString(token, sealData(p.MemberID, "application_token"))
	err := s.db.WithContext(ctx).Model(&Portal{}).Where("id = ?", p.ID).Update("application_token", sealed).Error
	if err != nil {
		return fmt.Errorf("set application token of portal %d: %w", p.ID, err)
	}
	p.ApplicationToken = sealed
	return nil
}

// MarkUninstalled records that the app was removed: the state becomes
// uninstalled and the revoked tokens are erased. The application token stays,
// so a replayed ONAPPUNINSTALL can still be verified.
func (s *Store) MarkUninstalled(ctx context.Context, id uint64) error {
	err := s.db.WithContext(ctx).Model(&Portal{}).Where("id = ?", id).Updates(map[string]any{
		"state":            StateUninstalled,
		"uninstalled_at":   time.Now().UTC(),
		"access_token":     nil,
		"refresh_token":    nil,
		"token_expires_at": nil,
	}).Error
	if err != nil {
		return fmt.Errorf("mark portal %d uninstalled: %w", id, err)
	}
	return nil
}

// Delete removes the portal row; its lines and their rows go with it through
// ON DELETE CASCADE.
func (s *Store) Delete(ctx context.Context, id uint64) error {
	if err := s.db.WithContext(ctx).Delete(&Portal{}, id).Error; err != nil {
		return fmt.Errorf("delete portal %d: %w", id, err)
	}
	return nil
}
