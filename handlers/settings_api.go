package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/wabridge/b24wa/connector"
)

// logoutReasonOwner is the logout reason of the settings page's button.
const logoutReasonOwner = "owner"

// settingsVia is PairingOptions.Via for pairing on the settings page.
const settingsVia = "qr"

// panel renders the line's panel again, for the page script to put in
// place after pairing succeeded or the device was logged out.
func (h *settings) panel(c echo.Context) error {
	user := frameUser(c)
	panel, err := h.buildPanel(c.Request().Context(), userLang(c), user.Admin, currentLine(c))
	if err != nil {
		return err
	}
	html, err := h.pages.Fragment("settings_panel", panel)
	if err != nil {
		return err
	}
	return c.HTML(http.StatusOK, html)
}

// pairingStatus returns the line's pairing attempt, with step "" when none
// runs, and "linked" once the line has a device, so the page knows to show
// the device state.
func (h *settings) pairingStatus(c echo.Context) error {
	line := currentLine(c)
	st, err := h.deps.Sessions.PairingStatus(c.Request().Context(), line.ID)
	if isNoPairing(err) {
		st, err = h.idleStatus(c, line)
	}
	if err != nil {
		return err
	}
	return h.writeStatus(c, st)
}

// idleStatus is the status of a line without a running attempt: success
// when a device got linked meanwhile (for example through a scan link),
// else no step.
func (h *settings) idleStatus(c echo.Context, line *connector.Line) (*connector.PairingStatus, error) {
	fresh, err := h.deps.Lines.Get(c.Request().Context(), line.ID)
	if err != nil {
		return nil, err
	}
	if lineLinked(fresh) {
		return &connector.PairingStatus{LineID: line.ID, Step: connector.PairingSuccess, Phone: fresh.Phone, PushName: fresh.PushName}, nil
	}
	return &connector.PairingStatus{LineID: line.ID}, nil
}

func (h *settings) writeStatus(c echo.Context, st *connector.PairingStatus) error {
	lang := userLang(c)
	return c.JSON(http.StatusOK, newPairingJSON(st, h.deps.now(), pairingMessage(h.pages, lang)))
}

// qr serves the current QR code; the page passes the frame token as "t"
// because an <img> cannot send headers.
func (h *settings) qr(c echo.Context) error {
	st, err := h.deps.Sessions.PairingStatus(c.Request().Context(), currentLine(c).ID)
	if isNoPairing(err) {
		st, err = nil, nil
	}
	if err != nil {
		return err
	}
	return serveQR(c, st)
}

// startPairing starts pairing, or returns the attempt already running.
func (h *settings) startPairing(c echo.Context) error {
	line := currentLine(c)
	if lineLinked(line) {
		return errLineAlreadyLinked
	}
	st, err := h.deps.Sessions.StartPairing(c.Request().Context(), line.ID, connector.PairingOptions{Via: settingsVia})
	if err != nil {
		return err
	}
	h.deps.Log.InfoContext(c.Request().Context(), "Pairing started from the settings page",
		"portal_id", line.PortalID, "line_id", line.ID, "user_id", frameUser(c).UserID)
	return h.writeStatus(c, st)
}

func (h *settings) cancelPairing(c echo.Context) error {
	err := h.deps.Sessions.CancelPairing(c.Request().Context(), currentLine(c).ID)
	if err != nil && !isNoPairing(err) {
		return err
	}
	return h.writeStatus(c, &connector.PairingStatus{LineID: currentLine(c).ID})
}

func (h *settings) pairPhone(c echo.Context) error {
	line := currentLine(c)
	st, err := pairPhone(c, h.deps.Sessions, line.ID, func() error {
		_, err := h.deps.Sessions.StartPairing(c.Request().Context(), line.ID, connector.PairingOptions{Via: settingsVia})
		return err
	})
	if err != nil {
		return err
	}
	return h.writeStatus(c, st)
}

// logout unlinks the device. A line that is already unlinked is not an
// error, so a double click or a second tab gets the same result.
func (h *settings) logout(c echo.Context) error {
	ctx := c.Request().Context()
	line := currentLine(c)
	err := h.deps.Sessions.Logout(ctx, line.ID, logoutReasonOwner)
	if err != nil && !errors.Is(err, connector.ErrNotLinked) {
		return err
	}
	h.deps.Log.InfoContext(ctx, "Device logged out from the settings page",
		"portal_id", line.PortalID, "line_id", line.ID, "user_id", frameUser(c).UserID)
	return c.JSON(http.StatusOK, map[string]string{"status": "logged_out"})
}
