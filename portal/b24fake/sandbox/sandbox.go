// Package sandbox is a web page that lets a person try the app without a
// Bitrix24 account or a phone. It runs a fake Bitrix24 portal (b24fake) and
// serves a page on the portal's own origin. The page has four panels: the
// portal's install wizard and Contact Center frames, a simulated business
// phone, a customer's WhatsApp chat and the portal's Open Line chat.
//
// The page plays the portal with b24fake's Go API and plays WhatsApp through
// the app's simulator control API (/simulator, mounted when
// WHATSAPP_BACKEND=simulator). Every address it serves or calls is a
// loopback address.
package sandbox

import (
	"context"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"

	"github.com/wabridge/b24wa/portal/b24fake"
)

// Default values of Options.
const (
	DefaultConnectorID = "b24wa_whatsapp"
	// Line is the open line whose connector settings the sandbox opens.
	Line     = 1
	lineName = "Open Line 1"
)

// Options configure a Sandbox.
type Options struct {
	// AppURL is the app's base URL, such as http://127.0.0.1:8080. It must
	// be an http URL on a loopback address.
	AppURL string
	// ConnectorID is the app's B24_CONNECTOR_ID (default DefaultConnectorID).
	ConnectorID string
	// ClientID and ClientSecret are the app's B24_CLIENT_ID and
	// B24_CLIENT_SECRET, which the fake OAuth server accepts.
	ClientID     string
	ClientSecret string
	// Listener is the socket of the portal and the page, on a loopback
	// address. Nil picks a free port on 127.0.0.1.
	Listener net.Listener
	// Log receives the sandbox's own records; nil discards them.
	Log *slog.Logger
}

// Sandbox is a running fake portal with the sandbox page on its origin.
type Sandbox struct {
	opts   Options
	log    *slog.Logger
	portal *b24fake.Portal
	app    *appAPI
	pages  *template.Template
	mux    *http.ServeMux
	// ready is closed once portal is set; requests wait for it.
	ready chan struct{}

	mu    sync.Mutex
	world world
}

// Start starts the fake portal and the page on opts.Listener. Close it when
// done.
func Start(opts Options) (*Sandbox, error) {
	appURL, err := loopbackURL(opts.AppURL)
	if err != nil {
		return nil, fmt.Errorf("sandbox AppURL: %w", err)
	}
	if opts.ConnectorID == "" {
		opts.ConnectorID = DefaultConnectorID
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Listener != nil {
		if err := checkLoopbackAddr(opts.Listener.Addr()); err != nil {
			return nil, err
		}
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}

	s := &Sandbox{
		opts:  opts,
		log:   opts.Log,
		app:   newAppAPI(appURL),
		pages: pages,
		ready: make(chan struct{}),
		world: newWorld(),
	}
	s.mux = s.routes()
	s.portal = b24fake.New(b24fake.Options{
		ClientID: opts.ClientID, ClientSecret: opts.ClientSecret,
		NotInstalled: true, Listener: opts.Listener, Handler: s,
	})
	s.portal.AddLine(Line, lineName)
	close(s.ready)
	return s, nil
}

// URL is the address of the sandbox page, such as http://127.0.0.1:8081/.
func (s *Sandbox) URL() string { return s.portal.URL() + "/" }

// Portal is the fake portal the page plays.
func (s *Sandbox) Portal() *b24fake.Portal { return s.portal }

// Close stops the portal and the page. It waits for requests in progress.
func (s *Sandbox) Close() { s.portal.Close() }

// ServeHTTP serves the sandbox page and its API, every path of the portal's
// origin except the portal's own REST and OAuth paths.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	<-s.ready
	s.mux.ServeHTTP(w, r)
}

func (s *Sandbox) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.index)
	mux.Handle("GET /sandbox/assets/", http.StripPrefix("/sandbox/assets/", assetServer()))
	mux.HandleFunc("GET /sandbox/open/{page}", s.openPage)
	mux.HandleFunc("GET /sandbox/api/state", s.state)
	mux.HandleFunc("POST /sandbox/api/install/finish", s.finishInstall)
	mux.HandleFunc("POST /sandbox/api/phone/scan", s.scan)
	mux.HandleFunc("POST /sandbox/api/phone/logout", s.logoutPhone)
	mux.HandleFunc("POST /sandbox/api/customer/send", s.customerSend)
	mux.HandleFunc("POST /sandbox/api/customer/read", s.customerRead)
	mux.HandleFunc("POST /sandbox/api/operator/send", s.operatorSend)
	mux.HandleFunc("GET /sandbox/media/customer/{id}", s.customerImage)
	mux.HandleFunc("GET /sandbox/media/portal/{message}/{file}", s.portalFile)
	return mux
}

// loopbackURL parses an http URL whose host is a loopback address and
// returns it without a trailing slash.
func loopbackURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return "", fmt.Errorf("%q is not an http URL", raw)
	}
	if u.Hostname() != "localhost" {
		addr, err := netip.ParseAddr(u.Hostname())
		if err != nil || !addr.IsLoopback() {
			return "", fmt.Errorf("%q is not on a loopback address", raw)
		}
	}
	return u.String(), nil
}

func checkLoopbackAddr(addr net.Addr) error {
	ap, err := netip.ParseAddrPort(addr.String())
	if err != nil || !ap.Addr().IsLoopback() {
		return fmt.Errorf("sandbox listener %s is not on a loopback address", addr)
	}
	return nil
}

// requestContext bounds an action's calls to the app and the portal.
func requestContext(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), actionTimeout)
}
