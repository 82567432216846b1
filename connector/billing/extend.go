package billing

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/wabridge/b24wa/connector"
)

// MaxMonths bounds the months of one invoice or extension.
const MaxMonths = 36

// Sources of a paid_until change, stored in line_extensions.source.
const (
	SourceInvoice  = "invoice"
	SourceOperator = "operator"
)

// Extension is a row of line_extensions: one change of a line's paid_until
// by a paid invoice or by the operator, kept as an audit trail.
type Extension struct {
	ID              uint64 `gorm:"primaryKey"`
	LineID          uint64
	InvoiceID       *uint64
	Source          string
	Months          int
	PaidUntilBefore *time.Time
	PaidUntilAfter  time.Time
	CreatedAt       time.Time
}

func (Extension) TableName() string { return "line_extensions" }

// Extend is an operator's change of one line's paid_until: either Months
// added to the later of now and paid_until, or an exact Until.
type Extend struct {
	Months int
	Until  time.Time
}

// ParseUntil reads the "until" of an extension: a date (2026-05-31), which
// pays the line through the end of that day in UTC, or an RFC 3339 time.
func ParseUntil(raw string) (time.Time, error) {
	raw = strings.TrimSpace(raw)
	if d, err := time.Parse(dateLayout, raw); err == nil {
		return d.AddDate(0, 0, 1), nil
	}
	t, err := time.Parse(time.RFC3339, raw)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: until %q is neither a date (2006-01-02) nor an RFC 3339 time", ErrInvalidExtension, raw)
	}
	return t.UTC(), nil
}

// ExtendLine changes one line's paid_until as the operator asked and
// returns the line's summary afterwards. A suspended line that is paid past
// now becomes needs_scan: its number has to be scanned again.
func (s *Service) ExtendLine(ctx context.Context, lineID uint64, req Extend) (LineSummary, error) {
	hasUntil := !req.Until.IsZero()
	if (req.Months != 0) == hasUntil {
		return LineSummary{}, fmt.Errorf("%w: give either months or until", ErrInvalidExtension)
	}
	if !hasUntil && (req.Months < 1 || req.Months > MaxMonths) {
		return LineSummary{}, fmt.Errorf("%w: %d, expected 1 to %d", ErrInvalidMonths, req.Months, MaxMonths)
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return s.extendTx(tx, lineID, req, nil, SourceOperator)
	})
	if err != nil {
		return LineSummary{}, err
	}
	return s.Summary(ctx, lineID)
}

// extendTx moves a line's paid_until inside tx and records the change.
// Months count from the later of now and the current paid_until, so paying
// early loses no days and paying late does not pay for the lapsed time.
func (s *Service) extendTx(tx *gorm.DB, lineID uint64, req Extend, invoiceID *uint64, source string) error {
	var l lineRow
	err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("id = ?", lineID).Take(&l).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return fmt.Errorf("%w: %d", ErrLineNotFound, lineID)
	}
	if err != nil {
		return fmt.Errorf("load line %d: %w", lineID, err)
	}

	before := l.PaidUntil
	now := s.now()
	until := req.Until.UTC().Truncate(time.Second)
	if req.Months > 0 {
		from := s.paidUntil(l, now)
		if from.Before(now) {
			from = now
		}
		until = from.AddDate(0, req.Months, 0)
	}

	changes := map[string]any{"paid_until": until, "last_paid_at": now, "updated_at": now}
	if until.After(now) {
		changes["suspended_at"] = nil
	}
	l.PaidUntil, l.LastPaidAt = &until, &now
	if until.After(now) {
		l.SuspendedAt = nil
	}
	changes["billing_state"] = s.stateAt(l, now)
	if err := tx.Model(&lineRow{}).Where("id = ?", lineID).Updates(changes).Error; err != nil {
		return fmt.Errorf("extend line %d: %w", lineID, err)
	}
	if until.After(now) && l.State == connector.StateSuspended {
		err := tx.Model(&lineRow{}).Where("id = ? AND state = ?", lineID, connector.StateSuspended).
			Updates(map[string]any{"state": connector.StateNeedsScan, "state_reason": LogoutReasonPayment, "state_since": now}).Error
		if err != nil {
			return fmt.Errorf("mark line %d as needing a scan: %w", lineID, err)
		}
	}

	ext := Extension{LineID: lineID, InvoiceID: invoiceID, Source: source, Months: req.Months,
		PaidUntilBefore: before, PaidUntilAfter: until, CreatedAt: now}
	if err := tx.Create(&ext).Error; err != nil {
		return fmt.Errorf("record extension of line %d: %w", lineID, err)
	}
	return nil
}
