package sandbox

import (
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"sort"

	"github.com/wabridge/b24wa/portal/b24fake"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

func parsePages() (*template.Template, error) {
	t, err := template.ParseFS(templateFiles, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("parse sandbox templates: %w", err)
	}
	return t, nil
}

// assetServer serves the page's script and style sheet.
func assetServer() http.Handler {
	sub, _ := fs.Sub(staticFiles, "static")
	return http.FileServerFS(sub)
}

// indexPage is the view model of index.html.
type indexPage struct {
	AppURL      string
	Domain      string
	ConnectorID string
	LineName    string
}

func (s *Sandbox) index(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; "+
		"script-src 'self'; connect-src 'self'; frame-src 'self' "+originOf(s.app.base)+"; form-action 'self' "+
		originOf(s.app.base)+"; base-uri 'none'; frame-ancestors 'none'")
	s.render(w, "index.html", indexPage{AppURL: s.app.base, Domain: s.portal.Domain(),
		ConnectorID: s.opts.ConnectorID, LineName: lineName})
}

// openView is the view model of open.html: the page the portal loads in its
// iframe, which posts Fields to Action, or shows Notice when the app's page
// cannot be opened yet.
type openView struct {
	Title  string
	Action string
	Fields []formField
	Notice string
}

type formField struct{ Name, Value string }

// openPage serves GET /sandbox/open/{install,settings,app}?lang=en: a form
// that posts itself into the iframe as Bitrix24 opens an app's page, with
// the query (DOMAIN, PROTOCOL, LANG, APP_SID) and the body (AUTH_ID,
// REFRESH_ID, member_id, PLACEMENT, PLACEMENT_OPTIONS...) of the real POST,
// for the administrator, user 1.
func (s *Sandbox) openPage(w http.ResponseWriter, r *http.Request) {
	form := b24fake.PlacementForm{Lang: pageLang(r.URL.Query().Get("lang"))}
	view, target := s.openTarget(r.PathValue("page"), &form)
	if view.Title == "" {
		http.NotFound(w, r)
		return
	}
	if view.Notice == "" {
		query, body := s.portal.PlacementValues(form)
		view.Action = target + "?" + query.Encode()
		view.Fields = formFields(body)
	}
	w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; "+
		"form-action "+originOf(target)+"; base-uri 'none'; frame-ancestors 'self'")
	s.render(w, "open.html", view)
}

// openTarget returns the title and address of an app page and completes
// form for it. A page that Bitrix24 would not offer yet gets a Notice.
func (s *Sandbox) openTarget(page string, form *b24fake.PlacementForm) (openView, string) {
	s.mu.Lock()
	installed := s.world.installFinished
	s.mu.Unlock()
	switch page {
	case "install":
		return openView{Title: "the app's installer"}, s.app.base + "/install"
	case "app":
		if !installed {
			return openView{Title: "the app", Notice: "Install the app first."}, ""
		}
		return openView{Title: "the app"}, s.app.base + "/app"
	case "settings":
		view := openView{Title: "the connector settings"}
		c, ok := s.portal.Connectors()[s.opts.ConnectorID]
		if !installed || !ok {
			view.Notice = "The WhatsApp tile appears in Contact Center once the app is installed."
			return view, ""
		}
		handler, err := loopbackURL(c.PlacementHandler)
		if err != nil {
			view.Notice = fmt.Sprintf("The connector's PLACEMENT_HANDLER %s is not a loopback address, so the sandbox does not open it.", c.PlacementHandler)
			return view, ""
		}
		form.Placement = "SETTING_CONNECTOR"
		form.Options = s.portal.SettingConnectorOptions(s.opts.ConnectorID, Line)
		return view, handler
	}
	return openView{}, ""
}

func formFields(body url.Values) []formField {
	names := make([]string, 0, len(body))
	for name := range body {
		names = append(names, name)
	}
	sort.Strings(names)
	fields := make([]formField, 0, len(names))
	for _, name := range names {
		for _, v := range body[name] {
			fields = append(fields, formField{Name: name, Value: v})
		}
	}
	return fields
}

func (s *Sandbox) render(w http.ResponseWriter, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if err := s.pages.ExecuteTemplate(w, name, data); err != nil {
		s.log.Error("Rendering a sandbox page failed", "template", name, "error", err)
	}
}

// pageLang returns the portal language of an opened page: ru or en.
func pageLang(raw string) string {
	if raw == "ru" {
		return "ru"
	}
	return "en"
}

// originOf returns the scheme and host of an absolute URL.
func originOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "'none'"
	}
	return u.Scheme + "://" + u.Host
}
