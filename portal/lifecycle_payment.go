package portal

import (
	"context"
	"fmt"
	"time"
)

// paymentRecheckInterval limits app.info calls caused by ONAPPPAYMENT events
// that carry no application_token to one per portal per interval.
const paymentRecheckInterval = time.Minute

// payment handles ONAPPPAYMENT by reading the licence again with app.info
// and the stored tokens; the event's own data is not trusted. The documented
// event has no application_token, so a missing one is accepted (the event
// then only triggers a rate-limited check), but a wrong one is rejected.
func (d *Dispatcher) payment(ctx context.Context, ev *Event) error {
	if _, err := ev.AppPayment(); err != nil {
		return err
	}
	p, err := installedPortal(ctx, d.store, ev)
	if err != nil {
		return err
	}
	if ev.Auth.ApplicationToken != "" {
		if err := checkApplicationToken(d.store, p, ev.Auth.ApplicationToken); err != nil {
			return fmt.Errorf("%s of portal %s: %w", ev.Name, p.MemberID, err)
		}
	} else if p.LicenceCheckedAt != nil && time.Since(*p.LicenceCheckedAt) < paymentRecheckInterval {
		d.log.DebugContext(ctx, "Skipping a licence check, the last one is recent", "portal_id", p.ID)
		return nil
	}

	info, err := d.installer.RefreshLicence(ctx, p)
	if err != nil {
		return fmt.Errorf("refresh licence of portal %d: %w", p.ID, err)
	}
	d.log.InfoContext(ctx, "Licence updated", "portal_id", p.ID, "member_id", p.MemberID,
		"status", info.Status, "payment_expired", info.PaymentExpired)
	return nil
}
