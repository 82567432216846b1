// Package billing runs the app's own payment lifecycle of each line, which is
// paid on top of the Bitrix24 marketplace licence. A new line gets a trial,
// reminders precede paid_until, and a grace period follows it. After that the
// line is suspended: its WhatsApp session is logged out and its keys deleted.
// Owners order invoices, and the operator that runs the deployment records
// payments. When billing is disabled, lines never expire.
package billing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Logouter ends a line's WhatsApp session. connector.Sessions implements it:
// with reason "payment" it logs the device out, deletes its keys, closes the
// device session row with that reason, sets the line suspended and
// deactivates the line in Bitrix24.
type Logouter interface {
	Logout(ctx context.Context, lineID uint64, reason string) error
}

// Caller calls a REST method on a stored portal. *portal.Client implements it.
type Caller interface {
	Call(ctx context.Context, portalID uint64, method string, params, out any) error
}

// Translator returns the message of key in lang. *static.Catalog implements it.
type Translator interface {
	T(lang, key string, args ...any) string
}

// LogoutReasonPayment is the reason passed to Logouter.Logout and stored on
// the closed device session row when a line is suspended for non-payment.
const LogoutReasonPayment = "payment"

// Options configure billing. The zero value is billing disabled.
type Options struct {
	// Enabled turns billing on. When false every line is "free" and never
	// expires, which is the default for self-hosted deployments.
	Enabled bool
	// TrialDays is the trial a new line gets from its creation time.
	TrialDays int
	// GraceDays is how long a line keeps working after paid_until before it
	// is suspended.
	GraceDays int
	// RemindDays is how many days before paid_until reminders start.
	RemindDays int
	// PricePerMonth is the price of one line for one month in minor units
	// of Currency (150000 is 1500.00).
	PricePerMonth int64
	// Currency is the ISO 4217 code of PricePerMonth, for example RUB.
	Currency string
	// SellerDetails is the multi-line text printed as the seller on
	// invoices: name, tax id, address, bank details. A literal \n also
	// breaks the line, for environments that cannot carry newlines.
	SellerDetails string
	// CheckInterval is the time between two expiry checks of Run.
	CheckInterval time.Duration
	// Now returns the current time; nil means time.Now. Tests inject a clock.
	Now func() time.Time
	// Log receives the service's log records; nil discards them.
	Log *slog.Logger
}

// Default option values for fields left zero.
const (
	DefaultCheckInterval = 10 * time.Minute
	DefaultCurrency      = "RUB"
)

// validate checks the options and names the field at fault.
func (o Options) validate() error {
	var errs []error
	if o.TrialDays < 0 || o.GraceDays < 0 || o.RemindDays < 0 {
		errs = append(errs, fmt.Errorf("trial, grace and remind days must not be negative, got %d, %d and %d",
			o.TrialDays, o.GraceDays, o.RemindDays))
	}
	if o.CheckInterval < 0 {
		errs = append(errs, fmt.Errorf("check interval %s is negative", o.CheckInterval))
	}
	if !o.Enabled {
		return errors.Join(errs...)
	}
	if o.PricePerMonth <= 0 {
		errs = append(errs, fmt.Errorf("price per month must be positive when billing is enabled, got %d", o.PricePerMonth))
	}
	if !validCurrency(o.Currency) {
		errs = append(errs, fmt.Errorf("currency %q is not a three-letter ISO 4217 code", o.Currency))
	}
	return errors.Join(errs...)
}

func validCurrency(code string) bool {
	if len(code) != 3 {
		return false
	}
	for _, r := range code {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

// Service is the billing service: views for the pages, invoices, payments
// and the expiry scheduler. It is safe for concurrent use, and several
// processes may run it on one database.
type Service struct {
	db       *gorm.DB
	sessions Logouter
	b24      Caller
	texts    Translator
	opts     Options
	log      *slog.Logger
}

// New returns a Service. Only the scheduler (Run and Check) of enabled
// billing uses sessions and b24, to suspend lines and send reminders. They
// may be nil for a Service that only shows views and invoices.
func New(db *gorm.DB, sessions Logouter, b24 Caller, texts Translator, opts Options) (*Service, error) {
	opts.Currency = strings.ToUpper(strings.TrimSpace(opts.Currency))
	if opts.Currency == "" {
		opts.Currency = DefaultCurrency
	}
	opts.SellerDetails = strings.ReplaceAll(opts.SellerDetails, `\n`, "\n")
	if opts.CheckInterval == 0 {
		opts.CheckInterval = DefaultCheckInterval
	}
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("billing options: %w", err)
	}
	if opts.Enabled && texts == nil {
		return nil, errors.New("billing options: enabled billing needs the translations")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, sessions: sessions, b24: b24, texts: texts, opts: opts, log: log.With("component", "billing")}, nil
}

// Enabled reports whether lines are billed at all.
func (s *Service) Enabled() bool { return s.opts.Enabled }

// Price returns the price of one line for one month in minor units and its
// currency code.
func (s *Service) Price() (int64, string) { return s.opts.PricePerMonth, s.opts.Currency }

// now returns the clock's time in UTC, truncated to whole seconds so that a
// value written to either dialect compares equal when read back.
func (s *Service) now() time.Time {
	return s.opts.Now().UTC().Truncate(time.Second)
}

// Models lists the gorm models of this package, for schema checks.
func Models() []any {
	return []any{&Invoice{}, &InvoiceLine{}, &Extension{}, &lineRow{}}
}
