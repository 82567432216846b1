package handlers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"

	"github.com/labstack/echo/v4"

	"github.com/wabridge/b24wa/connector"
	"github.com/wabridge/b24wa/portal"
	"github.com/wabridge/b24wa/static"
)

// errWrongPlacement is returned for a placement POST that is not the one
// the route serves, or lacks the open line.
var errWrongPlacement = errors.New("wrong placement for this page")

// settings serves the connector settings page in Contact Center, the app's
// main page and the API their scripts call.
type settings struct {
	deps  *PageDeps
	pages *Pages
	mails *keyedLimiter
}

// RegisterSettings adds the pages Bitrix24 opens in its iframe and the API
// their scripts call with the frame token:
//
//	POST /settings                          SETTING_CONNECTOR placement (GET explains)
//	POST /, POST /app                       the app's main page, PLACEMENT=DEFAULT (GET explains)
//	GET  /api/lines/:id/panel               the line's panel as an HTML fragment
//	GET  /api/lines/:id/pairing             pairing status (JSON); polling keeps restarts alive
//	POST /api/lines/:id/pairing             start pairing, or join the running attempt (admin)
//	DELETE /api/lines/:id/pairing           cancel pairing (admin)
//	POST /api/lines/:id/pairing/phone       pair with a code typed on the phone (admin)
//	GET  /api/lines/:id/qr.png              the current QR code
//	POST /api/lines/:id/logout              unlink the device (admin)
//	POST /api/lines/:id/scan-links          create a scan link, revoking the previous one (admin)
//	DELETE /api/lines/:id/scan-links        revoke the open scan link (admin)
//	POST /api/lines/:id/scan-links/email    send the new link by e-mail (admin)
func RegisterSettings(e *echo.Echo, deps *PageDeps) {
	if deps.Log == nil {
		deps.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	h := &settings{deps: deps, pages: deps.pages(), mails: newKeyedLimiter(mailLimit, 10000, deps.now)}
	e.POST("/settings", h.settingsPage)
	e.GET("/settings", h.openFromBitrix)
	e.POST("/", h.appPage)
	e.POST("/app", h.appPage)
	e.GET("/", h.openFromBitrix)
	e.GET("/app", h.openFromBitrix)

	api := e.Group("/api/lines/:id", requireFrame(deps.Auth), h.loadLine)
	api.GET("/panel", h.panel)
	api.GET("/pairing", h.pairingStatus)
	api.GET("/qr.png", h.qr)
	api.POST("/pairing", h.startPairing, requireAdmin)
	api.DELETE("/pairing", h.cancelPairing, requireAdmin)
	api.POST("/pairing/phone", h.pairPhone, requireAdmin)
	api.POST("/logout", h.logout, requireAdmin)
	api.POST("/scan-links", h.createScanLink, requireAdmin)
	api.DELETE("/scan-links", h.revokeScanLink, requireAdmin)
	api.POST("/scan-links/email", h.emailScanLink, requireAdmin)
}

// settingsPage is the view model of settings.html.
type settingsPage struct {
	Lang         string
	Title        string
	NoIndex      bool
	Admin        bool
	Token        string
	APIBase      string
	PortalDomain string
	LineName     string
	BX24Script   string
	Panel        settingsPanel
}

// settingsPage handles the SETTING_CONNECTOR placement POST: it proves the
// user, checks LINE, makes sure the line has a row (administrators only) and
// renders its panel.
func (h *settings) settingsPage(c echo.Context) error {
	ctx := c.Request().Context()
	req, user, err := h.authenticate(c)
	if err != nil {
		return err
	}
	if req.Placement != portal.PlacementSettingConnector || user.Line == "" {
		return fmt.Errorf("%w: PLACEMENT is %q with LINE %q, expected SETTING_CONNECTOR with a line",
			errWrongPlacement, req.Placement, user.Line)
	}
	if !openLineIDPattern.MatchString(user.Line) {
		return echo.NewHTTPError(http.StatusBadRequest, "pages.settings.line_invalid").
			SetInternal(fmt.Errorf("PLACEMENT_OPTIONS LINE %q is not a positive id of at most 10 digits", user.Line))
	}
	line, err := h.placementLine(ctx, req, user)
	if errors.Is(err, connector.ErrLineNotFound) && !user.Admin {
		return h.notSetUp(c, user)
	}
	if err != nil {
		return err
	}
	p, err := h.deps.Portals.ByID(ctx, user.PortalID)
	if err != nil {
		return err
	}
	line = h.reactivate(ctx, user, line)

	lang := static.Lang(user.Lang)
	panel, err := h.buildPanel(ctx, lang, user.Admin, line)
	if err != nil {
		return err
	}
	page := settingsPage{
		Lang:         lang,
		Title:        h.pages.T(lang, "pages.settings.heading"),
		Admin:        user.Admin,
		Token:        user.Token,
		APIBase:      fmt.Sprintf("/api/lines/%d", line.ID),
		PortalDomain: p.Domain,
		LineName:     lineName(h.pages, lang, line),
		BX24Script:   h.deps.bx24Script(),
		Panel:        panel,
	}
	return h.pages.Render(c, http.StatusOK, "settings.html", page)
}

// openLineIDPattern is a Bitrix24 open line id as LINE carries it: a
// positive decimal number of at most 10 digits, without leading zeros.
var openLineIDPattern = regexp.MustCompile(`^[1-9][0-9]{0,9}$`)

// placementLine returns the row of the placement's line. An administrator's
// visit creates it; other users only read an existing row, so they cannot
// add lines by editing LINE.
func (h *settings) placementLine(ctx context.Context, req portal.PlacementRequest, user *portal.FrameUser) (*connector.Line, error) {
	if !user.Admin {
		return h.deps.Lines.ByPortalLine(ctx, user.PortalID, user.Line)
	}
	connectorID := req.Options.Connector
	if connectorID == "" {
		connectorID = h.deps.ConnectorID
	}
	return h.deps.Lines.Ensure(ctx, user.PortalID, user.Line, connectorID, "")
}

// notSetUp is the read-only page of a line no administrator has opened yet.
func (h *settings) notSetUp(c echo.Context, user *portal.FrameUser) error {
	lang := static.Lang(user.Lang)
	page := errorPage{
		Lang:    lang,
		NoIndex: true,
		Status:  http.StatusOK,
		Heading: h.pages.T(lang, "pages.settings.heading"),
		Message: h.pages.T(lang, "pages.pairing.ask_admin"),
	}
	page.Title = page.Heading
	return h.pages.Render(c, http.StatusOK, "error.html", page)
}

// reactivate turns the connector on again in Bitrix24 when an administrator
// opens the settings of a linked line that is not active there, for example
// after it was disconnected in Contact Center. Opening the settings from the
// Connect button is how the owner asks for that. A failure is only logged,
// and the page shows the state as it is.
func (h *settings) reactivate(ctx context.Context, user *portal.FrameUser, line *connector.Line) *connector.Line {
	if h.deps.Activator == nil || !user.Admin || line.B24Active || !lineLinked(line) {
		return line
	}
	if err := h.deps.Activator.ActivateInBitrix(ctx, line.ID); err != nil {
		h.deps.Log.Warn("Re-activating the line in Bitrix24 failed", "portal_id", line.PortalID,
			"line_id", line.ID, "open_line", line.LineID, "error", err)
		return line
	}
	fresh, err := h.deps.Lines.Get(ctx, line.ID)
	if err != nil {
		return line
	}
	return fresh
}

// authenticate reads a placement POST and proves its user with the portal.
// On success the response may be framed by the user's portal and is not
// cached; on failure errorHandler renders the error page in the request's
// language.
func (h *settings) authenticate(c echo.Context) (portal.PlacementRequest, *portal.FrameUser, error) {
	setPageLang(c, static.Lang(c.QueryParam("LANG")))
	noStore(c)
	form, err := readForm(c, DefaultMaxInstallBytes, portal.FormLimits{})
	if err != nil {
		return portal.PlacementRequest{}, nil, err
	}
	req, err := portal.ParsePlacementRequest(c.QueryParams(), form)
	if err != nil {
		return req, nil, err
	}
	setPageLang(c, static.Lang(req.Lang))
	user, err := h.deps.Auth.AuthenticatePlacement(c.Request().Context(), req)
	if err != nil {
		h.deps.Log.WarnContext(c.Request().Context(), "Placement rejected", "domain", req.Domain,
			"member_id", req.MemberID, "placement", req.Placement, "remote_ip", c.RealIP(), "error", err)
		return req, nil, err
	}
	if user.Origin != "" {
		allowFraming(c, user.Origin)
	}
	return req, user, nil
}

// openFromBitrix answers a browser that opens a placement address directly:
// these pages only work when Bitrix24 posts to them.
func (h *settings) openFromBitrix(c echo.Context) error {
	lang := requestLang(c)
	page := errorPage{
		Lang:    lang,
		NoIndex: true,
		Status:  http.StatusOK,
		Heading: h.pages.T(lang, "app.name"),
		Message: h.pages.T(lang, "pages.settings.open_from_bitrix"),
	}
	page.Title = page.Heading
	noStore(c)
	return h.pages.Render(c, http.StatusOK, "error.html", page)
}

// loadLine loads the line named by :id and checks that it belongs to the
// frame user's portal and, for a settings placement token, to its line.
// Another portal's line is reported as not found.
func (h *settings) loadLine(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		user := frameUser(c)
		var id uint64
		if _, err := fmt.Sscan(c.Param("id"), &id); err != nil || id == 0 {
			return fmt.Errorf("%w: id %q", connector.ErrLineNotFound, c.Param("id"))
		}
		line, err := h.deps.Lines.Get(c.Request().Context(), id)
		if err != nil {
			return err
		}
		if line.PortalID != user.PortalID || (user.Line != "" && user.Line != line.LineID) {
			return fmt.Errorf("%w: line %d is not a line of this page", connector.ErrLineNotFound, id)
		}
		c.Set(lineKey, line)
		return next(c)
	}
}

// lineKey is the echo.Context key of the *connector.Line of an API request.
const lineKey = "page_line"

func currentLine(c echo.Context) *connector.Line {
	line, _ := c.Get(lineKey).(*connector.Line)
	return line
}

func userLang(c echo.Context) string { return static.Lang(frameUser(c).Lang) }

func isNoPairing(err error) bool { return errors.Is(err, connector.ErrPairingNotRunning) }
