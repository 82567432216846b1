package handlers

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/wabridge/b24wa/internal/database"
	"github.com/wabridge/b24wa/internal/dbtest"
	"github.com/wabridge/b24wa/internal/secrets"
	"github.com/wabridge/b24wa/portal"
	"github.com/wabridge/b24wa/portal/b24fake"
)

const (
	portalTestConnector = "acme_wa"
	portalTestPublicURL = "https://b24wa.example.com"
)

// portalFixture is the app's router with the install and event routes,
// served on a loopback port so that the fake portal can post events to it.
type portalFixture struct {
	t        *testing.T
	db       *gorm.DB
	fake     *b24fake.Portal
	box      *secrets.Box
	store    *portal.Store
	auth     *portal.Authenticator
	sink     *eventRecorder
	hooks    *uninstallRecorder
	logs     *lockedBuffer
	e        *echo.Echo
	srv      *httptest.Server
	clock    time.Time
	maxEvent int64
}

func newPortalFixture(t *testing.T, db *gorm.DB, opts b24fake.Options) *portalFixture {
	t.Helper()
	f := &portalFixture{t: t, db: db, fake: b24fake.New(opts), sink: &eventRecorder{}, hooks: &uninstallRecorder{},
		logs: &lockedBuffer{}, clock: time.Now(), maxEvent: 64 << 10}
	t.Cleanup(f.fake.Close)
	box, err := secrets.New([]byte("portal-handler-test-secret-key-32b!"))
	if err != nil {
		t.Fatal(err)
	}
	f.box = box
	log := slog.New(slog.NewTextHandler(io.MultiWriter(f.logs, testLogWriter{t}), nil))

	f.store = portal.NewStore(db, box)
	client := portal.NewClient(f.store, portal.ClientOptions{ClientID: f.fake.ClientID(),
		ClientSecret: f.fake.ClientSecret(), AllowInsecureHTTP: true, RetryBaseDelay: time.Millisecond, Log: log})
	installer := portal.NewInstaller(f.store, client, portal.InstallOptions{ConnectorID: portalTestConnector,
		PublicURL: portalTestPublicURL, IconSVG: []byte("<svg/>"), AllowInsecureHTTP: true, Log: log})
	dispatcher := portal.NewDispatcher(portal.DispatcherOptions{Store: f.store, Installer: installer,
		Hooks: f.hooks, Sink: f.sink, Log: log})
	f.auth = portal.NewAuthenticator(f.store, client, box, portal.AuthOptions{ConnectorID: portalTestConnector,
		Now: func() time.Time { return f.clock }, Log: log})

	f.e = NewEcho(Options{Log: log, DB: db, Dialect: string(database.DialectOf(db))})
	RegisterPortal(f.e, PortalDeps{Log: log, Installer: installer, Events: dispatcher, MaxEventBytes: f.maxEvent})
	f.srv = httptest.NewServer(f.e)
	t.Cleanup(f.srv.Close)
	return f
}

func eachPortal(t *testing.T, opts b24fake.Options, fn func(t *testing.T, f *portalFixture)) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) { fn(t, newPortalFixture(t, db, opts)) })
}

// response is a finished HTTP exchange with its body read.
type response struct {
	status int
	header http.Header
	body   string
}

func (f *portalFixture) post(path, contentType, body string) response {
	f.t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.srv.URL+path, strings.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set(echo.HeaderContentType, contentType)
	return f.do(req)
}

func (f *portalFixture) do(req *http.Request) response {
	f.t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	return readResponse(f.t, res)
}

func readResponse(t *testing.T, res *http.Response) response {
	t.Helper()
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: string(body)}
}

// send posts an event built by the fake portal to path.
func (f *portalFixture) send(path, name string, data any, opts ...b24fake.EventOption) response {
	f.t.Helper()
	res, err := f.fake.SendEvent(context.Background(), f.srv.URL+path, name, data, opts...)
	if err != nil {
		f.t.Fatal(err)
	}
	return readResponse(f.t, res)
}

// installerPost is the installer POST an administrator's browser sends, in
// the older form without APPLICATION_TOKEN: DOMAIN, PROTOCOL, LANG and
// APP_SID in the query, the rest in the body.
func (f *portalFixture) installerPost(lang string) (string, string) {
	access, refresh := f.fake.IssueTokens(1, true)
	query := url.Values{"DOMAIN": {f.fake.Domain()}, "PROTOCOL": {"0"}, "LANG": {lang},
		"APP_SID": {"926d1736c46fbd8ba1bd0b4b0a3b08cf"}}
	body := "AUTH_ID=" + access + "&AUTH_EXPIRES=3600&REFRESH_ID=" + refresh +
		"&SERVER_ENDPOINT=" + url.QueryEscape(f.fake.ServerEndpoint()) +
		"&member_id=" + f.fake.MemberID() + "&status=L&PLACEMENT=DEFAULT" +
		"&PLACEMENT_OPTIONS=%7B%22any%22%3A%2228%5C%2F%22%7D"
	return "/install?" + query.Encode(), body
}

// install runs the installer page and then ONAPPINSTALL, which brings the
// application token, as Bitrix24 does after BX24.installFinish.
func (f *portalFixture) install() *portal.Portal {
	f.t.Helper()
	path, body := f.installerPost("en")
	if res := f.post(path, echo.MIMEApplicationForm, body); res.status != http.StatusOK {
		f.t.Fatalf("installer page: %d %s", res.status, res.body)
	}
	f.fake.FinishInstall()
	if res := f.send("/events", portal.EventAppInstall, map[string]any{"VERSION": "1"}, b24fake.WithRefreshToken()); res.status != http.StatusOK {
		f.t.Fatalf("ONAPPINSTALL: %d %s", res.status, res.body)
	}
	return f.portal()
}

func (f *portalFixture) portal() *portal.Portal {
	f.t.Helper()
	p, err := f.store.ByMemberID(context.Background(), f.fake.MemberID())
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

func (f *portalFixture) portalCount() int64 {
	f.t.Helper()
	var n int64
	if err := f.db.Model(&portal.Portal{}).Count(&n).Error; err != nil {
		f.t.Fatal(err)
	}
	return n
}

// eventRecorder is the ConnectorEventSink of the tests.
type eventRecorder struct {
	mu     sync.Mutex
	events []*portal.Event
	err    error
}

func (r *eventRecorder) HandleConnectorEvent(_ context.Context, _ *portal.Portal, ev *portal.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	r.events = append(r.events, ev)
	return nil
}

func (r *eventRecorder) received() []*portal.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*portal.Event(nil), r.events...)
}

// uninstallRecorder is the LifecycleHooks of the tests.
type uninstallRecorder struct {
	mu    sync.Mutex
	clean []bool
}

func (r *uninstallRecorder) PortalUninstalled(_ context.Context, _ uint64, clean bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clean = append(r.clean, clean)
	return nil
}

func (r *uninstallRecorder) calls() []bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]bool(nil), r.clean...)
}

func itoaU(n uint64) string { return strconv.FormatUint(n, 10) }
