package billing

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// LineSummary is one line as the operator sees it: its portal, its device
// state and its billing state now.
type LineSummary struct {
	ID           uint64
	PortalID     uint64
	PortalDomain string
	OpenLineID   string
	Name         string
	Phone        string
	LineState    string
	State        string
	PaidUntil    *time.Time
	LastPaidAt   *time.Time
	SuspendedAt  *time.Time
}

// summaryRow is a line joined with its portal's domain.
type summaryRow struct {
	Row          lineRow `gorm:"embedded"`
	PortalDomain string
}

// Summary returns the operator's view of one line.
func (s *Service) Summary(ctx context.Context, lineID uint64) (LineSummary, error) {
	var row summaryRow
	err := s.summaryQuery(ctx).Where("`lines`.id = ?", lineID).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return LineSummary{}, fmt.Errorf("%w: %d", ErrLineNotFound, lineID)
	}
	if err != nil {
		return LineSummary{}, fmt.Errorf("load line %d: %w", lineID, err)
	}
	return s.summarize(row, s.now()), nil
}

// ListLines returns every line of an installed portal, by id, whose billing
// state is state; an empty state lists all of them. The state is computed
// at the call, so lines the scheduler has not checked yet are included.
func (s *Service) ListLines(ctx context.Context, state string) ([]LineSummary, error) {
	if state != "" && !ValidState(state) {
		return nil, fmt.Errorf("%w: %q", ErrInvalidState, state)
	}
	// NOTE: every line is read and filtered here, which suits deployments of
	// up to some ten thousand lines; beyond that, filter on paid_until in SQL.
	var rows []summaryRow
	err := s.summaryQuery(ctx).Where("portals.uninstalled_at IS NULL").Order("`lines`.id").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list lines: %w", err)
	}
	now := s.now()
	out := make([]LineSummary, 0, len(rows))
	for _, row := range rows {
		sum := s.summarize(row, now)
		if state == "" || sum.State == state {
			out = append(out, sum)
		}
	}
	return out, nil
}

// PortalLines returns the summaries of a portal's lines, by id, for the
// page on which its administrator orders an invoice.
func (s *Service) PortalLines(ctx context.Context, portalID uint64) ([]LineSummary, error) {
	var rows []summaryRow
	err := s.summaryQuery(ctx).Where("`lines`.portal_id = ?", portalID).Order("`lines`.id").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list lines of portal %d: %w", portalID, err)
	}
	now := s.now()
	out := make([]LineSummary, 0, len(rows))
	for _, row := range rows {
		out = append(out, s.summarize(row, now))
	}
	return out, nil
}

func (s *Service) summaryQuery(ctx context.Context) *gorm.DB {
	return s.db.WithContext(ctx).Table("lines").
		Select("`lines`.*, portals.domain AS portal_domain").
		Joins("JOIN portals ON portals.id = `lines`.portal_id")
}

func (s *Service) summarize(row summaryRow, now time.Time) LineSummary {
	l := row.Row
	sum := LineSummary{
		ID: l.ID, PortalID: l.PortalID, PortalDomain: row.PortalDomain, OpenLineID: l.LineID,
		Name: l.Name, Phone: l.Phone, LineState: l.State, State: s.stateAt(l, now),
		LastPaidAt: l.LastPaidAt, SuspendedAt: l.SuspendedAt,
	}
	if s.opts.Enabled {
		paidUntil := s.paidUntil(l, now)
		sum.PaidUntil = &paidUntil
	}
	return sum
}
