package main

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wabridge/b24wa/connector"
	"github.com/wabridge/b24wa/connector/billing"
	"github.com/wabridge/b24wa/connector/bridge"
	"github.com/wabridge/b24wa/connector/mail"
	"github.com/wabridge/b24wa/connector/wa"
	"github.com/wabridge/b24wa/connector/wa/meow"
	"github.com/wabridge/b24wa/connector/wa/simulator"
	"github.com/wabridge/b24wa/connector/wastore"
	"github.com/wabridge/b24wa/handlers"
	"github.com/wabridge/b24wa/portal"
	"github.com/wabridge/b24wa/static"
)

// components are the services the HTTP routes and workers are built from.
type components struct {
	portals    *portal.Store
	client     *portal.Client
	installer  *portal.Installer
	auth       *portal.Authenticator
	dispatcher *portal.Dispatcher
	container  *wastore.Container
	backend    wa.Backend
	simulator  *simulator.Simulator // nil unless WHATSAPP_BACKEND=simulator
	manager    *connector.Manager
	bridge     *bridge.Bridge
	billing    *billing.Service
	links      *connector.ScanLinks
	mailer     *mail.Sender // nil without SMTP_URL
}

// build constructs every service. Nothing runs yet; start does that.
func (a *App) build() (*components, error) {
	cfg, log := a.cfg, a.log
	catalog := static.MustCatalog()
	c := &components{}
	instance := cfg.InstanceID

	c.portals = portal.NewStore(a.db, a.box)
	c.client = portal.NewClient(c.portals, portal.ClientOptions{
		ClientID: cfg.B24ClientID, ClientSecret: cfg.B24ClientSecret,
		RateBurst: cfg.B24RateBurst, RatePerSec: cfg.B24RatePerSec, Timeout: cfg.B24Timeout,
		AllowInsecureHTTP: cfg.AllowInsecureHTTP, Log: log.With("component", "b24"),
		Registerer: a.registry,
	})

	c.container = wastore.New(a.db, a.box, log.With("component", "wastore"))
	if cfg.WhatsAppBackend == "simulator" {
		sim, err := newSimulator(cfg, log.With("component", "wa_simulator"))
		if err != nil {
			return nil, err
		}
		c.simulator, c.backend = sim, sim
	} else {
		c.backend = meow.New(c.container, log.With("component", "whatsmeow"), meow.Options{})
	}

	c.bridge = bridge.New(bridge.Options{
		DB: a.db, Caller: c.client, Texts: catalog, Log: log.With("component", "bridge"),
		PublicURL: cfg.PublicBase(), DataDir: cfg.DataDir, InstanceID: instance,
		MediaTTL: cfg.MediaTTL, MaxOutboundFile: cfg.MaxOutboundFile, SendInterval: cfg.SendInterval,
		AllowInsecureHTTP: cfg.AllowInsecureHTTP,
	})
	c.manager = connector.NewManager(a.db, c.backend, connector.ManagerOptions{
		Log: log, InstanceID: instance, B24: c.client,
		ConnectorID: cfg.B24ConnectorID, Sink: c.bridge, Registerer: a.registry,
	})
	if err := c.bridge.SetSessions(c.manager, c.manager); err != nil {
		return nil, err
	}

	bill, err := billing.New(a.db, c.manager, c.client, catalog, billing.Options{
		Enabled: cfg.BillingEnabled, TrialDays: cfg.BillingTrialDays, GraceDays: cfg.BillingGraceDays,
		RemindDays: cfg.BillingRemindDays, PricePerMonth: cfg.BillingPrice, Currency: cfg.BillingCurrency,
		SellerDetails: cfg.SellerDetails, CheckInterval: cfg.BillingCheckInterval,
		Log: log,
	})
	if err != nil {
		return nil, fmt.Errorf("billing configuration: %w", err)
	}
	c.billing = bill

	icon, err := fs.ReadFile(static.Assets(), "img/icon.svg")
	if err != nil {
		return nil, err
	}
	c.installer = portal.NewInstaller(c.portals, c.client, portal.InstallOptions{
		ConnectorID: cfg.B24ConnectorID, PublicURL: cfg.PublicBase(), IconSVG: icon,
		AllowInsecureHTTP: cfg.AllowInsecureHTTP, Log: log.With("component", "install"),
	})
	c.auth = portal.NewAuthenticator(c.portals, c.client, a.box, portal.AuthOptions{
		ConnectorID: cfg.B24ConnectorID, Log: log.With("component", "frame_auth"),
	})
	c.dispatcher = portal.NewDispatcher(portal.DispatcherOptions{
		Store: c.portals, Installer: c.installer, Hooks: uninstallHooks{c.manager, c.bridge}, Sink: c.bridge,
		Log: log.With("component", "events"),
	})
	c.links = connector.NewScanLinks(a.db, nil)

	if cfg.SMTPURL != "" {
		mcfg, err := mail.ParseURL(cfg.SMTPURL, cfg.SMTPFrom)
		if err != nil {
			return nil, fmt.Errorf("SMTP_URL: %w", err)
		}
		if c.mailer, err = mail.NewSender(mcfg); err != nil {
			return nil, fmt.Errorf("SMTP_URL: %w", err)
		}
	}
	return c, nil
}

