package portal

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/internal/dbtest"
	"github.com/wabridge/b24wa/internal/secrets"
	"github.com/wabridge/b24wa/portal/b24fake"
)

const (
	testConnectorID = "acme_wa"
	testPublicURL   = "https://b24wa.example.com"
	testIconSVG     = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><circle cx="12" cy="12" r="10" fill="#fff"/></svg>`
)

// installEnv is a fake portal and the inbound side wired to it over a real
// database.
type installEnv struct {
	fake       *b24fake.Portal
	db         *gorm.DB
	box        *secrets.Box
	store      *Store
	client     *Client
	installer  *Installer
	dispatcher *Dispatcher
	sink       *recordingSink
	hooks      *recordingHooks
}

func newInstallEnv(t *testing.T, db *gorm.DB, opts b24fake.Options) *installEnv {
	t.Helper()
	fake := b24fake.New(opts)
	t.Cleanup(fake.Close)
	box, err := secrets.New([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	store := NewStore(db, box)
	client := NewClient(store, ClientOptions{
		ClientID: fake.ClientID(), ClientSecret: fake.ClientSecret(),
		AllowInsecureHTTP: true, RetryBaseDelay: time.Millisecond, Log: dbtest.Logger(t),
	})
	env := &installEnv{fake: fake, db: db, box: box, store: store, client: client,
		sink: &recordingSink{}, hooks: &recordingHooks{}}
	env.installer = env.newInstaller(testPublicURL)
	env.dispatcher = NewDispatcher(DispatcherOptions{Store: store, Installer: env.installer,
		Hooks: env.hooks, Sink: env.sink, Log: dbtest.Logger(t)})
	return env
}

func (e *installEnv) newInstaller(publicURL string) *Installer {
	return NewInstaller(e.store, e.client, InstallOptions{
		ConnectorID: testConnectorID, PublicURL: publicURL, IconSVG: []byte(testIconSVG),
		AllowInsecureHTTP: true,
	})
}

// installRequest is the installer POST an administrator's browser sends.
func (e *installEnv) installRequest() InstallRequest {
	access, refresh := e.fake.IssueTokens(1, true)
	return InstallRequest{
		Domain: e.fake.Domain(), Protocol: "0", Lang: "en", AppSID: "926d1736",
		AuthID: access, AuthExpires: 3600, RefreshID: refresh, ServerEndpoint: e.fake.ServerEndpoint(),
		MemberID: e.fake.MemberID(), Status: "L", Placement: PlacementDefault, PlacementOptions: `{"any":"28\/"}`,
	}
}

// mustInstall installs through the installer page and stores the fake's
// application token as ONAPPINSTALL would.
func (e *installEnv) mustInstall(t *testing.T) *Portal {
	t.Helper()
	req := e.installRequest()
	req.ApplicationToken = e.fake.ApplicationToken()
	p, err := e.installer.InstallFromPage(context.Background(), req)
	if err != nil {
		t.Fatalf("install: %v", err)
	}
	e.fake.FinishInstall()
	return p
}

// event parses a form built by the fake, as the /events handler does.
func (e *installEnv) event(t *testing.T, name string, data any, opts ...b24fake.EventOption) *Event {
	t.Helper()
	ev, err := ParseEvent(e.fake.EventForm(name, data, opts...).Encode(), FormLimits{})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func (e *installEnv) portalCount(t *testing.T) int64 {
	t.Helper()
	var n int64
	if err := e.db.Model(&Portal{}).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// recordingSink stores connector events in memory, or fails with err.
type recordingSink struct {
	mu     sync.Mutex
	events []*Event
	err    error
}

func (s *recordingSink) HandleConnectorEvent(_ context.Context, _ *Portal, ev *Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.events = append(s.events, ev)
	return nil
}

func (s *recordingSink) names() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, ev := range s.events {
		out = append(out, ev.Name)
	}
	return out
}

// recordingHooks records PortalUninstalled calls, or fails with err.
type recordingHooks struct {
	mu    sync.Mutex
	calls []string
	err   error
}

func (h *recordingHooks) PortalUninstalled(_ context.Context, portalID uint64, clean bool) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	call := "uninstalled"
	if clean {
		call = "uninstalled clean"
	}
	h.calls = append(h.calls, call)
	return h.err
}

var errTestSink = errors.New("test sink is down")

var (
	_ ConnectorEventSink = (*recordingSink)(nil)
	_ LifecycleHooks     = (*recordingHooks)(nil)
)
