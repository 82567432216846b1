package bridge_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/connector/bridge"
	"github.com/wabridge/b24wa/connector/wa/simulator"
)

func get(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

func TestMediaURLExpiryAndUnknownToken(t *testing.T) {
	each(t, func(t *testing.T, db *gorm.DB) {
		var offset atomic.Int64
		e := newEnv(t, db, envOptions{tune: func(o *bridge.Options) {
			o.MediaTTL = time.Hour
			o.Now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
		}})
		e.start(t)
		data := append([]byte{0xff, 0xd8, 0xff}, bytes.Repeat([]byte{7}, 500)...)
		e.inbound(t, simulator.InboundMessage{From: customer, Media: &simulator.InboundMedia{Kind: "image", MIME: "image/jpeg", Data: data}})
		url := e.received(t, 1)[0].Files[0].URL

		resp, body := get(t, url)
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
			t.Fatalf("GET media = %d with %d bytes, want 200 with the image", resp.StatusCode, len(body))
		}
		if ct := resp.Header.Get("Content-Type"); ct != "image/jpeg" {
			t.Errorf("Content-Type = %q, want image/jpeg", ct)
		}
		if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "inline") || !strings.Contains(cd, ".jpg") {
			t.Errorf("Content-Disposition = %q, want inline with a .jpg name", cd)
		}

		token := strings.Split(strings.TrimPrefix(url, e.public.URL+"/media/"), "/")[0]
		forged := e.public.URL + "/media/" + strings.Repeat("A", len(token)) + "/x.jpg"
		resp, body = get(t, forged)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("unknown token answered %d, want 404", resp.StatusCode)
		}
		if bytes.Contains(body, data[:3]) || strings.Contains(string(body), "media/") {
			t.Errorf("404 body %q leaks file data or paths", body)
		}
		if resp, _ := get(t, e.public.URL+"/media/short"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("malformed token answered %d, want 404", resp.StatusCode)
		}

		offset.Store(int64(2 * time.Hour))
		resp, body = get(t, url)
		if resp.StatusCode != http.StatusGone {
			t.Errorf("expired link answered %d, want 410", resp.StatusCode)
		}
		if bytes.Contains(body, data[:3]) {
			t.Error("410 body contains file data")
		}
	})
}
