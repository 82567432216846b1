package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wabridge/b24wa/connector"
	"github.com/wabridge/b24wa/connector/mail"
	"github.com/wabridge/b24wa/portal"
)

// Errors of sending a scan link by e-mail.
var (
	// errMailDisabled means SMTP is not configured.
	errMailDisabled = errors.New("e-mail sending is not configured")
	// errMailRateLimited means the line sent too many links by e-mail lately.
	errMailRateLimited = errors.New("too many e-mails for this line")
)

// mailLimit bounds the scan link e-mails of one line: 5 at once, then one
// every 3 minutes, so a page cannot be used to send bulk mail.
var mailLimit = RateLimit{PerSecond: 1.0 / 180, Burst: 5}

// scanLinkJSON is a newly created link. The token is in URL and is never
// shown again.
type scanLinkJSON struct {
	URL       string `json:"url"`
	Token     string `json:"token"`
	ExpiresIn int    `json:"expires_in"`
	ExpiresAt string `json:"expires_at"`
}

// createScanLink makes a new link for the line, revokes the previous one and
// stops the pairing attempt a previous link started or joined.
func (h *settings) createScanLink(c echo.Context) error {
	ctx := c.Request().Context()
	line, user := currentLine(c), frameUser(c)
	if lineLinked(line) {
		return errLineAlreadyLinked
	}
	token, link, err := h.deps.Links.Create(ctx, line.ID, user.UserID, userLang(c))
	if err != nil {
		return err
	}
	if err := h.cancelLinkPairing(ctx, line); err != nil {
		return err
	}
	h.deps.Log.InfoContext(ctx, "Scan link created", "portal_id", line.PortalID, "line_id", line.ID,
		"user_id", user.UserID, "scan_link_id", link.ID)
	return c.JSON(http.StatusCreated, scanLinkJSON{
		URL:       h.linkURL(token),
		Token:     token,
		ExpiresIn: secondsUntil(link.ExpiresAt, h.deps.now()),
		ExpiresAt: link.ExpiresAt.UTC().Format(time.RFC3339),
	})
}

func (h *settings) linkURL(token string) string { return h.deps.PublicURL + "/link/" + token }

// revokeScanLink ends the line's open link and stops the pairing attempt it
// started or joined. Revoking when none is open is not an error.
func (h *settings) revokeScanLink(c echo.Context) error {
	ctx := c.Request().Context()
	line := currentLine(c)
	n, err := h.deps.Links.Revoke(ctx, line.ID)
	if err != nil {
		return err
	}
	if err := h.cancelLinkPairing(ctx, line); err != nil {
		return err
	}
	if n > 0 {
		h.deps.Log.InfoContext(ctx, "Scan link revoked", "portal_id", line.PortalID, "line_id", line.ID,
			"user_id", frameUser(c).UserID)
	}
	return c.JSON(http.StatusOK, map[string]int64{"revoked": n})
}

// cancelLinkPairing stops the line's running pairing attempt when a scan
// link started or joined it, because the holder of a revoked link could
// still scan the code on their screen. Call it after the links are revoked,
// so a revoked link cannot start a new attempt meanwhile.
// NOTE: an attempt that ends and is replaced between the status read and
// the cancel is cancelled too; only an administrator's action races here.
func (h *settings) cancelLinkPairing(ctx context.Context, line *connector.Line) error {
	st, err := h.deps.Sessions.PairingStatus(ctx, line.ID)
	if errors.Is(err, connector.ErrPairingNotRunning) || errors.Is(err, connector.ErrNotOwner) {
		return nil
	}
	if err != nil {
		return err
	}
	if st.ScanLinkID == 0 || pairingEnded(st.Step) {
		return nil
	}
	err = h.deps.Sessions.CancelPairing(ctx, line.ID)
	if err != nil && !errors.Is(err, connector.ErrPairingNotRunning) {
		return err
	}
	h.deps.Log.InfoContext(ctx, "Pairing through a revoked scan link cancelled", "portal_id", line.PortalID,
		"line_id", line.ID, "scan_link_id", st.ScanLinkID)
	return nil
}

// pairingEnded reports whether step is an outcome rather than a running
// attempt.
func pairingEnded(step string) bool {
	return step == connector.PairingSuccess || step == connector.PairingExpired || step == connector.PairingFailed
}

// emailScanLink sends the link the page just created to the address typed
// by the owner. The page sends the token back, because only its hash is
// stored; the token must belong to an open link of this line.
func (h *settings) emailScanLink(c echo.Context) error {
	ctx := c.Request().Context()
	line := currentLine(c)
	if h.deps.Mailer == nil {
		return errMailDisabled
	}
	to, err := mail.ParseAddress(c.FormValue("email"))
	if err != nil {
		return err
	}
	link, err := h.deps.Links.Resolve(ctx, c.FormValue("token"))
	if err != nil {
		return err
	}
	if link.LineID != line.ID {
		return fmt.Errorf("%w: the link is of another line", connector.ErrScanLinkNotFound)
	}
	if ok, _ := h.mails.allow(strconv.FormatUint(line.ID, 10)); !ok {
		return errMailRateLimited
	}

	msg, err := h.scanLinkMail(ctx, userLang(c), line, link, c.FormValue("token"), to)
	if err != nil {
		return err
	}
	if err := h.deps.Mailer.Send(ctx, msg); err != nil {
		h.deps.Log.WarnContext(ctx, "Sending a scan link by e-mail failed", "portal_id", line.PortalID,
			"line_id", line.ID, "error", err)
		return err
	}
	h.deps.Log.InfoContext(ctx, "Scan link sent by e-mail", "portal_id", line.PortalID, "line_id", line.ID,
		"user_id", frameUser(c).UserID, "scan_link_id", link.ID)
	return c.JSON(http.StatusOK, map[string]string{"status": "sent", "to": to})
}

// mailPage is the view model of mail_scanlink.html.
type mailPage struct {
	Lang        string
	Subject     string
	PortalLabel string
	LineName    string
	URL         string
	ExpiresAt   string
}

// scanLinkMail renders the e-mail in the owner's language: which portal and
// line the link connects, the link and when it expires.
func (h *settings) scanLinkMail(ctx context.Context, lang string, line *connector.Line, link *connector.ScanLink, token, to string) (mail.Message, error) {
	p, err := h.deps.Portals.ByID(ctx, line.PortalID)
	if err != nil {
		return mail.Message{}, err
	}
	page := mailPage{
		Lang:        lang,
		PortalLabel: portalLabel(p),
		LineName:    lineName(h.pages, lang, line),
		URL:         h.linkURL(token),
		ExpiresAt:   link.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC"),
	}
	page.Subject = h.pages.T(lang, "pages.mail.subject", page.PortalLabel)
	html, err := h.pages.Fragment("mail_scanlink.html", page)
	if err != nil {
		return mail.Message{}, err
	}
	text := h.pages.T(lang, "pages.mail.text", page.PortalLabel, page.LineName, page.URL, page.ExpiresAt)
	return mail.Message{To: to, Subject: page.Subject, Text: text, HTML: html}, nil
}

// portalLabel names a portal by its name and domain, or its domain alone.
func portalLabel(p *portal.Portal) string {
	if p.Name != "" && p.Name != p.Domain {
		return p.Name + " (" + p.Domain + ")"
	}
	return p.Domain
}
