package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/wabridge/b24wa/connector"
	"github.com/wabridge/b24wa/connector/wa/simulator"
	"github.com/wabridge/b24wa/internal/database"
	"github.com/wabridge/b24wa/internal/dbtest"
	"github.com/wabridge/b24wa/internal/secrets"
	"github.com/wabridge/b24wa/portal"
	"github.com/wabridge/b24wa/portal/b24fake"
)

const (
	pagesConnector = "b24wa_whatsapp"
	pagesPublicURL = "https://wa.example.com"
	pagesLine      = 3
	// pagesViewerID is a user of the fake portal who is not an administrator.
	pagesViewerID = 7
)

var pagesStart = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// pagesEnv is the settings and scan link pages over a real database, a fake
// Bitrix24 portal installed in it, the session manager on the WhatsApp
// simulator and one fake clock for all of them. The authenticator's clock
// runs ahead of it by authSkew, so a test can expire frame tokens alone.
type pagesEnv struct {
	t        *testing.T
	db       *gorm.DB
	clock    *simulator.FakeClock
	sim      *simulator.Simulator
	fake     *b24fake.Portal
	portals  *portal.Store
	client   *portal.Client
	mgr      *connector.Manager
	links    *connector.ScanLinks
	deps     *PageDeps
	e        *echo.Echo
	portalID uint64
	logs     *pagesLog

	skewMu   sync.Mutex
	authSkew time.Duration
}

// pagesEnvOptions change the defaults of newPagesEnv.
type pagesEnvOptions struct {
	Mailer      Mailer
	ClientLimit RateLimit
	LinkLimit   RateLimit
}

func newPagesEnv(t *testing.T, db *gorm.DB, opts pagesEnvOptions) *pagesEnv {
	t.Helper()
	env := &pagesEnv{t: t, db: db, clock: simulator.NewFakeClock(pagesStart), logs: &pagesLog{}}
	log := slog.New(slog.NewTextHandler(env.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	env.sim = simulator.New(simulator.Options{Clock: env.clock, Log: dbtest.Logger(t)})
	t.Cleanup(func() { _ = env.sim.Close() })
	env.fake = b24fake.New(b24fake.Options{})
	t.Cleanup(env.fake.Close)
	env.fake.AddUser(b24fake.User{ID: pagesViewerID, Name: "Olga", LastName: "Operator", Admin: false})

	box, err := secrets.New(bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	env.portals = portal.NewStore(db, box)
	env.client = portal.NewClient(env.portals, portal.ClientOptions{
		ClientID: env.fake.ClientID(), ClientSecret: env.fake.ClientSecret(),
		AllowInsecureHTTP: true, MaxRetries: 1, RetryBaseDelay: time.Millisecond, Log: dbtest.Logger(t),
	})
	env.portalID = env.install()
	auth := portal.NewAuthenticator(env.portals, env.client, box, portal.AuthOptions{
		ConnectorID: pagesConnector, Now: env.authNow, Log: dbtest.Logger(t),
	})

	env.mgr = connector.NewManager(db, env.sim, connector.ManagerOptions{
		Log: dbtest.Logger(t), InstanceID: "pages-test", B24: env.client, ConnectorID: pagesConnector,
		Now: env.clock.Now, ReconnectJitter: time.Millisecond, LeaseRenewInterval: time.Hour,
		MaintenanceInterval: time.Hour, HealthInterval: time.Hour,
	})
	t.Cleanup(func() { _ = env.mgr.Close(context.Background()) })
	env.links = connector.NewScanLinks(db, env.clock.Now)

	env.deps = &PageDeps{
		Log: log, Auth: auth, Portals: env.portals, Lines: env.mgr.Lines(), Sessions: env.mgr, Links: env.links,
		Mailer: opts.Mailer, Activator: env.mgr, PublicURL: pagesPublicURL, ConnectorID: pagesConnector, BX24ScriptURL: "-",
		Now: env.clock.Now, ScanLinkClientLimit: opts.ClientLimit, ScanLinkLinkLimit: opts.LinkLimit,
	}
	env.e = NewEcho(Options{Log: log, DB: db, Dialect: string(database.DialectOf(db)), PublicURL: pagesPublicURL})
	RegisterSettings(env.e, env.deps)
	RegisterScanLinks(env.e, env.deps)
	return env
}

// install stores the fake portal as the installer would and registers the
// connector, so the manager's imconnector.activate is accepted.
func (env *pagesEnv) install() uint64 {
	env.t.Helper()
	ctx := context.Background()
	access, refresh := env.fake.IssueTokens(1, true)
	p, err := env.portals.Upsert(ctx, portal.Install{
		MemberID: env.fake.MemberID(), Domain: env.fake.Domain(), ClientEndpoint: env.fake.ClientEndpoint(),
		ServerEndpoint: env.fake.ServerEndpoint(), AccessToken: access, RefreshToken: refresh,
		ExpiresAt: time.Now().Add(time.Hour), ApplicationToken: env.fake.ApplicationToken(), Lang: "en",
	})
	if err != nil {
		env.t.Fatal(err)
	}
	err = env.client.Call(ctx, p.ID, "imconnector.register", map[string]any{
		"ID": pagesConnector, "NAME": "WhatsApp",
		"ICON":              map[string]any{"DATA_IMAGE": "data:image/svg+xml,%3Csvg%3E%3C/svg%3E"},
		"PLACEMENT_HANDLER": pagesPublicURL + "/settings",
	}, nil)
	if err != nil {
		env.t.Fatalf("register connector: %v", err)
	}
	return p.ID
}

func (env *pagesEnv) authNow() time.Time {
	env.skewMu.Lock()
	defer env.skewMu.Unlock()
	return env.clock.Now().Add(env.authSkew)
}

// expireFrameTokens moves the authenticator's clock past the token lifetime.
func (env *pagesEnv) expireFrameTokens() {
	env.skewMu.Lock()
	defer env.skewMu.Unlock()
	env.authSkew += portal.DefaultFrameTokenTTL + time.Minute
}

// serve runs one request through the router.
func (env *pagesEnv) serve(req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	env.e.ServeHTTP(rec, req)
	return rec
}

// settingsRequest is the SETTING_CONNECTOR POST Bitrix24 sends for a user.
func (env *pagesEnv) settingsRequest(userID int, lang string) *http.Request {
	return env.fake.NewPlacementRequest("/settings", b24fake.PlacementForm{
		UserID: userID, Placement: portal.PlacementSettingConnector, Lang: lang,
		Options: env.fake.SettingConnectorOptions(pagesConnector, pagesLine),
	})
}

// settingsPage is an opened settings page: its HTML and what its scripts use.
type openedPage struct {
	body  string
	token string
	api   string
}

// openSettings opens the settings page as userID and fails unless it is 200.
func (env *pagesEnv) openSettings(userID int, lang string) openedPage {
	env.t.Helper()
	rec := env.serve(env.settingsRequest(userID, lang))
	if rec.Code != http.StatusOK {
		env.t.Fatalf("settings page: status %d, body %s", rec.Code, rec.Body.String())
	}
	body := rec.Body.String()
	return openedPage{body: body, token: dataAttr(env.t, body, "data-token"), api: dataAttr(env.t, body, "data-api")}
}

var dataAttrPattern = regexp.MustCompile(`(data-[a-z-]+)="([^"]*)"`)

// dataAttr returns the first value of a data- attribute in an HTML page.
func dataAttr(t *testing.T, body, name string) string {
	t.Helper()
	for _, m := range dataAttrPattern.FindAllStringSubmatch(body, -1) {
		if m[1] == name {
			return html.UnescapeString(m[2])
		}
	}
	t.Fatalf("page has no %s attribute", name)
	return ""
}

// api calls a route of the page's API with its frame token.
func (env *pagesEnv) api(page openedPage, method, path string, form url.Values) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, page.api+path, strings.NewReader(form.Encode()))
	req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
	req.Header.Set(echo.HeaderAccept, echo.MIMEApplicationJSON)
	req.Header.Set(FrameTokenHeader, page.token)
	return env.serve(req)
}

// get sends a GET as a browser would: Accept names HTML for pages.
func (env *pagesEnv) get(target, accept string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	if accept != "" {
		req.Header.Set(echo.HeaderAccept, accept)
	}
	req.RemoteAddr = "192.0.2.10:5555"
	return env.serve(req)
}

// decodeJSON decodes a response body, failing the test on bad JSON.
func jsonOf[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("response %d is not JSON: %v: %s", rec.Code, err, rec.Body.String())
	}
	return v
}

