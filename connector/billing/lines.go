package billing

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/portal"
)

// loadLine reads the billing columns of a line.
func (s *Service) loadLine(ctx context.Context, id uint64) (lineRow, error) {
	var l lineRow
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&l).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return l, fmt.Errorf("%w: %d", ErrLineNotFound, id)
	}
	if err != nil {
		return l, fmt.Errorf("load line %d: %w", id, err)
	}
	return l, nil
}

func (s *Service) loadPortal(ctx context.Context, id uint64) (*portal.Portal, error) {
	var p portal.Portal
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&p).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fmt.Errorf("%w: %d", portal.ErrPortalNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("load portal %d: %w", id, err)
	}
	return &p, nil
}

// ensureTrial gives a line without paid_until its trial, counted from the
// line's creation. The condition on paid_until makes a payment recorded in
// the meantime win over the trial.
func (s *Service) ensureTrial(ctx context.Context, l *lineRow) error {
	if l.PaidUntil != nil {
		return nil
	}
	until := s.trialEnd(l.CreatedAt, s.now())
	res := s.db.WithContext(ctx).Model(&lineRow{}).
		Where("id = ? AND paid_until IS NULL", l.ID).
		Updates(map[string]any{"paid_until": until, "billing_state": StateTrial})
	if res.Error != nil {
		return fmt.Errorf("start trial of line %d: %w", l.ID, res.Error)
	}
	if res.RowsAffected == 1 {
		s.log.InfoContext(ctx, "Line trial started", "line_id", l.ID, "portal_id", l.PortalID, "paid_until", until)
		l.PaidUntil = &until
		l.BillingState = StateTrial
		return nil
	}
	fresh, err := s.loadLine(ctx, l.ID)
	if err != nil {
		return err
	}
	*l = fresh
	return nil
}

// storeState records the computed state in lines.billing_state, for
// operators reading the table. Nothing depends on the stored value.
func (s *Service) storeState(ctx context.Context, l *lineRow, state string) error {
	if l.BillingState == state {
		return nil
	}
	err := s.db.WithContext(ctx).Model(&lineRow{}).Where("id = ?", l.ID).
		Update("billing_state", state).Error
	if err != nil {
		return fmt.Errorf("store billing state of line %d: %w", l.ID, err)
	}
	l.BillingState = state
	return nil
}

// dayAgo is the reminded_at before which a line may be reminded again.
func dayAgo(now time.Time) time.Time { return now.Add(-24 * time.Hour) }
