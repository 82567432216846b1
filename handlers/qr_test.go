package handlers

import (
	"image"
	"strings"
	"testing"

	"github.com/wabridge/b24wa/internal/qrtest"
)

// decodeQR reads the QR code in a PNG image.
func decodeQR(t *testing.T, data []byte) string {
	t.Helper()
	return qrtest.DecodePNG(t, data)
}

func decodeQRImage(t *testing.T, img image.Image) string {
	t.Helper()
	return qrtest.Decode(t, img)
}

func TestRenderQRRoundTrip(t *testing.T) {
	// The shape of a WhatsApp pairing code: ref, public keys and ADV secret,
	// about 240 characters.
	content := "2@" + strings.Repeat("AbCdEfGh", 12) + "," + strings.Repeat("k", 44) + "," +
		strings.Repeat("p", 44) + "," + strings.Repeat("s", 44)
	data, err := renderQR(content)
	if err != nil {
		t.Fatal(err)
	}
	if got := decodeQR(t, data); got != content {
		t.Errorf("decoded %q, want %q", got, content)
	}
}

func TestQRVersion(t *testing.T) {
	a, b := qrVersion("code-a"), qrVersion("code-b")
	if a == b {
		t.Error("different codes have the same version")
	}
	if a != qrVersion("code-a") {
		t.Error("the version of a code is not stable")
	}
	if strings.Contains(a, "code") || len(a) != 16 {
		t.Errorf("version %q should be 16 hex digits that do not reveal the code", a)
	}
	if qrVersion("") != "" {
		t.Error("no code should have no version")
	}
}

func TestFormatPairCode(t *testing.T) {
	cases := map[string]string{"ABCD1234": "ABCD-1234", "": "", "ABC": "ABC"}
	for in, want := range cases {
		if got := formatPairCode(in); got != want {
			t.Errorf("formatPairCode(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFormatPhone(t *testing.T) {
	cases := map[string]string{
		"79123456789":  "+7 912 345-67-89",
		"442079460958": "+44 20 7946 0958",
		"14155552671":  "+1 415-555-2671",
		"999":          "+999",
		"":             "",
	}
	for in, want := range cases {
		if got := FormatPhone(in); got != want {
			t.Errorf("FormatPhone(%q) = %q, want %q", in, got, want)
		}
	}
}
