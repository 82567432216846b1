package e2e

import (
	"testing"

	"github.com/wabridge/b24wa/internal/qrtest"
)

// decodeQR reads the QR code of a PNG the app served.
func decodeQR(t *testing.T, data []byte) string {
	t.Helper()
	return qrtest.DecodePNG(t, data)
}