// statusBody is the pairing status as the page scripts read it.
type statusBody struct {
	Step          string `json:"step"`
	QR            string `json:"qr"`
	QRExpiresIn   int    `json:"qr_expires_in"`
	Code          string `json:"code"`
	Phone         string `json:"phone"`
	Message       string `json:"message"`
	LinkExpiresIn *int   `json:"link_expires_in"`
}

// errorJSON is errorHandler's JSON.
type errorJSON struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

// line returns the stored line of the fake portal's open line.
func (env *pagesEnv) line() *connector.Line {
	env.t.Helper()
	line, err := env.mgr.Lines().ByPortalLine(context.Background(), env.portalID, fmt.Sprint(pagesLine))
	if err != nil {
		env.t.Fatal(err)
	}
	return line
}

// waitFor polls cond for up to five seconds.
func (env *pagesEnv) waitFor(what string, cond func() bool) {
	env.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			env.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitQR waits until the line's attempt shows a QR code and returns it.
func (env *pagesEnv) waitQR(lineID uint64) string {
	env.t.Helper()
	var qr string
	env.waitFor("a QR code", func() bool {
		st, err := env.mgr.PairingStatus(context.Background(), lineID)
		if err != nil {
			return false
		}
		qr = st.QR
		return st.Step == connector.PairingQR && qr != ""
	})
	return qr
}

// waitLinked waits until the line is connected.
func (env *pagesEnv) waitLinked() *connector.Line {
	env.t.Helper()
	var line *connector.Line
	env.waitFor("the line to connect", func() bool {
		line = env.line()
		return line.State == connector.StateConnected && line.WaJID != ""
	})
	return line
}

// pagesLog collects log output for checks that a secret is never logged.
type pagesLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *pagesLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *pagesLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
