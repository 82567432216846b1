package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wabridge/b24wa/connector"
	"github.com/wabridge/b24wa/connector/wa"
)

// pairingView is the view model of the pairing block shared by the settings
// page and the scan link page.
type pairingView struct {
	Lang string
	// CanAct shows the buttons: an administrator on the settings page, anyone
	// holding the link on the scan link page.
	CanAct bool
	// Step is the attempt's step, empty when none runs.
	Step     string
	PairCode string
	Phone    string
	// QRVersion and QRExpiresIn are set while a QR code is shown.
	QRVersion   string
	QRExpiresIn int
	Message     string
}

func newPairingView(lang string, canAct bool, st *connector.PairingStatus, now time.Time, pages *Pages) pairingView {
	v := pairingView{Lang: lang, CanAct: canAct}
	if st == nil {
		return v
	}
	j := newPairingJSON(st, now, pairingMessage(pages, lang))
	v.Step, v.PairCode, v.Phone = j.Step, j.PairCode, j.Phone
	v.QRVersion, v.QRExpiresIn, v.Message = j.QRVersion, j.QRExpiresIn, j.Message
	return v
}

// pairingMessage translates the manager's ErrorKey (pairing.error.*), from
// the manager's own translations or from pages.pairing.error.*, with a
// generic text for a key that has neither.
func pairingMessage(pages *Pages, lang string) func(string) string {
	return func(key string) string {
		for _, k := range []string{key, "pages." + key} {
			if key != "" && pages.catalog.Has(k) {
				return pages.T(lang, k)
			}
		}
		return pages.T(lang, "pages.pairing.failed")
	}
}

// pairPhone requests a pairing code for the number in the form value
// "phone". Pairing by code runs on the QR attempt's connection, so when no
// attempt runs, start starts one. The request is repeated once the attempt
// is past "starting", which means its connection is up.
func pairPhone(c echo.Context, sessions connector.Sessions, lineID uint64, start func() error) (*connector.PairingStatus, error) {
	phone := strings.TrimSpace(c.FormValue("phone"))
	if phone == "" {
		return nil, echo.NewHTTPError(http.StatusBadRequest, "pages.pairing.phone_missing")
	}
	ctx := c.Request().Context()
	st, err := sessions.PairPhone(ctx, lineID, phone)
	if !errors.Is(err, connector.ErrPairingNotRunning) && !errors.Is(err, wa.ErrPairingNotRunning) {
		return st, err
	}
	if errors.Is(err, connector.ErrPairingNotRunning) {
		if err := start(); err != nil {
			return nil, err
		}
	}
	if err := waitPairingConnected(ctx, sessions, lineID); err != nil {
		return nil, err
	}
	return sessions.PairPhone(ctx, lineID, phone)
}

// pairingConnectWait bounds how long a code request waits for a starting
// attempt to connect. It is a generous estimate: the connection is usually
// up within a few seconds.
const pairingConnectWait = 15 * time.Second

// waitPairingConnected waits until the line's attempt is past "starting".
func waitPairingConnected(ctx context.Context, sessions connector.Sessions, lineID uint64) error {
	ctx, cancel := context.WithTimeout(ctx, pairingConnectWait)
	defer cancel()
	ticker := time.NewTicker(100 * time.Millisecond)
	defer ticker.Stop()
	for {
		st, err := sessions.PairingStatus(ctx, lineID)
		if err != nil {
			return err
		}
		if st.Step != connector.PairingStarting {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for the pairing connection of line %d: %w", lineID, ctx.Err())
		case <-ticker.C:
		}
	}
}

// lineLinked reports whether a WhatsApp device is linked to the line, so
// the pages offer its state instead of pairing.
func lineLinked(line *connector.Line) bool {
	return line.WaJID != ""
}

// lineName is the line's name in Bitrix24, or "Open line N" when unknown.
func lineName(pages *Pages, lang string, line *connector.Line) string {
	if line.Name != "" {
		return line.Name
	}
	return pages.T(lang, "pages.line.unnamed", line.LineID)
}
