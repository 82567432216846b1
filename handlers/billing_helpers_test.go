package handlers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/wabridge/b24wa/connector"
	"github.com/wabridge/b24wa/connector/billing"
	"github.com/wabridge/b24wa/internal/dbtest"
	"github.com/wabridge/b24wa/internal/secrets"
	"github.com/wabridge/b24wa/portal"
	"github.com/wabridge/b24wa/static"
)

// billingStart is the clock of the billing route tests.
var billingStart = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

// operatorKey is the OPERATOR_API_KEY of the tests.
const operatorKey = "op-key-6f1d2c8a9b7e4f30a1c5d2e7b8f90a1b"

// billingFixture is a router with the invoice and operator routes over a
// migrated database, a billing service on a fixed clock and a log buffer.
type billingFixture struct {
	t       *testing.T
	db      *gorm.DB
	e       *echo.Echo
	svc     *billing.Service
	box     *secrets.Box
	logs    *lockedBuffer
	now     time.Time
	portal  *portal.Portal
	lineIDs []uint64
}

// lockedBuffer is a log sink safe for concurrent handlers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newBillingFixture builds the fixture with operator API key apiKey (empty
// disables the API) and one portal with two lines created at billingStart.
func newBillingFixture(t *testing.T, db *gorm.DB, apiKey string) *billingFixture {
	t.Helper()
	f := &billingFixture{t: t, db: db, logs: &lockedBuffer{}, now: billingStart}
	box, err := secrets.New([]byte("billing-test-secret-key-of-32-bytes!!"))
	if err != nil {
		t.Fatal(err)
	}
	f.box = box
	log := slog.New(slog.NewTextHandler(io.MultiWriter(f.logs, testLogWriter{t}), nil))

	f.svc, err = billing.New(db, nil, nil, static.MustCatalog(), billing.Options{
		Enabled: true, TrialDays: 7, GraceDays: 3, RemindDays: 5, PricePerMonth: 150000, Currency: "RUB",
		SellerDetails: "OOO Example\nINN 7700000000\nBank: Example Bank",
		Now:           func() time.Time { return f.now },
	})
	if err != nil {
		t.Fatal(err)
	}
	auth := portal.NewAuthenticator(portal.NewStore(db, box), nil, box, portal.AuthOptions{Now: func() time.Time { return f.now }})
	pages := NewPages()
	f.e = echo.New()
	f.e.HTTPErrorHandler = errorHandler(log, pages)
	RegisterInvoices(f.e, InvoiceDeps{Log: log, Billing: f.svc, Frames: auth, Pages: pages})
	RegisterOperator(f.e, OperatorDeps{Log: log, Billing: f.svc, APIKey: apiKey})

	f.portal = f.addPortal("ru")
	f.lineIDs = []uint64{f.addLine(f.portal, "Sales", "79123456789"), f.addLine(f.portal, "Support", "")}
	return f
}

// testLogWriter copies log lines into the test log when -v is set.
type testLogWriter struct{ t *testing.T }

func (w testLogWriter) Write(p []byte) (int, error) {
	if testing.Verbose() {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

var billingPortalSeq atomic.Int64

func (f *billingFixture) addPortal(lang string) *portal.Portal {
	f.t.Helper()
	n := billingPortalSeq.Add(1)
	p := &portal.Portal{MemberID: fmt.Sprintf("bm%d", n), Domain: fmt.Sprintf("shop-%d.bitrix24.ru", n),
		Lang: lang, Name: "Shop LLC", State: portal.StateActive, InstallerUserID: 1}
	if err := f.db.Create(p).Error; err != nil {
		f.t.Fatal(err)
	}
	return p
}

func (f *billingFixture) addLine(p *portal.Portal, name, phone string) uint64 {
	f.t.Helper()
	var count int64
	f.db.Model(&connector.Line{}).Where("portal_id = ?", p.ID).Count(&count)
	l := &connector.Line{PortalID: p.ID, LineID: fmt.Sprint(count + 1), ConnectorID: "b24wa_whatsapp", Name: name,
		Phone: phone, State: connector.StateConnected, StateSince: billingStart, CreatedAt: billingStart}
	if err := f.db.Create(l).Error; err != nil {
		f.t.Fatal(err)
	}
	return l.ID
}

// token issues a frame token for a user of p.
func (f *billingFixture) token(p *portal.Portal, admin bool, lang string) string {
	f.t.Helper()
	user := portal.FrameUser{PortalID: p.ID, MemberID: p.MemberID, UserID: 7, Admin: admin, Lang: lang,
		Origin: "https://" + p.Domain}
	tok, err := f.box.IssueToken(portal.FrameTokenPurpose, user, f.now.Add(time.Hour))
	if err != nil {
		f.t.Fatal(err)
	}
	return tok
}

// do sends a request through the router and returns the recorder.
func (f *billingFixture) do(method, target, body string, header http.Header) *httptest.ResponseRecorder {
	f.t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	f.e.ServeHTTP(rec, req)
	return rec
}

// operator sends an operator API request with the given Authorization.
func (f *billingFixture) operator(method, target, body, authorization string) *httptest.ResponseRecorder {
	f.t.Helper()
	h := http.Header{}
	if authorization != "" {
		h.Set(echo.HeaderAuthorization, authorization)
	}
	if body != "" {
		h.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	}
	return f.do(method, target, body, h)
}

// decode reads a JSON response into dst.
func decode(t *testing.T, rec *httptest.ResponseRecorder, dst any) {
	t.Helper()
	if err := json.Unmarshal(rec.Body.Bytes(), dst); err != nil {
		t.Fatalf("response %d is not JSON: %v\n%s", rec.Code, err, rec.Body.String())
	}
}

// wantStatus fails unless the response has the given status.
func wantStatus(t *testing.T, rec *httptest.ResponseRecorder, status int) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status = %d, want %d; body: %s", rec.Code, status, rec.Body.String())
	}
}

// eachBilling runs fn on both dialects with a fresh fixture.
func eachBilling(t *testing.T, apiKey string, fn func(t *testing.T, f *billingFixture)) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) { fn(t, newBillingFixture(t, db, apiKey)) })
}
