package billing

import (
	"math"
	"slices"
	"time"

	"github.com/wabridge/b24wa/connector"
)

// Billing states of a line, stored in lines.billing_state by the scheduler
// and computed afresh by every view.
const (
	StateFree      = "free"       // billing is disabled; the line never expires
	StateTrial     = "trial"      // never paid, within the trial period
	StatePaid      = "paid"       // paid, more than RemindDays before paid_until
	StateDueSoon   = "due_soon"   // within RemindDays before paid_until
	StateGrace     = "grace"      // past paid_until, within GraceDays
	StateSuspended = "suspended"  // past the grace period: logged out, keys deleted
	StateNeedsScan = "needs_scan" // paid again after a suspension, not yet paired again
)

// States lists every billing state, for filters.
var States = []string{StateFree, StateTrial, StatePaid, StateDueSoon, StateGrace, StateSuspended, StateNeedsScan}

// ValidState reports whether s is one of States.
func ValidState(s string) bool { return slices.Contains(States, s) }

// lineRow is the part of a lines row that billing reads and writes. The
// connector's Line model lacks last_paid_at, which this package's migration
// adds.
type lineRow struct {
	ID           uint64 `gorm:"primaryKey"`
	PortalID     uint64
	LineID       string
	Name         string
	Phone        string
	State        string
	BillingState string
	PaidUntil    *time.Time
	LastPaidAt   *time.Time
	RemindedAt   *time.Time
	SuspendedAt  *time.Time
	CreatedAt    time.Time
}

func (lineRow) TableName() string { return "lines" }

// stateAt computes the billing state of a line at now. A line without
// paid_until is treated as being in the trial that starts at its creation.
func (s *Service) stateAt(l lineRow, now time.Time) string {
	if !s.opts.Enabled {
		return StateFree
	}
	paidUntil := s.paidUntil(l, now)
	switch {
	case l.SuspendedAt != nil && !paidUntil.After(now):
		return StateSuspended
	case !now.Before(s.graceEnd(paidUntil)):
		return StateSuspended
	case !now.Before(paidUntil):
		return StateGrace
	case l.State == connector.StateSuspended || l.State == connector.StateNeedsScan:
		// Paid again, but the session ended at suspension; a new pairing
		// changes the line's state and so ends this billing state.
		return StateNeedsScan
	case paidUntil.Sub(now) <= s.remindWindow():
		return StateDueSoon
	case l.LastPaidAt == nil:
		return StateTrial
	default:
		return StatePaid
	}
}

// paidUntil returns the line's paid_until, or the end of the trial that a
// line not yet seen is about to get.
func (s *Service) paidUntil(l lineRow, now time.Time) time.Time {
	if l.PaidUntil != nil {
		return l.PaidUntil.UTC()
	}
	return s.trialEnd(l.CreatedAt, now)
}

// trialEnd is the end of the trial of a line created at created and first
// seen at now: TrialDays after its creation. A line whose trial would
// already be over, because it was created before billing was turned on,
// gets TrialDays from now instead, so enabling billing suspends no line at once.
func (s *Service) trialEnd(created, now time.Time) time.Time {
	end := created.UTC().Truncate(time.Second).AddDate(0, 0, s.opts.TrialDays)
	if end.Before(now) {
		return now.AddDate(0, 0, s.opts.TrialDays)
	}
	return end
}

func (s *Service) graceEnd(paidUntil time.Time) time.Time {
	return paidUntil.AddDate(0, 0, s.opts.GraceDays)
}

func (s *Service) remindWindow() time.Duration {
	return time.Duration(s.opts.RemindDays) * 24 * time.Hour
}

// daysLeft returns the days from now until t rounded up, so a line paid
// until tomorrow noon has 1 or 2 days left, never 0. After t it counts down
// through 0 to negative numbers.
func daysLeft(now, t time.Time) int {
	return int(math.Ceil(t.Sub(now).Hours() / 24))
}
