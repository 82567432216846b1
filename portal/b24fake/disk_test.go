package b24fake_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/wabridge/b24wa/portal/b24fake"
)

// noRedirects is a client that returns redirects instead of following them.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func pngOf(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	img.Set(0, 0, color.RGBA{R: 255, A: 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func get(t *testing.T, client *http.Client, link string) (*http.Response, []byte) {
	t.Helper()
	res, err := client.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}

func TestUploadFileImageLink(t *testing.T) {
	p, _ := newPortal(t, b24fake.Options{})
	body := pngOf(t, 40, 30)
	f := p.UploadFile(b24fake.DiskFile{Name: "Photo.png", Body: body})

	if f.Type != "image" {
		t.Errorf("type %q, want image", f.Type)
	}
	if f.Size != len(body) {
		t.Errorf("size %d, want %d", f.Size, len(body))
	}
	if f.Width != 40 || f.Height != 30 {
		t.Errorf("dimensions %dx%d, want 40x30", f.Width, f.Height)
	}
	if f.Name != "Photo.png" {
		t.Errorf("name %q, want Photo.png", f.Name)
	}
	shape := regexp.MustCompile(`^` + regexp.QuoteMeta(p.URL()) + `/~[A-Za-z0-9]{5}#img\.png$`)
	if !shape.MatchString(f.Link) {
		t.Fatalf("link %q, want <portal>/~<5 letters>#img.png", f.Link)
	}

	res, _ := get(t, noRedirects, f.Link)
	if res.StatusCode != http.StatusMovedPermanently {
		t.Fatalf("short link returned %d, want 301", res.StatusCode)
	}
	target, err := url.Parse(res.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	q := target.Query()
	if target.Path != "/pub/im.file.php" || q.Get("img") != "y" || !strings.HasPrefix(q.Get("SIGN"), q.Get("FILE_ID")+".") {
		t.Errorf("redirect to %s, want /pub/im.file.php with FILE_ID, SIGN <id>.<hmac> and img=y", target)
	}

	res, got := get(t, http.DefaultClient, f.Link)
	if res.StatusCode != 200 || !bytes.Equal(got, body) {
		t.Fatalf("download: %d, %d bytes, want 200 and the uploaded %d bytes", res.StatusCode, len(got), len(body))
	}
	if ct := res.Header.Get("Content-Type"); ct != "image/png" {
		t.Errorf("Content-Type %q, want image/png", ct)
	}
	if cd := res.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "inline") {
		t.Errorf("Content-Disposition %q, want inline for an image", cd)
	}
}

func TestUploadFileDocument(t *testing.T) {
	p, _ := newPortal(t, b24fake.Options{})
	body := []byte("%PDF-1.4\n%%EOF\n")
	f := p.UploadFile(b24fake.DiskFile{Name: "Счёт 12.pdf", Body: body})
	if f.Type != "file" {
		t.Errorf("type %q, want file", f.Type)
	}
	if f.Width != 0 || f.Height != 0 {
		t.Errorf("dimensions %dx%d, want none for a document", f.Width, f.Height)
	}
	if strings.Contains(f.Link, "#") {
		t.Errorf("link %q has a fragment, want one only for images", f.Link)
	}
	res, got := get(t, http.DefaultClient, f.Link)
	if res.StatusCode != 200 || !bytes.Equal(got, body) {
		t.Fatalf("download: %d %q", res.StatusCode, got)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/pdf" {
		t.Errorf("Content-Type %q, want application/pdf", ct)
	}
	if cd := res.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") || !strings.Contains(cd, "filename*=utf-8''") {
		t.Errorf("Content-Disposition %q, want an attachment with the encoded name", cd)
	}

	audio := p.UploadFile(b24fake.DiskFile{Name: "voice.ogg", ContentType: "audio/ogg", Body: []byte("OggS")})
	if audio.Type != "audio" {
		t.Errorf("voice.ogg typed %q, want audio", audio.Type)
	}
}

