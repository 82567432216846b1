package handlers

import (
	"bytes"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/nyaruka/phonenumbers"

	"github.com/wabridge/b24wa/static"
)

// langKey is the echo.Context key under which a handler records the language
// of its page, so that errorHandler responds in the same language.
const langKey = "page_lang"

// Pages renders the server-side HTML templates of static/ in the user's
// language. Templates are parsed once, by NewPages.
type Pages struct {
	tpl     *template.Template
	catalog *static.Catalog
}

// NewPages parses every template and loads the translations. It panics on a
// broken template or catalog, so the first test that builds the router fails.
func NewPages() *Pages {
	p := &Pages{catalog: static.MustCatalog()}
	p.tpl = static.Templates(template.FuncMap{"t": p.catalog.T})
	return p
}

// T translates key into lang.
func (p *Pages) T(lang, key string, args ...any) string { return p.catalog.T(lang, key, args...) }

// Render executes the template name into a buffer first, so a failing
// template produces a clean 500 instead of half a page.
func (p *Pages) Render(c echo.Context, status int, name string, data any) error {
	var buf bytes.Buffer
	if err := p.tpl.ExecuteTemplate(&buf, name, data); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// Fragment renders a template into a string, for HTML that the page
// scripts put in place without a reload.
func (p *Pages) Fragment(name string, data any) (string, error) {
	var buf bytes.Buffer
	if err := p.tpl.ExecuteTemplate(&buf, name, data); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// errorPage is the view model of error.html.
type errorPage struct {
	Lang    string
	Title   string
	NoIndex bool
	Status  int
	Heading string
	Message string
}

// RenderError renders the error page with a translated message.
func (p *Pages) RenderError(c echo.Context, status int, lang, messageKey string) error {
	page := errorPage{
		Lang:    lang,
		NoIndex: true,
		Status:  status,
		Heading: p.T(lang, statusHeadingKey(status)),
		Message: p.T(lang, messageKey),
	}
	page.Title = page.Heading
	noStore(c)
	return p.Render(c, status, "error.html", page)
}

// statusHeadingKey returns the translation key of the error page's heading.
func statusHeadingKey(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "pages.error.heading.bad_request"
	case http.StatusUnauthorized:
		return "pages.error.heading.unauthorized"
	case http.StatusForbidden:
		return "pages.error.heading.forbidden"
	case http.StatusNotFound:
		return "pages.error.heading.not_found"
	case http.StatusMethodNotAllowed:
		return "pages.error.heading.method"
	case http.StatusGone:
		return "pages.error.heading.gone"
	case http.StatusTooManyRequests:
		return "pages.error.heading.rate_limited"
	}
	if status >= 500 {
		return "pages.error.heading.internal"
	}
	return "pages.error.heading.bad_request"
}

// setPageLang records the language of the current response for errorHandler.
func setPageLang(c echo.Context, lang string) { c.Set(langKey, lang) }

// requestLang is the language of an error response: the one a handler
// recorded, else the LANG or lang query value, else Accept-Language.
func requestLang(c echo.Context) string {
	if lang, ok := c.Get(langKey).(string); ok && lang != "" {
		return lang
	}
	for _, name := range []string{"LANG", "lang"} {
		if v := c.QueryParam(name); v != "" {
			return static.Lang(v)
		}
	}
	accept := strings.ToLower(c.Request().Header.Get("Accept-Language"))
	for _, prefix := range []string{"ru", "uk", "be", "kk"} {
		if strings.HasPrefix(accept, prefix) {
			return "ru"
		}
	}
	return "en"
}

// wantsHTML reports whether the client is a browser navigating to a page
// rather than a script asking for JSON or an image.
func wantsHTML(c echo.Context) bool {
	return strings.Contains(c.Request().Header.Get(echo.HeaderAccept), echo.MIMETextHTML)
}

// noStore forbids every cache from keeping the response, because pages and
// statuses carry per-user state and short-lived tokens.
func noStore(c echo.Context) {
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
}

// FormatPhone renders a digits-only international number (79123456789) in
// the international format of its country ("+7 912 345-67-89"). A number
// the phone number library does not recognise is shown as "+" and its digits.
func FormatPhone(digits string) string {
	if digits == "" {
		return ""
	}
	num, err := phonenumbers.Parse("+"+digits, "")
	if err != nil || !phonenumbers.IsPossibleNumber(num) {
		return "+" + digits
	}
	return phonenumbers.Format(num, phonenumbers.INTERNATIONAL)
}

// timeView is a point in time on a page: ISO is the <time datetime> value
// that the page script shows in the browser's time zone, Text the UTC
// fallback shown without script.
type timeView struct {
	ISO  string
	Text string
}

// newTimeView returns nil for a zero time, so templates can test it.
func newTimeView(t time.Time) *timeView {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &timeView{ISO: t.Format(time.RFC3339), Text: t.Format("2006-01-02 15:04 UTC")}
}

func newTimeViewPtr(t *time.Time) *timeView {
	if t == nil {
		return nil
	}
	return newTimeView(*t)
}
