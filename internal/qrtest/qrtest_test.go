package qrtest

import (
	"crypto/rand"
	"encoding/base64"
	"testing"

	qrcode "github.com/skip2/go-qrcode"
)

// Every code of the app's shape must decode, including those gozxing's
// detector misses.
func TestDecodeReadsEveryPairingCode(t *testing.T) {
	for i := range 200 {
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			t.Fatal(err)
		}
		k := base64.StdEncoding.EncodeToString(key)
		content := "2@" + k[:32] + "," + k + "," + k + "," + k
		png, err := qrcode.Encode(content, qrcode.Medium, 256)
		if err != nil {
			t.Fatal(err)
		}
		if got := DecodePNG(t, png); got != content {
			t.Fatalf("code %d decoded to %q, want %q", i, got, content)
		}
	}
}
