package billing

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wabridge/b24wa/connector"
	"github.com/wabridge/b24wa/portal"
)

// checkBatch is how many lines one query of Check reads.
const checkBatch = 200

// Run checks every line on start and then every CheckInterval until ctx is
// cancelled. It returns at once when billing is disabled. Several processes
// may run it on one database: suspensions and reminders are claimed with
// conditional updates, so each happens once.
func (s *Service) Run(ctx context.Context) error {
	if !s.opts.Enabled {
		s.log.InfoContext(ctx, "Billing disabled; lines never expire")
		return nil
	}
	if err := s.canCheck(); err != nil {
		return err
	}
	s.log.InfoContext(ctx, "Billing scheduler started", "check_interval", s.opts.CheckInterval)
	ticker := time.NewTicker(s.opts.CheckInterval)
	defer ticker.Stop()
	for {
		if err := s.Check(ctx); err != nil && ctx.Err() == nil {
			s.log.ErrorContext(ctx, "Billing check failed", "error", err)
		}
		select {
		case <-ctx.Done():
			s.log.InfoContext(ctx, "Billing scheduler stopped")
			return nil
		case <-ticker.C:
		}
	}
}

// checkedLine is a line with the portal columns that a check needs.
type checkedLine struct {
	Row             lineRow `gorm:"embedded"`
	PortalLang      string
	InstallerUserID int64
}

// Check runs one pass over the lines of installed portals: it starts trials,
// sends reminders, suspends lines past their grace period and marks paid
// lines that were suspended as needing a new scan. An error on one line is
// logged and the pass goes on; the returned error joins them.
func (s *Service) Check(ctx context.Context) error {
	if !s.opts.Enabled {
		return nil
	}
	if err := s.canCheck(); err != nil {
		return err
	}
	var errs []error
	var after uint64
	for {
		batch, err := s.checkBatch(ctx, after)
		if err != nil {
			return errors.Join(append(errs, err)...)
		}
		for i := range batch {
			if err := s.checkLine(ctx, &batch[i]); err != nil {
				s.log.ErrorContext(ctx, "Billing check of line failed", "line_id", batch[i].Row.ID,
					"portal_id", batch[i].Row.PortalID, "error", err)
				errs = append(errs, err)
			}
		}
		if len(batch) < checkBatch || ctx.Err() != nil {
			return errors.Join(errs...)
		}
		after = batch[len(batch)-1].Row.ID
	}
}

// canCheck reports a Service built without the session manager or the REST
// client, which the scheduler needs.
func (s *Service) canCheck() error {
	if s.sessions == nil || s.b24 == nil {
		return errors.New("billing scheduler needs the session manager and the REST client")
	}
	return nil
}

func (s *Service) checkBatch(ctx context.Context, after uint64) ([]checkedLine, error) {
	var rows []checkedLine
	err := s.db.WithContext(ctx).Table("lines").
		Select("`lines`.*, portals.lang AS portal_lang, portals.installer_user_id").
		Joins("JOIN portals ON portals.id = `lines`.portal_id").
		Where("`lines`.id > ? AND portals.uninstalled_at IS NULL AND portals.state <> ?", after, portal.StateUninstalled).
		Order("`lines`.id").Limit(checkBatch).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list lines for billing check: %w", err)
	}
	return rows, nil
}

func (s *Service) checkLine(ctx context.Context, l *checkedLine) error {
	if err := s.ensureTrial(ctx, &l.Row); err != nil {
		return err
	}
	now := s.now()
	state := s.stateAt(l.Row, now)
	switch state {
	case StateDueSoon, StateGrace:
		if err := s.remind(ctx, l, state, now); err != nil {
			return err
		}
	case StateSuspended:
		if err := s.enforceSuspension(ctx, l, now); err != nil {
			return err
		}
	case StateNeedsScan:
		if err := s.markNeedsScan(ctx, l.Row.ID, now); err != nil {
			return err
		}
	}
	return s.storeState(ctx, &l.Row, state)
}

// markNeedsScan moves a paid line that the session manager left suspended to
// needs_scan, which the settings page shows as "scan again". It covers a
// payment that landed while the suspension's logout was still running.
func (s *Service) markNeedsScan(ctx context.Context, lineID uint64, now time.Time) error {
	err := s.db.WithContext(ctx).Model(&lineRow{}).
		Where("id = ? AND state = ?", lineID, connector.StateSuspended).
		Updates(map[string]any{"state": connector.StateNeedsScan, "state_reason": LogoutReasonPayment,
			"state_since": now, "updated_at": now}).Error
	if err != nil {
		return fmt.Errorf("mark line %d as needing a scan: %w", lineID, err)
	}
	return nil
}
