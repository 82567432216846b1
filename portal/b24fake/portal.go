// Package b24fake is an in-process Bitrix24 portal and OAuth server for
// tests. It serves the REST methods the app uses with the shapes, errors and
// limits of the real cloud portal: a leaky-bucket rate limit, expiring access
// tokens and single-use refresh tokens, in-200 errors, NOT_ACTIVE_LINE, a 302
// from a renamed portal. It records every call and sends events to the app in
// the wire format of the Bitrix24 queue server.
//
// The portal listens on 127.0.0.1 only, and it fetches files and delivers
// events only to loopback addresses.
package b24fake

import (
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Options configure a fake portal. Zero fields take the defaults given.
type Options struct {
	// MemberID is the stable portal id (default 32 random hex digits).
	MemberID string
	// ClientID and ClientSecret are the credentials the OAuth server accepts
	// (default "local.b24fake.000001" and "b24fake-secret").
	ClientID     string
	ClientSecret string
	// ApplicationToken authenticates events (default 32 random hex digits).
	ApplicationToken string
	// RateBurst and RatePerSec are the leaky bucket: at most RateBurst
	// requests in the bucket, drained at RatePerSec (default 50 and 2).
	RateBurst  int
	RatePerSec float64
	// Latency delays every REST answer.
	Latency time.Duration
	// TokenTTL is the lifetime of access tokens (default 1h).
	TokenTTL time.Duration
	// Now is the clock of tokens, the bucket and time blocks (default time.Now).
	Now func() time.Time
	// AppCode, AppVersion and AppStatus are what app.info reports (default
	// "b24wa.whatsapp", 1 and "F").
	AppCode    string
	AppVersion int
	AppStatus  string
	// NotInstalled starts the portal before BX24.installFinish: app.info
	// reports INSTALLED false and no events are sent until FinishInstall.
	NotInstalled bool
	// TLS serves https with httptest's certificate; use HTTPClient to trust it.
	TLS bool
	// Lang is the portal language (default "en").
	Lang string
	// Listener, when set, is the socket of the portal's first address in
	// place of a free port on 127.0.0.1. It must be on a loopback address,
	// or New panics.
	Listener net.Listener
	// Handler serves every request outside the portal's own paths (/rest/,
	// /oauth-server/, the /~<code> short links and /pub/im.file.php of
	// uploaded files), which get 404 without it. Pages that must share
	// the portal's origin, such as the sandbox UI, are served this way.
	Handler http.Handler
}

func (o Options) withDefaults() Options {
	if o.MemberID == "" {
		o.MemberID = randomHex(16)
	}
	if o.ClientID == "" {
		o.ClientID = "local.b24fake.000001"
	}
	if o.ClientSecret == "" {
		o.ClientSecret = "b24fake-secret"
	}
	if o.ApplicationToken == "" {
		o.ApplicationToken = randomHex(16)
	}
	if o.RateBurst <= 0 {
		o.RateBurst = 50
	}
	if o.RatePerSec <= 0 {
		o.RatePerSec = 2
	}
	if o.TokenTTL <= 0 {
		o.TokenTTL = time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.AppCode == "" {
		o.AppCode = "b24wa.whatsapp"
	}
	if o.AppVersion == 0 {
		o.AppVersion = 1
	}
	if o.AppStatus == "" {
		o.AppStatus = "F"
	}
	if o.Lang == "" {
		o.Lang = "en"
	}
	return o
}

// Portal is one fake Bitrix24 account with its OAuth server.
type Portal struct {
	opts Options

	// servers[0] is the first address and hosts the OAuth server; the last
	// one serves REST, and older ones redirect to it after Rename.
	srvMu   sync.RWMutex
	servers []*httptest.Server

	bucketMu sync.Mutex
	bucket   bucket

	mu    sync.Mutex
	state state
}

// New starts a fake portal on a loopback port. Close it when done.
func New(opts Options) *Portal {
	opts = opts.withDefaults()
	p := &Portal{opts: opts}
	p.bucket = bucket{burst: float64(opts.RateBurst), perSec: opts.RatePerSec}
	p.state = newState(opts)
	p.servers = []*httptest.Server{p.startServer(opts.Listener)}
	return p
}

// startServer serves the portal on ln, or on a free loopback port when ln
// is nil.
func (p *Portal) startServer(ln net.Listener) *httptest.Server {
	var srv *httptest.Server
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { p.serveHTTP(srv, w, r) })
	srv = httptest.NewUnstartedServer(h)
	if ln != nil {
		if ap, err := netip.ParseAddrPort(ln.Addr().String()); err != nil || !ap.Addr().IsLoopback() {
			panic("b24fake: Listener address " + ln.Addr().String() + " is not a loopback address")
		}
		_ = srv.Listener.Close()
		srv.Listener = ln
	}
	if p.opts.TLS {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	return srv
}

// Close stops every address of the portal.
func (p *Portal) Close() {
	p.srvMu.RLock()
	defer p.srvMu.RUnlock()
	for _, s := range p.servers {
		s.Close()
	}
}

// URL is the portal's current base URL, such as http://127.0.0.1:41234.
func (p *Portal) URL() string {
	p.srvMu.RLock()
	defer p.srvMu.RUnlock()
	return p.servers[len(p.servers)-1].URL
}

// Domain is the current host of the portal (DOMAIN in installer POSTs and
// auth[domain] in events), such as 127.0.0.1:41234.
func (p *Portal) Domain() string {
	u, _ := url.Parse(p.URL())
	return u.Host
}

// ClientEndpoint is the REST address, URL() + "/rest/".
func (p *Portal) ClientEndpoint() string { return p.URL() + "/rest/" }

// ServerEndpoint is the OAuth server's REST address. Replacing its trailing
// "rest/" with "oauth/token/" gives the token endpoint, as for
// https://oauth.bitrix.info/rest/.
func (p *Portal) ServerEndpoint() string {
	p.srvMu.RLock()
	defer p.srvMu.RUnlock()
	return p.servers[0].URL + "/oauth-server/rest/"
}

// MemberID is the portal's member_id.
func (p *Portal) MemberID() string { return p.opts.MemberID }

// ClientID is the app client_id the OAuth server accepts.
func (p *Portal) ClientID() string { return p.opts.ClientID }

// ClientSecret is the app client_secret the OAuth server accepts.
func (p *Portal) ClientSecret() string { return p.opts.ClientSecret }

// HTTPClient returns a client that trusts the portal's TLS certificate.
func (p *Portal) HTTPClient() *http.Client {
	p.srvMu.RLock()
	defer p.srvMu.RUnlock()
	return p.servers[0].Client()
}

// Rename moves the portal to a new address, as when a cloud portal is
// renamed: REST requests to every older address get 302 with Location on the
// new one, and the OAuth server stays where it was. It returns the new domain.
func (p *Portal) Rename() string {
	srv := p.startServer(nil)
	p.srvMu.Lock()
	p.servers = append(p.servers, srv)
	p.srvMu.Unlock()
	u, _ := url.Parse(srv.URL)
	return u.Host
}

func (p *Portal) current() *httptest.Server {
	p.srvMu.RLock()
	defer p.srvMu.RUnlock()
	return p.servers[len(p.servers)-1]
}

func (p *Portal) serveHTTP(srv *httptest.Server, w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/oauth-server/oauth/token/" || r.URL.Path == "/oauth-server/oauth/token":
		p.serveToken(w, r)
	case strings.HasPrefix(r.URL.Path, "/oauth-server/rest/"):
		p.serveOAuthREST(w, r)
	case strings.HasPrefix(r.URL.Path, "/rest/"):
		if cur := p.current(); cur != srv {
			http.Redirect(w, r, cur.URL+r.URL.RequestURI(), http.StatusFound)
			return
		}
		p.serveREST(w, r)
	case strings.HasPrefix(r.URL.Path, "/~"):
		p.serveShortLink(w, r)
	case r.URL.Path == imFilePath:
		p.serveIMFile(w, r)
	case p.opts.Handler != nil:
		p.opts.Handler.ServeHTTP(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (p *Portal) now() time.Time { return p.opts.Now() }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