// routes mounts every route on e.
func (a *App) routes(e *echo.Echo, c *components, pages *handlers.Pages) {
	cfg, log := a.cfg, a.log
	handlers.RegisterPortal(e, handlers.PortalDeps{
		Log: log, Pages: pages, Installer: c.installer, Events: c.dispatcher,
		BX24ScriptURL: cfg.BX24ScriptURL,
	})
	deps := &handlers.PageDeps{
		Log: log, Pages: pages, Auth: c.auth, Portals: c.portals, Lines: c.manager.Lines(),
		Sessions: c.manager, Links: c.links, Billing: c.billing, Failures: failures{c.bridge}, Activator: c.manager,
		PublicURL: cfg.PublicBase(), ConnectorID: cfg.B24ConnectorID,
		BX24ScriptURL: cfg.BX24ScriptURL,
	}
	if c.mailer != nil {
		deps.Mailer = c.mailer
	}
	handlers.RegisterSettings(e, deps)
	handlers.RegisterScanLinks(e, deps)
	handlers.RegisterMedia(e, c.bridge)
	handlers.RegisterInvoices(e, handlers.InvoiceDeps{Log: log, Billing: c.billing, Frames: c.auth, Pages: pages})
	handlers.RegisterOperator(e, handlers.OperatorDeps{Log: log, Billing: c.billing, APIKey: cfg.OperatorAPIKey})
	if c.simulator != nil {
		// The simulator's control API has no authentication: it exists only
		// with WHATSAPP_BACKEND=simulator, for tests and offline tryouts.
		handlers.RegisterSimulator(e, c.simulator)
	}
}

// start runs the background workers and registers their stops, so Close
// stops them in reverse order: billing, bridge, sessions, then WhatsApp.
func (a *App) start(ctx context.Context, c *components) error {
	a.addStop("whatsapp backend", func(context.Context) error { return c.backend.Close() })
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a.addStop("background context", func(context.Context) error { cancel(); return nil })

	if err := c.manager.Start(runCtx); err != nil {
		return fmt.Errorf("start sessions: %w", err)
	}
	a.addStop("sessions", c.manager.Close)

	if err := c.bridge.Start(runCtx); err != nil {
		return fmt.Errorf("start bridge: %w", err)
	}
	a.addStop("bridge", c.bridge.Close)

	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := c.billing.Run(runCtx); err != nil && runCtx.Err() == nil {
			a.log.Error("Billing scheduler stopped", "error", err)
		}
	}()
	go a.pruneSentMessages(runCtx, c.container)
	a.addStop("billing", func(ctx context.Context) error {
		cancel()
		select {
		case <-done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	return nil
}

// pruneSentMessages drops the copies of sent messages kept for WhatsApp's
// retry receipts once they are a week old; retries come within minutes.
func (a *App) pruneSentMessages(ctx context.Context, container *wastore.Container) {
	ticker := time.NewTicker(6 * time.Hour)
	defer ticker.Stop()
	for {
		n, err := container.PruneSentMessages(ctx, time.Now().Add(-7*24*time.Hour))
		if err != nil && ctx.Err() == nil {
			a.log.Warn("Pruning sent messages failed", "error", err)
		} else if n > 0 {
			a.log.Debug("Pruned sent messages", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// uninstallHooks deletes a portal's re-hosted media files before the session
// manager deletes its lines on an uninstall with CLEAN=1: the media rows
// cascade away with the lines, and the files would be left behind.
type uninstallHooks struct {
	manager *connector.Manager
	bridge  *bridge.Bridge
}

func (h uninstallHooks) PortalUninstalled(ctx context.Context, portalID uint64, clean bool) error {
	if clean {
		if err := h.bridge.PurgePortalMedia(ctx, portalID); err != nil {
			return err
		}
	}
	return h.manager.PortalUninstalled(ctx, portalID, clean)
}

var _ portal.LifecycleHooks = uninstallHooks{}

// failures adapts the bridge's list of failed deliveries to the settings page.
type failures struct{ b *bridge.Bridge }

func (f failures) FailedDeliveries(ctx context.Context, lineID uint64, limit int) (int, []handlers.FailedDelivery, error) {
	all, err := f.b.Failed(ctx, lineID)
	if err != nil {
		return 0, nil, err
	}
	out := make([]handlers.FailedDelivery, 0, min(limit, len(all)))
	for _, d := range all {
		if len(out) == limit {
			break
		}
		out = append(out, handlers.FailedDelivery{At: d.FailedAt, Direction: d.Direction, Chat: d.ChatKey, Error: d.LastError})
	}
	return len(all), out, nil
}

var _ handlers.DeliveryFailures = failures{}

// newSimulator builds the WhatsApp simulator, keeping its state in the file
// SIMULATOR_STATE names when it is set.
func newSimulator(cfg Config, log *slog.Logger) (*simulator.Simulator, error) {
	opts := simulator.Options{Log: log, StatePath: cfg.SimulatorState}
	if opts.StatePath == "" {
		return simulator.New(opts), nil
	}
	sim, err := simulator.Load(opts)
	if err != nil {
		return nil, fmt.Errorf("SIMULATOR_STATE: %w", err)
	}
	return sim, nil
}
