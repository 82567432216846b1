package connector

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/internal/database"
)

// leaseStore keeps the line_leases rows that say which instance owns a
// line's WhatsApp session. A lease is taken only when it is free, expired or
// already held by the same owner, so two instances never connect one line.
type leaseStore struct {
	db *gorm.DB
}

// acquire takes or renews the lease of a line for owner until expiresAt and
// reports whether owner holds it afterwards. It returns ErrLineNotFound when
// the line row is gone.
func (s leaseStore) acquire(ctx context.Context, lineID uint64, owner string, now, expiresAt time.Time) (bool, error) {
	now, expiresAt = now.UTC(), expiresAt.UTC()
	db := s.db.WithContext(ctx)

	err := db.Model(&LineLease{}).
		Where("line_id = ? AND (owner = ? OR expires_at < ?)", lineID, owner, now).
		Updates(map[string]any{"owner": owner, "expires_at": expiresAt}).Error
	if err != nil {
		return false, fmt.Errorf("renew lease of line %d: %w", lineID, err)
	}

	// MySQL counts an UPDATE that writes equal values as zero affected rows,
	// so the row is read back instead of trusting RowsAffected.
	current, err := s.get(ctx, lineID)
	if err != nil {
		return false, err
	}
	if current != nil {
		return current.Owner == owner, nil
	}

	err = db.Create(&LineLease{LineID: lineID, Owner: owner, ExpiresAt: expiresAt}).Error
	switch {
	case err == nil:
		return true, nil
	case database.IsUniqueViolation(err):
		// Another instance inserted the lease first.
		return false, nil
	case errors.Is(err, gorm.ErrForeignKeyViolated):
		return false, fmt.Errorf("lease line %d: %w", lineID, ErrLineNotFound)
	default:
		return false, fmt.Errorf("create lease of line %d: %w", lineID, err)
	}
}

// renew extends owner's lease of a line without taking a free or expired
// one, and reports whether owner still holds it.
func (s leaseStore) renew(ctx context.Context, lineID uint64, owner string, expiresAt time.Time) (bool, error) {
	err := s.db.WithContext(ctx).Model(&LineLease{}).
		Where("line_id = ? AND owner = ?", lineID, owner).
		Update("expires_at", expiresAt.UTC()).Error
	if err != nil {
		return false, fmt.Errorf("renew lease of line %d: %w", lineID, err)
	}
	current, err := s.get(ctx, lineID)
	if err != nil {
		return false, err
	}
	return current != nil && current.Owner == owner, nil
}

// live returns the owner of every lease that has not expired at now.
func (s leaseStore) live(ctx context.Context, now time.Time) (map[uint64]string, error) {
	var leases []LineLease
	err := s.db.WithContext(ctx).Where("expires_at >= ?", now.UTC()).Find(&leases).Error
	if err != nil {
		return nil, fmt.Errorf("list live leases: %w", err)
	}
	owners := make(map[uint64]string, len(leases))
	for _, l := range leases {
		owners[l.LineID] = l.Owner
	}
	return owners, nil
}

// get returns the lease row of a line, or nil when there is none.
func (s leaseStore) get(ctx context.Context, lineID uint64) (*LineLease, error) {
	var lease LineLease
	err := s.db.WithContext(ctx).Where("line_id = ?", lineID).Take(&lease).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load lease of line %d: %w", lineID, err)
	}
	return &lease, nil
}

// release gives up owner's lease of a line; a lease held by another owner
// is left alone.
func (s leaseStore) release(ctx context.Context, lineID uint64, owner string) error {
	err := s.db.WithContext(ctx).Where("line_id = ? AND owner = ?", lineID, owner).Delete(&LineLease{}).Error
	if err != nil {
		return fmt.Errorf("release lease of line %d: %w", lineID, err)
	}
	return nil
}

// releaseAll gives up every lease of owner.
func (s leaseStore) releaseAll(ctx context.Context, owner string) error {
	err := s.db.WithContext(ctx).Where("owner = ?", owner).Delete(&LineLease{}).Error
	if err != nil {
		return fmt.Errorf("release leases of %s: %w", owner, err)
	}
	return nil
}
