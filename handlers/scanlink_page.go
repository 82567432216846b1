package handlers

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wabridge/b24wa/connector"
)

// scanLinkPage is the view model of scanlink.html.
type scanLinkPage struct {
	Lang         string
	Title        string
	NoIndex      bool
	OtherLang    string
	PortalDomain string
	PortalName   string
	LineName     string
	BaseURL      string // /link/<token>, the base of the page's own requests
	ExpiresAt    time.Time
	ExpiresIn    int
	Pairing      pairingView
}

// page shows which portal and line the link connects and starts pairing.
func (h *scanLinks) page(c echo.Context) error {
	ctx := c.Request().Context()
	link, err := h.resolve(c)
	if err != nil {
		return err
	}
	lang := h.lang(c, link)
	line, err := h.unlinkedLine(c, link)
	if err != nil {
		return err
	}
	p, err := h.deps.Portals.ByID(ctx, line.PortalID)
	if err != nil {
		return err
	}

	st, err := h.start(c, link)
	if err != nil {
		return err
	}

	now := h.deps.now()
	page := scanLinkPage{
		Lang:         lang,
		Title:        h.pages.T(lang, "pages.scanlink.title"),
		NoIndex:      true,
		OtherLang:    otherLang(lang),
		PortalDomain: p.Domain,
		PortalName:   p.Name,
		LineName:     lineName(h.pages, lang, line),
		BaseURL:      "/link/" + c.Param("token"),
		ExpiresAt:    link.ExpiresAt,
		ExpiresIn:    secondsUntil(link.ExpiresAt, now),
		Pairing:      newPairingView(lang, true, st, now, h.pages),
	}
	return h.pages.Render(c, http.StatusOK, "scanlink.html", page)
}

// start starts pairing for the link's line, or joins the attempt already
// running. Restarts are allowed until the link expires. A line linked
// meanwhile is never re-paired: the link ends and errLineAlreadyLinked is
// returned.
func (h *scanLinks) start(c echo.Context, link *connector.ScanLink) (*connector.PairingStatus, error) {
	st, err := h.deps.Sessions.StartPairing(c.Request().Context(), link.LineID, connector.PairingOptions{
		Via:             scanLinkVia,
		Until:           link.ExpiresAt,
		ScanLinkID:      link.ID,
		RequireUnlinked: true,
	})
	if errors.Is(err, connector.ErrLineLinked) {
		return nil, h.endLinkOfLinkedLine(c, link)
	}
	return st, err
}

// unlinkedLine returns the link's line, or errLineAlreadyLinked after ending
// the link when the line already has a device, linked through any route.
func (h *scanLinks) unlinkedLine(c echo.Context, link *connector.ScanLink) (*connector.Line, error) {
	line, err := h.deps.Lines.Get(c.Request().Context(), link.LineID)
	if err != nil {
		return nil, err
	}
	if lineLinked(line) {
		return nil, h.endLinkOfLinkedLine(c, link)
	}
	return line, nil
}

// endLinkOfLinkedLine revokes the open links of a line that got linked
// without them, so they stay dead, and returns errLineAlreadyLinked.
func (h *scanLinks) endLinkOfLinkedLine(c echo.Context, link *connector.ScanLink) error {
	ctx := c.Request().Context()
	if _, err := h.deps.Links.Revoke(ctx, link.LineID); err != nil {
		return err
	}
	h.deps.Log.InfoContext(ctx, "Scan link ended because its line is already linked",
		"line_id", link.LineID, "scan_link_id", link.ID)
	return errLineAlreadyLinked
}

// status returns the pairing status. Polling it keeps the attempt alive.
// When no attempt runs (it ended, or the server restarted), a new one
// starts, because someone is evidently looking at the page.
func (h *scanLinks) status(c echo.Context) error {
	ctx := c.Request().Context()
	link, err := h.resolve(c)
	if errors.Is(err, connector.ErrScanLinkUsed) && h.deps.now().Before(link.ExpiresAt) {
		return h.linkedThroughLink(c, link)
	}
	if err != nil {
		return err
	}
	if _, err := h.unlinkedLine(c, link); err != nil {
		return err
	}
	st, err := h.deps.Sessions.PairingStatus(ctx, link.LineID)
	if errors.Is(err, connector.ErrPairingNotRunning) {
		st, err = h.start(c, link)
	}
	if err != nil {
		return err
	}
	return h.writeStatus(c, link, st)
}

// linkedThroughLink returns success to the polls of the page that paired.
// The link is used up, so the outcome comes from the line itself until the
// link would have expired.
func (h *scanLinks) linkedThroughLink(c echo.Context, link *connector.ScanLink) error {
	line, err := h.deps.Lines.Get(c.Request().Context(), link.LineID)
	if err != nil {
		return err
	}
	st := &connector.PairingStatus{LineID: line.ID, Step: connector.PairingSuccess, Phone: line.Phone, PushName: line.PushName}
	return h.writeStatus(c, link, st)
}

func (h *scanLinks) writeStatus(c echo.Context, link *connector.ScanLink, st *connector.PairingStatus) error {
	lang := h.lang(c, link)
	now := h.deps.now()
	out := struct {
		pairingJSON
		LinkExpiresIn int `json:"link_expires_in"`
	}{newPairingJSON(st, now, pairingMessage(h.pages, lang)), secondsUntil(link.ExpiresAt, now)}
	return c.JSON(http.StatusOK, out)
}

// qr serves the current QR code of the link's line.
func (h *scanLinks) qr(c echo.Context) error {
	link, err := h.resolve(c)
	if err != nil {
		return err
	}
	if _, err := h.unlinkedLine(c, link); err != nil {
		return err
	}
	st, err := h.deps.Sessions.PairingStatus(c.Request().Context(), link.LineID)
	if err != nil {
		return err
	}
	return serveQR(c, st)
}

// restart starts a new attempt after the previous one expired or failed.
func (h *scanLinks) restart(c echo.Context) error {
	link, err := h.resolve(c)
	if err != nil {
		return err
	}
	if _, err := h.unlinkedLine(c, link); err != nil {
		return err
	}
	st, err := h.start(c, link)
	if err != nil {
		return err
	}
	return h.writeStatus(c, link, st)
}

// phone switches the attempt to a code typed on the phone.
func (h *scanLinks) phone(c echo.Context) error {
	link, err := h.resolve(c)
	if err != nil {
		return err
	}
	if _, err := h.unlinkedLine(c, link); err != nil {
		return err
	}
	st, err := pairPhone(c, h.deps.Sessions, link.LineID, func() error {
		_, err := h.start(c, link)
		return err
	})
	if err != nil {
		return err
	}
	return h.writeStatus(c, link, st)
}

func secondsUntil(t, now time.Time) int {
	return max(0, int(t.Sub(now).Round(time.Second)/time.Second))
}

func otherLang(lang string) string {
	if lang == "ru" {
		return "en"
	}
	return "ru"
}
