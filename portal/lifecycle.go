package portal

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// LifecycleHooks receives the portal lifecycle changes that concern the
// WhatsApp side. The session manager implements it.
type LifecycleHooks interface {
	// PortalUninstalled stops every line of the portal (disconnects and
	// unlinks its WhatsApp sessions). clean is the CLEAN flag of
	// ONAPPUNINSTALL: the portal's rows are deleted right after the call.
	PortalUninstalled(ctx context.Context, portalID uint64, clean bool) error
}

// ConnectorEventSink receives verified connector events: message add,
// update and delete, dialog start and finish, status delete and line
// delete. The bridge implements it. It must store the event durably and
// return quickly, because the event is acknowledged as soon as it returns
// and Bitrix24 never sends an event again.
type ConnectorEventSink interface {
	HandleConnectorEvent(ctx context.Context, p *Portal, ev *Event) error
}

// DispatcherOptions are the dependencies of a Dispatcher.
type DispatcherOptions struct {
	Store     *Store
	Installer *Installer
	Hooks     LifecycleHooks
	Sink      ConnectorEventSink
	Log       *slog.Logger
}

// Dispatcher verifies events delivered to the /events handler and acts on
// them: app lifecycle events here, connector events through the sink.
type Dispatcher struct {
	store     *Store
	installer *Installer
	hooks     LifecycleHooks
	sink      ConnectorEventSink
	log       *slog.Logger
}

// NewDispatcher returns a Dispatcher. Hooks and Sink are required.
func NewDispatcher(opts DispatcherOptions) *Dispatcher {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Dispatcher{store: opts.Store, installer: opts.Installer, hooks: opts.Hooks, sink: opts.Sink, log: log}
}

// HandleEvent verifies ev and acts on it. Verification errors wrap
// ErrEventUnverified (or ErrMalformedEvent for a bad shape) and leave the
// database untouched. Events that are verified but not ours to handle are
// logged and ignored.
func (d *Dispatcher) HandleEvent(ctx context.Context, ev *Event) error {
	switch {
	case ev.Name == EventAppInstall:
		_, err := d.installer.InstallFromEvent(ctx, ev)
		return err
	case ev.Name == EventAppUpdate:
		return d.installer.UpdateFromEvent(ctx, ev)
	case ev.Name == EventAppUninstall:
		return d.uninstall(ctx, ev)
	case ev.Name == EventAppPayment:
		return d.payment(ctx, ev)
	case IsConnectorEvent(ev.Name):
		return d.connectorEvent(ctx, ev)
	}
	p, err := verifyEvent(ctx, d.store, ev)
	if err != nil {
		return err
	}
	d.log.InfoContext(ctx, "Ignoring an event the app does not handle", "portal_id", p.ID,
		"member_id", p.MemberID, "event", ev.Name)
	return nil
}

func (d *Dispatcher) connectorEvent(ctx context.Context, ev *Event) error {
	p, err := verifyEvent(ctx, d.store, ev)
	if err != nil {
		return err
	}
	if p.State == StateUninstalled {
		return fmt.Errorf("%w: portal %s uninstalled the app", ErrEventUnverified, p.MemberID)
	}
	if err := d.checkConnector(ev); err != nil {
		return err
	}
	if err := validateShape(ev); err != nil {
		return err
	}
	if err := d.sink.HandleConnectorEvent(ctx, p, ev); err != nil {
		d.log.ErrorContext(ctx, "Connector event was not stored and is lost", "portal_id", p.ID,
			"member_id", p.MemberID, "event", ev.Name, "error", err)
		return fmt.Errorf("store %s of portal %d: %w", ev.Name, p.ID, err)
	}
	return nil
}

// checkConnector compares data[CONNECTOR] with ours, ignoring case because
// the portal lower-cases connector ids. Line delete events carry no
// connector, only the line id.
func (d *Dispatcher) checkConnector(ev *Event) error {
	if ev.Name == EventLineDelete {
		return nil
	}
	got, want := ev.Connector(), d.installer.ConnectorID()
	if got == "" {
		return fmt.Errorf("%w: %s has no data[CONNECTOR]", ErrEventWrongConnector, ev.Name)
	}
	if !strings.EqualFold(got, want) {
		return fmt.Errorf("%w: %s is for connector %q, not %q", ErrEventWrongConnector, ev.Name, got, want)
	}
	return nil
}

// validateShape decodes the typed view of a connector event once, so that
// the sink gets only events it can read.
func validateShape(ev *Event) error {
	var err error
	switch ev.Name {
	case EventMessageAdd, EventMessageUpdate, EventMessageDelete:
		_, err = ev.Messages()
	case EventDialogStart, EventDialogFinish:
		_, err = ev.Dialogs()
	case EventStatusDelete:
		_, err = ev.StatusDeleted()
	case EventLineDelete:
		_, err = ev.DeletedLine()
	}
	return err
}

// verifyEvent finds the portal of auth[member_id] and compares
// auth[application_token] with the stored one in constant time.
func verifyEvent(ctx context.Context, store *Store, ev *Event) (*Portal, error) {
	if ev.Auth.MemberID == "" {
		return nil, fmt.Errorf("%w: %s has no auth[member_id]", ErrEventUnverified, ev.Name)
	}
	p, err := store.ByMemberID(ctx, ev.Auth.MemberID)
	if errors.Is(err, ErrPortalNotFound) {
		return nil, fmt.Errorf("%w: %s for unknown member_id %q", ErrEventUnknownPortal, ev.Name, ev.Auth.MemberID)
	}
	if err != nil {
		return nil, err
	}
	if err := checkApplicationToken(store, p, ev.Auth.ApplicationToken); err != nil {
		return nil, fmt.Errorf("%s of portal %s: %w", ev.Name, p.MemberID, err)
	}
	return p, nil
}

// checkApplicationToken compares got with the portal's stored
// application_token in constant time.
func checkApplicationToken(store *Store, p *Portal, got string) error {
	want, err := store.ApplicationToken(p)
	if err != nil {
		return err
	}
	if want == "" {
		return fmt.Errorf("%w: no application_token is stored for this portal yet", ErrEventUnverified)
	}
	if got == "" {
		return fmt.Errorf("%w: auth[application_token] is missing", ErrEventUnverified)
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return fmt.Errorf("%w", ErrApplicationTokenMismatch)
	}
	return nil
}