func TestUploadFileRejectsWrongLinks(t *testing.T) {
	p, _ := newPortal(t, b24fake.Options{})
	f := p.UploadFile(b24fake.DiskFile{Name: "a.txt", Body: []byte("text")})
	second := p.UploadFile(b24fake.DiskFile{Name: "b.txt", Body: []byte("other")})
	q := fileQuery(t, f.Link)
	secondID := fileQuery(t, second.Link).Get("FILE_ID")

	forged := url.Values{"FILE_ID": {q.Get("FILE_ID")}, "SIGN": {q.Get("FILE_ID") + ".00"}}
	other := url.Values{"FILE_ID": {secondID}, "SIGN": {q.Get("SIGN")}}
	for name, link := range map[string]string{
		"forged signature":          p.URL() + "/pub/im.file.php?" + forged.Encode(),
		"signature of another file": p.URL() + "/pub/im.file.php?" + other.Encode(),
		"unknown short link":        p.URL() + "/~zzzzz",
	} {
		if res, _ := get(t, http.DefaultClient, link); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", name, res.StatusCode)
		}
	}
	downloads := p.FileDownloads()
	if len(downloads) != 5 {
		t.Fatalf("%d downloads recorded, want 5: %+v", len(downloads), downloads)
	}
	for _, d := range downloads[:2] {
		if d.Status != 301 || d.FileID == 0 {
			t.Errorf("short link request recorded as %+v, want the 301 of a known file", d)
		}
	}
	for _, d := range downloads[2:] {
		if d.Status != 404 || d.FileID != 0 {
			t.Errorf("rejected request recorded as %+v", d)
		}
	}
}

// fileQuery returns the query of the im.file.php address a short link
// redirects to.
func fileQuery(t *testing.T, link string) url.Values {
	t.Helper()
	res, _ := get(t, noRedirects, link)
	target, err := url.Parse(res.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return target.Query()
}

func TestOperatorSendsAttachments(t *testing.T) {
	p, token := newPortal(t, b24fake.Options{})
	activate(t, p, token, "acme_wa", 1)
	got := make(chan url.Values, 1)
	handler := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		got <- r.PostForm
	}))
	defer handler.Close()
	bind := map[string]any{"event": "OnImConnectorMessageAdd", "handler": handler.URL + "/events"}
	if status, out := call(t, p, token, "event.bind", bind); status != 200 {
		t.Fatalf("bind: %d %v", status, out)
	}

	img := pngOf(t, 8, 6)
	sent, err := p.OperatorSends(context.Background(), b24fake.OperatorMessage{Line: 1, ChatID: "wa:155500",
		Attachments: []b24fake.DiskFile{{Name: "a.png", Body: img}, {Name: "b.pdf", Body: []byte("%PDF-1.4")}}})
	if err != nil {
		t.Fatal(err)
	}
	form := <-got
	if len(sent.Files) != 2 {
		t.Fatalf("sent %d files, want 2", len(sent.Files))
	}
	want := map[string]string{
		"data[MESSAGES][0][message][text]":             "[b]Anna Admin:[/b]",
		"data[MESSAGES][0][message][files][0][name]":   "a.png",
		"data[MESSAGES][0][message][files][0][type]":   "image",
		"data[MESSAGES][0][message][files][0][link]":   sent.Files[0].Link,
		"data[MESSAGES][0][message][files][0][size]":   strconv.Itoa(len(img)),
		"data[MESSAGES][0][message][files][0][width]":  "8",
		"data[MESSAGES][0][message][files][0][height]": "6",
		"data[MESSAGES][0][message][files][1][name]":   "b.pdf",
		"data[MESSAGES][0][message][files][1][type]":   "file",
		"data[MESSAGES][0][message][files][1][link]":   sent.Files[1].Link,
		"data[MESSAGES][0][message][files][1][size]":   "8",
	}
	for k, v := range want {
		if form.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, form.Get(k), v)
		}
	}
	if form.Has("data[MESSAGES][0][message][files][1][width]") {
		t.Error("a document carries width, want it only for images")
	}
}
