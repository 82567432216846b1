package billing

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-sql-driver/mysql"
	"gorm.io/gorm"

	"github.com/wabridge/b24wa/internal/database"
)

// numberAttempts bounds the retries of an invoice insert that lost a race
// for its year's counter row.
const numberAttempts = 8

// formatNumber renders an invoice number: the year and the sequence number
// within it, zero-padded to six digits (2026-000123).
func formatNumber(year, seq int) string { return fmt.Sprintf("%d-%06d", year, seq) }

// insertNumbered gives inv the next number of its year and inserts it with
// its lines, in one transaction. The counter upsert locks the year's row
// until commit, so concurrent issuers queue and a rolled-back insert gives
// its number back.
func (s *Service) insertNumbered(ctx context.Context, inv *Invoice) error {
	var err error
	for attempt := 1; attempt <= numberAttempts; attempt++ {
		err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			seq, err := s.nextSeq(tx, inv.NumberYear)
			if err != nil {
				return err
			}
			inv.NumberSeq = seq
			inv.Number = formatNumber(inv.NumberYear, seq)
			return tx.Create(inv).Error
		})
		if err == nil || !retryableTx(err) {
			break
		}
		inv.ID = 0
		for i := range inv.Lines {
			inv.Lines[i].ID, inv.Lines[i].InvoiceID = 0, 0
		}
		s.log.DebugContext(ctx, "Invoice number race lost, retrying", "attempt", attempt, "error", err)
		time.Sleep(time.Duration(attempt) * 5 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("insert invoice for portal %d: %w", inv.PortalID, err)
	}
	return nil
}

// nextSeq bumps and returns the counter of year inside tx.
func (s *Service) nextSeq(tx *gorm.DB, year int) (int, error) {
	upsert := "INSERT INTO invoice_counters (counter_year, last_seq) VALUES (?, 1) " +
		"ON CONFLICT (counter_year) DO UPDATE SET last_seq = last_seq + 1"
	if database.DialectOf(tx) == database.MySQL {
		upsert = "INSERT INTO invoice_counters (counter_year, last_seq) VALUES (?, 1) " +
			"ON DUPLICATE KEY UPDATE last_seq = last_seq + 1"
	}
	if err := tx.Exec(upsert, year).Error; err != nil {
		return 0, fmt.Errorf("bump invoice counter of %d: %w", year, err)
	}
	var seq int
	err := tx.Raw("SELECT last_seq FROM invoice_counters WHERE counter_year = ?", year).Scan(&seq).Error
	if err != nil {
		return 0, fmt.Errorf("read invoice counter of %d: %w", year, err)
	}
	return seq, nil
}

// retryableTx reports whether a transaction failed only because it raced
// another: a duplicate key, or a MySQL deadlock or lock wait timeout.
func retryableTx(err error) bool {
	if database.IsUniqueViolation(err) {
		return true
	}
	var myErr *mysql.MySQLError
	if errors.As(err, &myErr) {
		return myErr.Number == 1213 || myErr.Number == 1205
	}
	return false
}
