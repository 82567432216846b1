package billing

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Invoice states.
const (
	InvoiceIssued    = "issued"
	InvoicePaid      = "paid"
	InvoiceCancelled = "cancelled"
)

// MaxInvoiceLines bounds the lines of one invoice.
const MaxInvoiceLines = 100

// Invoice is a row of invoices. Seller, buyer and prices are copied at issue
// time so the document never changes afterwards. Amounts are minor units of
// Currency.
type Invoice struct {
	ID            uint64 `gorm:"primaryKey"`
	Number        string // YYYY-NNNNNN, sequential within the year of IssuedAt
	NumberYear    int
	NumberSeq     int
	PortalID      uint64
	BuyerDomain   string
	BuyerName     string
	IssuedBy      int64 // Bitrix24 user id of the administrator
	Lang          string
	Months        int
	UnitPrice     int64 // one line for one month
	Amount        int64
	Currency      string
	SellerDetails string
	Status        string
	IssuedAt      time.Time
	PaidAt        *time.Time
	CancelledAt   *time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
	Lines         []InvoiceLine `gorm:"foreignKey:InvoiceID"`
}

func (Invoice) TableName() string { return "invoices" }

// InvoiceLine is one line of an invoice, with a copy of the line's name and
// number at issue time.
type InvoiceLine struct {
	ID         uint64 `gorm:"primaryKey"`
	InvoiceID  uint64
	LineID     uint64
	OpenLineID string
	LineName   string
	Phone      string
	Months     int
	UnitPrice  int64
	Amount     int64
}

func (InvoiceLine) TableName() string { return "invoice_lines" }

// InvoiceRequest is an administrator's order: which lines of the portal and
// for how many months.
type InvoiceRequest struct {
	PortalID uint64
	LineIDs  []uint64
	Months   int
	IssuedBy int64
	Lang     string
}

func (r InvoiceRequest) validate() error {
	if r.Months < 1 || r.Months > MaxMonths {
		return fmt.Errorf("%w: %d, expected 1 to %d", ErrInvalidMonths, r.Months, MaxMonths)
	}
	if len(r.LineIDs) == 0 || len(r.LineIDs) > MaxInvoiceLines {
		return fmt.Errorf("%w: %d lines, expected 1 to %d", ErrInvalidLines, len(r.LineIDs), MaxInvoiceLines)
	}
	sorted := slices.Clone(r.LineIDs)
	slices.Sort(sorted)
	if len(slices.Compact(sorted)) != len(r.LineIDs) {
		return fmt.Errorf("%w: a line is listed twice", ErrInvalidLines)
	}
	return nil
}

// IssueInvoice creates an invoice for req's lines at the configured price:
// lines × months × PricePerMonth. Every line must belong to req.PortalID.
func (s *Service) IssueInvoice(ctx context.Context, req InvoiceRequest) (*Invoice, error) {
	if !s.opts.Enabled {
		return nil, ErrDisabled
	}
	if err := req.validate(); err != nil {
		return nil, err
	}
	p, err := s.loadPortal(ctx, req.PortalID)
	if err != nil {
		return nil, err
	}
	var lines []lineRow
	err = s.db.WithContext(ctx).Where("portal_id = ? AND id IN ?", req.PortalID, req.LineIDs).
		Order("id").Find(&lines).Error
	if err != nil {
		return nil, fmt.Errorf("load lines of invoice: %w", err)
	}
	if len(lines) != len(req.LineIDs) {
		return nil, fmt.Errorf("%w: not every line belongs to portal %d", ErrLineNotFound, req.PortalID)
	}

	now := s.now()
	inv := &Invoice{
		PortalID: p.ID, BuyerDomain: p.Domain, BuyerName: p.Name, IssuedBy: req.IssuedBy, Lang: req.Lang,
		Months: req.Months, UnitPrice: s.opts.PricePerMonth, Currency: s.opts.Currency,
		SellerDetails: s.opts.SellerDetails, Status: InvoiceIssued, IssuedAt: now, NumberYear: now.Year(),
	}
	for _, l := range lines {
		amount := s.opts.PricePerMonth * int64(req.Months)
		inv.Lines = append(inv.Lines, InvoiceLine{LineID: l.ID, OpenLineID: l.LineID, LineName: l.Name,
			Phone: l.Phone, Months: req.Months, UnitPrice: s.opts.PricePerMonth, Amount: amount})
		inv.Amount += amount
	}
	if err := s.insertNumbered(ctx, inv); err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "Invoice issued", "invoice", inv.Number, "portal_id", inv.PortalID,
		"lines", len(inv.Lines), "months", inv.Months, "amount", inv.Amount, "currency", inv.Currency)
	return inv, nil
}

