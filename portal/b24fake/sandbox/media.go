package sandbox

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"mime"
	"net/http"
	"strconv"
	"time"
)

// shownImageTypes are the content types the page shows inline; other files
// the portal fetched are offered as downloads.
var shownImageTypes = map[string]bool{
	"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true,
}

// linkedNumber returns the business number customers write to: the first
// number with a linked device.
func (s *Sandbox) linkedNumber(ctx context.Context) (string, error) {
	st, err := s.app.state(ctx)
	if err != nil {
		return "", err
	}
	if len(st.LinkedNumbers) == 0 {
		return "", conflict("no WhatsApp number is linked; scan the QR code with the phone first")
	}
	return st.LinkedNumbers[0], nil
}

// customerImage serves a picture a customer sent, for the customer's chat.
func (s *Sandbox) customerImage(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	data, ok := s.world.images[r.PathValue("id")]
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	serveFile(w, "image/png", "", data)
}

// portalFile serves a file the portal downloaded from the app, so the page
// shows what Bitrix24 would store.
func (s *Sandbox) portalFile(w http.ResponseWriter, r *http.Request) {
	i, err1 := strconv.Atoi(r.PathValue("message"))
	k, err2 := strconv.Atoi(r.PathValue("file"))
	received := s.portal.ReceivedMessages()
	if err1 != nil || err2 != nil || i < 0 || i >= len(received) || k < 0 || k >= len(received[i].Files) {
		http.NotFound(w, r)
		return
	}
	f := received[i].Files[k]
	serveFile(w, f.ContentType, f.Name, f.Body)
}

// serveFile writes data inline when it is a picture the page shows, else as
// an attachment, so no downloaded file runs as a page on this origin.
func serveFile(w http.ResponseWriter, contentType, name string, data []byte) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, max-age=3600")
	if shownImageTypes[contentType] {
		h.Set("Content-Type", contentType)
	} else {
		h.Set("Content-Type", "application/octet-stream")
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	}
	_, _ = w.Write(data)
}

// samplePicture draws a 160×120 PNG landscape whose sky colour follows the
// time, so two pictures sent in a row differ.
func samplePicture(now time.Time) []byte {
	const width, height = 160, 120
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	hue := uint8(now.UnixMilli() / 40 % 256)
	sky := color.RGBA{R: 90 + hue/4, G: 150, B: 220 - hue/4, A: 255}
	sun := color.RGBA{R: 255, G: 206, B: 84, A: 255}
	hill := color.RGBA{R: 46, G: 139, B: 87, A: 255}
	for y := range height {
		for x := range width {
			c := sky
			dx, dy := x-120, y-32
			switch {
			case dx*dx+dy*dy < 18*18:
				c = sun
			case y > 70+abs(x-60)/3:
				c = hill
			}
			img.SetRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
