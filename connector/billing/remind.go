package billing

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wabridge/b24wa/portal"
)

// methodNotify is the Bitrix24 method that puts a system notification in a
// user's notification list.
const methodNotify = "im.notify.system.add"

// remind sends the daily reminder of a due_soon or grace line to the
// administrator who installed the app. The conditional update of
// reminded_at lets exactly one process send it per line and day. A line
// that never had a number linked gets no reminder, only its page banner.
func (s *Service) remind(ctx context.Context, l *checkedLine, state string, now time.Time) error {
	if l.Row.Phone == "" {
		return nil
	}
	claimed, err := s.claimReminder(ctx, l.Row.ID, now)
	if err != nil || !claimed {
		return err
	}
	key := "billing.notify." + state
	if state == StateDueSoon && l.Row.LastPaidAt == nil {
		key = "billing.notify.trial_due_soon"
	}
	err = s.notify(ctx, l, key)
	if err == nil {
		s.log.InfoContext(ctx, "Billing reminder sent", "line_id", l.Row.ID, "portal_id", l.Row.PortalID, "state", state)
		return nil
	}
	if !retrySoon(err) {
		// The claim stays, so the next try is tomorrow: an ambiguous failure
		// may have delivered the notification, and the other errors need
		// the portal's administrator, not a retry in ten minutes.
		s.log.WarnContext(ctx, "Billing reminder not sent", "line_id", l.Row.ID, "portal_id", l.Row.PortalID, "error", err)
		return nil
	}
	if relErr := s.releaseReminder(ctx, l.Row.ID, l.Row.RemindedAt, now); relErr != nil {
		return errors.Join(err, relErr)
	}
	return fmt.Errorf("send billing reminder for line %d: %w", l.Row.ID, err)
}

// claimReminder sets reminded_at to now unless another reminder was sent in
// the last 24 hours, and reports whether this call won.
func (s *Service) claimReminder(ctx context.Context, lineID uint64, now time.Time) (bool, error) {
	res := s.db.WithContext(ctx).Model(&lineRow{}).
		Where("id = ? AND (reminded_at IS NULL OR reminded_at <= ?)", lineID, dayAgo(now)).
		Update("reminded_at", now)
	if res.Error != nil {
		return false, fmt.Errorf("claim reminder of line %d: %w", lineID, res.Error)
	}
	return res.RowsAffected == 1, nil
}

// releaseReminder restores reminded_at after a send that surely failed, so
// the next check tries again. It changes nothing if another process has
// claimed the line since.
func (s *Service) releaseReminder(ctx context.Context, lineID uint64, previous *time.Time, claimed time.Time) error {
	err := s.db.WithContext(ctx).Model(&lineRow{}).
		Where("id = ? AND reminded_at = ?", lineID, claimed).
		Update("reminded_at", previous).Error
	if err != nil {
		return fmt.Errorf("release reminder of line %d: %w", lineID, err)
	}
	return nil
}

// notify sends the message key about line l to the portal's installer, in
// the portal's language. The arguments are the line's name, its paid_until
// and the day it is (or was) suspended.
func (s *Service) notify(ctx context.Context, l *checkedLine, key string) error {
	if l.InstallerUserID <= 0 {
		return fmt.Errorf("portal %d: %w", l.Row.PortalID, errNoInstaller)
	}
	paidUntil := s.paidUntil(l.Row, s.now())
	text := s.texts.T(l.PortalLang, key, lineName(l.Row),
		paidUntil.Format(dateLayout), s.graceEnd(paidUntil).Format(dateLayout))
	params := map[string]any{"USER_ID": l.InstallerUserID, "MESSAGE": text}
	if err := s.b24.Call(ctx, l.Row.PortalID, methodNotify, params, nil); err != nil {
		return err
	}
	return nil
}

// errNoInstaller means the portal row does not name the user who installed
// the app, so no user can be notified.
var errNoInstaller = errors.New("installer user of the portal is unknown")

// retrySoon reports whether a failed notification surely did not reach the
// portal and may be sent again at the next check. Errors that need the
// administrator (tokens refused, app removed) and errors returned by
// Bitrix24 itself are not retried before the next day.
func retrySoon(err error) bool {
	var apiErr *portal.APIError
	switch {
	case portal.IsAmbiguous(err), errors.As(err, &apiErr), errors.Is(err, errNoInstaller):
		return false
	case errors.Is(err, portal.ErrNeedsAttention), errors.Is(err, portal.ErrPortalUninstalled),
		errors.Is(err, portal.ErrNoTokens), errors.Is(err, portal.ErrPortalNotFound),
		errors.Is(err, portal.ErrOverloaded), errors.Is(err, portal.ErrInvalidEndpoint):
		return false
	}
	return true
}

// lineName returns the name notifications use for a line: its display name,
// else its open line id.
func lineName(l lineRow) string {
	if l.Name != "" {
		return l.Name
	}
	return "#" + l.LineID
}