// Invoice returns the invoice with id and its lines. A non-zero portalID
// must match the invoice's portal, else ErrInvoiceNotFound.
func (s *Service) Invoice(ctx context.Context, id, portalID uint64) (*Invoice, error) {
	q := s.db.WithContext(ctx).Preload("Lines", func(db *gorm.DB) *gorm.DB { return db.Order("id") }).
		Where("id = ?", id)
	if portalID != 0 {
		q = q.Where("portal_id = ?", portalID)
	}
	var inv Invoice
	err := q.Take(&inv).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fmt.Errorf("%w: %d", ErrInvoiceNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("load invoice %d: %w", id, err)
	}
	return &inv, nil
}

// Invoices returns the latest invoices of a portal, newest first, without
// their lines.
func (s *Service) Invoices(ctx context.Context, portalID uint64, limit int) ([]Invoice, error) {
	var out []Invoice
	err := s.db.WithContext(ctx).Where("portal_id = ?", portalID).Order("id DESC").Limit(limit).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list invoices of portal %d: %w", portalID, err)
	}
	return out, nil
}

// PayInvoice marks an issued invoice paid and extends each of its lines by
// the invoice's months, in one transaction. Paying twice returns
// ErrInvoiceNotIssued and extends nothing.
func (s *Service) PayInvoice(ctx context.Context, number string) (*Invoice, error) {
	var inv Invoice
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := s.lockIssued(tx, number, &inv); err != nil {
			return err
		}
		now := s.now()
		err := tx.Model(&Invoice{}).Where("id = ?", inv.ID).
			Updates(map[string]any{"status": InvoicePaid, "paid_at": now, "updated_at": now}).Error
		if err != nil {
			return fmt.Errorf("mark invoice %s paid: %w", number, err)
		}
		inv.Status, inv.PaidAt = InvoicePaid, &now
		for _, il := range inv.Lines {
			err := s.extendTx(tx, il.LineID, Extend{Months: il.Months}, &inv.ID, SourceInvoice)
			if errors.Is(err, ErrLineNotFound) {
				// The portal deleted the line since; the payment still counts.
				s.log.WarnContext(ctx, "Paid invoice names a deleted line", "invoice", number, "line_id", il.LineID)
				continue
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "Invoice paid", "invoice", inv.Number, "portal_id", inv.PortalID, "amount", inv.Amount)
	return &inv, nil
}

// CancelInvoice marks an issued invoice cancelled; it can no longer be paid.
func (s *Service) CancelInvoice(ctx context.Context, number string) (*Invoice, error) {
	var inv Invoice
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := s.lockIssued(tx, number, &inv); err != nil {
			return err
		}
		now := s.now()
		inv.Status, inv.CancelledAt = InvoiceCancelled, &now
		return tx.Model(&Invoice{}).Where("id = ?", inv.ID).
			Updates(map[string]any{"status": InvoiceCancelled, "cancelled_at": now, "updated_at": now}).Error
	})
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "Invoice cancelled", "invoice", inv.Number, "portal_id", inv.PortalID)
	return &inv, nil
}

// lockIssued loads the invoice by number with its lines, locking its row,
// and fails unless it is still issued.
func (s *Service) lockIssued(tx *gorm.DB, number string, inv *Invoice) error {
	err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Preload("Lines").
		Where("number = ?", number).Take(inv).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return fmt.Errorf("%w: %s", ErrInvoiceNotFound, number)
	}
	if err != nil {
		return fmt.Errorf("load invoice %s: %w", number, err)
	}
	if inv.Status != InvoiceIssued {
		return fmt.Errorf("%w: invoice %s is %s", ErrInvoiceNotIssued, number, inv.Status)
	}
	return nil
}
