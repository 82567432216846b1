package billing

import (
	"context"
	"time"

	"github.com/wabridge/b24wa/connector"
	"github.com/wabridge/b24wa/portal"
)

// Banner levels, from least to most urgent.
const (
	LevelInfo    = "info"
	LevelWarning = "warning"
	LevelError   = "error"
)

// Banner is a message for the owner: a translation key of static/i18n and
// its arguments, ready for Catalog.T(lang, Key, Args...). An empty Key means
// there is nothing to show.
type Banner struct {
	Key   string
	Args  []any
	Level string
}

// LineBilling is the billing view of one line for the settings page and the
// app's main page.
type LineBilling struct {
	// Enabled is false in deployments without billing; State is then "free".
	Enabled bool
	State   string
	// PaidUntil is the end of the paid or trial period, nil when billing is
	// disabled. GraceUntil is when the line is suspended if still unpaid.
	PaidUntil  *time.Time
	GraceUntil *time.Time
	// DaysLeft counts the days until PaidUntil, rounded up; zero or negative
	// once it has passed.
	DaysLeft int
	// Banner explains the line's state and what happens next.
	Banner Banner
	// Licence is the portal-level banner about the Bitrix24 marketplace
	// subscription, shown whether or not this app bills lines itself.
	Licence Banner
}

// PortalBilling is the portal-level billing view for the app's main page.
type PortalBilling struct {
	Enabled bool
	// PricePerMonth is the price of one line for one month in minor units
	// of Currency.
	PricePerMonth int64
	Currency      string
	Licence       Banner
}

// dateLayout formats dates in banners and notifications. ISO 8601 reads the
// same in every language of the pages.
const dateLayout = "2006-01-02"

// View returns the billing view of line. A line not seen before gets its
// trial period here, exactly as the scheduler would give it.
func (s *Service) View(ctx context.Context, line *connector.Line) (LineBilling, error) {
	l, err := s.loadLine(ctx, line.ID)
	if err != nil {
		return LineBilling{}, err
	}
	p, err := s.loadPortal(ctx, l.PortalID)
	if err != nil {
		return LineBilling{}, err
	}
	if s.opts.Enabled {
		if err := s.ensureTrial(ctx, &l); err != nil {
			return LineBilling{}, err
		}
	}
	v := s.lineView(l, s.now())
	v.Licence = licenceBanner(p)
	return v, nil
}

// ViewPortal returns the portal-level billing view.
func (s *Service) ViewPortal(ctx context.Context, portalID uint64) (PortalBilling, error) {
	p, err := s.loadPortal(ctx, portalID)
	if err != nil {
		return PortalBilling{}, err
	}
	return PortalBilling{
		Enabled:       s.opts.Enabled,
		PricePerMonth: s.opts.PricePerMonth,
		Currency:      s.opts.Currency,
		Licence:       licenceBanner(p),
	}, nil
}

// PairingAllowed returns ErrLineUnpaid when line is past its grace period,
// so the settings page and scan links refuse to pair a number that the
// scheduler would log out again.
func (s *Service) PairingAllowed(ctx context.Context, line *connector.Line) error {
	if !s.opts.Enabled {
		return nil
	}
	l, err := s.loadLine(ctx, line.ID)
	if err != nil {
		return err
	}
	if s.stateAt(l, s.now()) == StateSuspended {
		return ErrLineUnpaid
	}
	return nil
}

func (s *Service) lineView(l lineRow, now time.Time) LineBilling {
	state := s.stateAt(l, now)
	if state == StateFree {
		return LineBilling{State: StateFree}
	}
	paidUntil := s.paidUntil(l, now)
	graceUntil := s.graceEnd(paidUntil)
	v := LineBilling{
		Enabled:    true,
		State:      state,
		PaidUntil:  &paidUntil,
		GraceUntil: &graceUntil,
		DaysLeft:   daysLeft(now, paidUntil),
	}
	v.Banner = lineBanner(state, l.LastPaidAt == nil, paidUntil, graceUntil, v.DaysLeft)
	return v
}

// lineBanner picks the message for a billing state. Every argument list is
// (paid until, suspended from, days left) so translations may use any of
// them with explicit indexes such as %[2]s.
func lineBanner(state string, trial bool, paidUntil, graceUntil time.Time, days int) Banner {
	args := []any{paidUntil.Format(dateLayout), graceUntil.Format(dateLayout), days}
	switch state {
	case StateTrial:
		return Banner{Key: "billing.banner.trial", Args: args, Level: LevelInfo}
	case StatePaid:
		return Banner{Key: "billing.banner.paid", Args: args, Level: LevelInfo}
	case StateDueSoon:
		if trial {
			return Banner{Key: "billing.banner.trial_due_soon", Args: args, Level: LevelWarning}
		}
		return Banner{Key: "billing.banner.due_soon", Args: args, Level: LevelWarning}
	case StateGrace:
		return Banner{Key: "billing.banner.grace", Args: args, Level: LevelError}
	case StateSuspended:
		return Banner{Key: "billing.banner.suspended", Args: args, Level: LevelError}
	case StateNeedsScan:
		return Banner{Key: "billing.banner.needs_scan", Args: args, Level: LevelWarning}
	}
	return Banner{}
}

// licenceBanner reports a lapsed Bitrix24 marketplace subscription, known
// from app.info's PAYMENT_EXPIRED or from a token refresh that failed with
// PAYMENT_REQUIRED.
func licenceBanner(p *portal.Portal) Banner {
	required := p.State == portal.StateAttention && p.AttentionReason == portal.AttentionPaymentRequired
	if !p.LicencePaymentExpired && !required {
		return Banner{}
	}
	return Banner{Key: "billing.banner.licence_expired", Level: LevelError}
}
