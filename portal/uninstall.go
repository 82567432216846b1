package portal

import (
	"context"
	"fmt"
)

// uninstall handles ONAPPUNINSTALL. Its auth block has no tokens (the portal
// already revoked them), so the application_token is the only proof. The
// hooks stop the portal's lines first; then the portal is marked uninstalled,
// or deleted with all its rows when CLEAN=1. When the hooks fail the portal
// is still marked uninstalled, since Bitrix24 does not send the event again,
// but nothing is deleted.
func (d *Dispatcher) uninstall(ctx context.Context, ev *Event) error {
	data, err := ev.AppUninstall()
	if err != nil {
		return err
	}
	p, err := verifyEvent(ctx, d.store, ev)
	if err != nil {
		return err
	}
	if p.State == StateUninstalled && !data.Clean {
		d.log.InfoContext(ctx, "Portal already uninstalled the app", "portal_id", p.ID, "member_id", p.MemberID)
		return nil
	}

	if err := d.hooks.PortalUninstalled(ctx, p.ID, data.Clean); err != nil {
		d.log.ErrorContext(ctx, "Stopping the lines of an uninstalled portal failed", "portal_id", p.ID,
			"member_id", p.MemberID, "clean", data.Clean, "error", err)
		if markErr := d.store.MarkUninstalled(ctx, p.ID); markErr != nil {
			return fmt.Errorf("uninstall portal %d: %w; mark uninstalled: %w", p.ID, err, markErr)
		}
		return fmt.Errorf("uninstall portal %d: %w", p.ID, err)
	}

	if data.Clean {
		if err := d.store.Delete(ctx, p.ID); err != nil {
			return err
		}
	} else if err := d.store.MarkUninstalled(ctx, p.ID); err != nil {
		return err
	}
	d.log.InfoContext(ctx, "Portal uninstalled the app", "portal_id", p.ID, "member_id", p.MemberID,
		"clean", data.Clean)
	return nil
}
