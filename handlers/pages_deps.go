package handlers

import (
	"context"
	"log/slog"
	"time"

	"github.com/wabridge/b24wa/connector"
	"github.com/wabridge/b24wa/connector/billing"
	"github.com/wabridge/b24wa/connector/mail"
	"github.com/wabridge/b24wa/portal"
)

// DefaultBX24ScriptURL is Bitrix24's JavaScript library, which the iframe
// pages load to fit the frame to their content.
const DefaultBX24ScriptURL = "https://api.bitrix24.com/api/v1/"

// PageDeps are the dependencies of the settings page, the app's main page and
// the public scan link page. Billing, Failures and Mailer are optional.
type PageDeps struct {
	Log      *slog.Logger
	Pages    *Pages // nil builds its own
	Auth     PlacementAuthenticator
	Portals  PortalReader
	Lines    LineReader
	Sessions connector.Sessions
	Links    *connector.ScanLinks

	// Billing adds a line's payment state and banner to the pages.
	Billing BillingView
	// Failures lists messages the bridge could not deliver.
	Failures DeliveryFailures
	// Mailer sends scan links by e-mail; nil hides the e-mail option.
	Mailer Mailer
	// Activator turns a linked line's connector on again in Bitrix24 when an
	// administrator opens its settings; nil leaves that to the manager's
	// repair loop.
	Activator Activator

	// PublicURL is the app's base URL without a trailing slash; scan links
	// are PublicURL/link/<token>.
	PublicURL string
	// ConnectorID is the Open Lines connector id, used when a settings POST
	// does not name it and for Contact Center links.
	ConnectorID string
	// BX24ScriptURL replaces DefaultBX24ScriptURL; "-" leaves the script out
	// (browser tests run without network access).
	BX24ScriptURL string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// ScanLinkClientLimit and ScanLinkLinkLimit replace the default rate
	// limits of the public scan link routes, per client address and per link.
	ScanLinkClientLimit RateLimit
	ScanLinkLinkLimit   RateLimit
}

// PlacementAuthenticator verifies a Bitrix24 placement POST (the settings
// placement or the app's main page) and issues the frame token its page
// scripts send back. portal.Authenticator implements it.
type PlacementAuthenticator interface {
	AuthenticatePlacement(ctx context.Context, req portal.PlacementRequest) (*portal.FrameUser, error)
	FrameTokenParser
}

// PortalReader loads a portal row. portal.Store implements it.
type PortalReader interface {
	ByID(ctx context.Context, id uint64) (*portal.Portal, error)
}

// LineReader is the part of connector.LineStore that the pages use.
type LineReader interface {
	Ensure(ctx context.Context, portalID uint64, lineID, connectorID, name string) (*connector.Line, error)
	Get(ctx context.Context, id uint64) (*connector.Line, error)
	ByPortalLine(ctx context.Context, portalID uint64, lineID string) (*connector.Line, error)
	ListByPortal(ctx context.Context, portalID uint64) ([]connector.Line, error)
	DeviceSessions(ctx context.Context, lineID uint64) ([]connector.DeviceSession, error)
}

// BillingView is the hook through which billing shows a line's payment
// state and the portal's marketplace licence on the settings and main pages.
// *billing.Service implements it.
type BillingView interface {
	View(ctx context.Context, line *connector.Line) (billing.LineBilling, error)
	ViewPortal(ctx context.Context, portalID uint64) (billing.PortalBilling, error)
}

// DeliveryFailures is the optional hook through which the bridge reports
// messages it gave up on, listed on the settings page.
type DeliveryFailures interface {
	FailedDeliveries(ctx context.Context, lineID uint64, limit int) (total int, recent []FailedDelivery, err error)
}

// FailedDelivery is one message that could not be delivered.
type FailedDelivery struct {
	At        time.Time
	Direction string // "in" (WhatsApp to Bitrix24) or "out"
	Chat      string // customer's number or name, as the bridge shows it
	Error     string // already translated or a short technical reason
}

// Activator re-activates a line in Bitrix24. connector.Manager implements it.
type Activator interface {
	ActivateInBitrix(ctx context.Context, lineID uint64) error
}

// Mailer sends one e-mail. *mail.Sender implements it.
type Mailer interface {
	Send(ctx context.Context, msg mail.Message) error
}

func (d *PageDeps) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *PageDeps) bx24Script() string {
	switch d.BX24ScriptURL {
	case "":
		return DefaultBX24ScriptURL
	case "-":
		return ""
	}
	return d.BX24ScriptURL
}

func (d *PageDeps) pages() *Pages {
	if d.Pages == nil {
		d.Pages = NewPages()
	}
	return d.Pages
}

var (
	_ Mailer                 = (*mail.Sender)(nil)
	_ BillingView            = (*billing.Service)(nil)
	_ PlacementAuthenticator = (*portal.Authenticator)(nil)
	_ PortalReader           = (*portal.Store)(nil)
	_ LineReader             = (*connector.LineStore)(nil)
	_ Activator              = (*connector.Manager)(nil)
)
