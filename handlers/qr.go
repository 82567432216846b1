package handlers

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/wabridge/b24wa/connector"
)

// qrImageSize is the side of the QR PNG in pixels. WhatsApp's codes are
// about 240 characters, version 10 to 12 at medium error correction, so 320
// px gives every module at least 4 device pixels on a 2x screen.
const qrImageSize = 320

// renderQR draws content as a PNG. The code is rendered on this server so
// that it never reaches a third-party service.
func renderQR(content string) ([]byte, error) {
	q, err := qrcode.New(content, qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("encode QR code: %w", err)
	}
	return q.PNG(qrImageSize)
}

// qrVersion identifies a QR code without revealing it, so the page can tell
// that the code changed and fetch the new image.
func qrVersion(content string) string {
	if content == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(content))
	return hex.EncodeToString(sum[:8])
}

// serveQR writes the current QR code of a pairing attempt as a PNG, or 404
// when the attempt shows no QR code right now.
func serveQR(c echo.Context, st *connector.PairingStatus) error {
	noStore(c)
	if st == nil || st.Step != connector.PairingQR || st.QR == "" {
		return echo.NewHTTPError(http.StatusNotFound, "pages.pairing.no_qr")
	}
	png, err := renderQR(st.QR)
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "image/png", png)
}

// pairingJSON is the pairing status as the page scripts read it. Times are
// seconds from now, because the browser's clock may be wrong.
type pairingJSON struct {
	Step        string `json:"step"`
	QRVersion   string `json:"qr,omitempty"`
	QRExpiresIn int    `json:"qr_expires_in,omitempty"`
	PairCode    string `json:"code,omitempty"`
	Phone       string `json:"phone,omitempty"`
	PushName    string `json:"push_name,omitempty"`
	Message     string `json:"message,omitempty"`
	Restarts    int    `json:"restarts"`
}

// newPairingJSON converts a status; t translates its error key.
func newPairingJSON(st *connector.PairingStatus, now time.Time, t func(key string) string) pairingJSON {
	out := pairingJSON{
		Step:      st.Step,
		PairCode:  formatPairCode(st.PairCode),
		Phone:     FormatPhone(st.Phone),
		PushName:  st.PushName,
		Restarts:  st.Restarts,
		QRVersion: qrVersion(st.QR),
	}
	if st.Step == connector.PairingQR && !st.QRExpiresAt.IsZero() {
		out.QRExpiresIn = max(0, int(st.QRExpiresAt.Sub(now).Round(time.Second)/time.Second))
	}
	if st.Step == connector.PairingFailed {
		out.Message = t(st.ErrorKey)
	}
	return out
}

// formatPairCode shows an 8-character pairing code as XXXX-XXXX, the way
// WhatsApp shows the input boxes on the phone.
func formatPairCode(code string) string {
	if len(code) == 8 {
		return code[:4] + "-" + code[4:]
	}
	return code
}
