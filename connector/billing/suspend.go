package billing

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/wabridge/b24wa/connector"
)

// deviceStates are the line states in which a WhatsApp device with keys is
// linked to the line. A suspended line found in one of them was paired again
// without payment and is logged out again.
var deviceStates = []string{
	connector.StateConnected, connector.StateConnecting, connector.StateReconnecting,
	connector.StateStreamReplaced, connector.StateTemporaryBan, connector.StateClientOutdated,
}

// enforceSuspension suspends a line past its grace period. Only the process
// that wins the conditional update of suspended_at acts. It logs the line
// out through the session manager with reason "payment", which deletes the
// device keys and deactivates the line in Bitrix24. Then it notifies the
// installer, unless the line never had a number linked.
func (s *Service) enforceSuspension(ctx context.Context, l *checkedLine, now time.Time) error {
	previous := l.Row.SuspendedAt
	if previous != nil && !slices.Contains(deviceStates, l.Row.State) {
		return nil
	}
	if previous != nil && !now.After(*previous) {
		// MySQL counts only changed rows, so a claim must write a new value.
		now = previous.Add(time.Second)
	}
	claimed, err := s.claimSuspension(ctx, l.Row, now)
	if err != nil || !claimed {
		return err
	}

	err = s.sessions.Logout(ctx, l.Row.ID, LogoutReasonPayment)
	if errors.Is(err, connector.ErrNotLinked) {
		// There is no device to log out, but the line still shows as suspended.
		err = s.markSuspended(ctx, l.Row.ID, now)
	}
	if err != nil {
		if relErr := s.releaseSuspension(ctx, l.Row.ID, previous, now); relErr != nil {
			err = errors.Join(err, relErr)
		}
		if errors.Is(err, connector.ErrNotOwner) {
			// Another instance holds the session; whichever process claims
			// the line at a later check and owns it will log it out.
			s.log.InfoContext(ctx, "Suspension left to the instance that owns the line", "line_id", l.Row.ID)
			return nil
		}
		return fmt.Errorf("suspend line %d: %w", l.Row.ID, err)
	}
	s.log.InfoContext(ctx, "Line suspended for non-payment", "line_id", l.Row.ID, "portal_id", l.Row.PortalID,
		"paid_until", s.paidUntil(l.Row, now), "again", previous != nil)
	if previous == nil && l.Row.Phone != "" {
		if err := s.notify(ctx, l, "billing.notify.suspended"); err != nil {
			s.log.WarnContext(ctx, "Suspension notification not sent", "line_id", l.Row.ID,
				"portal_id", l.Row.PortalID, "error", err)
		}
	}
	return nil
}

// claimSuspension sets suspended_at to now if the line is still past its
// grace period and suspended_at still holds the value this process read, and
// reports whether this call won. Only the winner calls Logout.
func (s *Service) claimSuspension(ctx context.Context, l lineRow, now time.Time) (bool, error) {
	cutoff := now.AddDate(0, 0, -s.opts.GraceDays)
	q := s.db.WithContext(ctx).Model(&lineRow{}).Where("id = ? AND paid_until <= ?", l.ID, cutoff)
	if l.SuspendedAt == nil {
		q = q.Where("suspended_at IS NULL")
	} else {
		q = q.Where("suspended_at = ?", *l.SuspendedAt)
	}
	res := q.Updates(map[string]any{"suspended_at": now, "billing_state": StateSuspended})
	if res.Error != nil {
		return false, fmt.Errorf("claim suspension of line %d: %w", l.ID, res.Error)
	}
	return res.RowsAffected == 1, nil
}

// releaseSuspension undoes a claim whose logout failed, so the next check
// tries again.
func (s *Service) releaseSuspension(ctx context.Context, lineID uint64, previous *time.Time, claimed time.Time) error {
	err := s.db.WithContext(ctx).Model(&lineRow{}).
		Where("id = ? AND suspended_at = ?", lineID, claimed).
		Update("suspended_at", previous).Error
	if err != nil {
		return fmt.Errorf("release suspension of line %d: %w", lineID, err)
	}
	return nil
}

// markSuspended sets the state of a line without a device to suspended, as
// the session manager's Logout does for a linked one.
func (s *Service) markSuspended(ctx context.Context, lineID uint64, now time.Time) error {
	err := s.db.WithContext(ctx).Model(&lineRow{}).
		Where("id = ? AND state <> ?", lineID, connector.StateSuspended).
		Updates(map[string]any{"state": connector.StateSuspended, "state_reason": LogoutReasonPayment,
			"state_since": now, "updated_at": now}).Error
	if err != nil {
		return fmt.Errorf("mark line %d suspended: %w", lineID, err)
	}
	return nil
}
