package bridge_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/connector"
	"github.com/wabridge/b24wa/connector/bridge"
	"github.com/wabridge/b24wa/connector/wa/simulator"
	"github.com/wabridge/b24wa/portal/b24fake"
)

func jpegFile(t *testing.T, name string, w, h int) b24fake.DiskFile {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		img.Set(x, x%h, color.RGBA{R: uint8(x), G: 90, B: 200, A: 255})
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	return b24fake.DiskFile{Name: name, Body: buf.Bytes()}
}

func pdfFile(name string, size int) b24fake.DiskFile {
	body := []byte("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n")
	body = append(body, bytes.Repeat([]byte("%"), max(0, size-len(body)-6))...)
	return b24fake.DiskFile{Name: name, Body: append(body, "\n%%EOF"...)}
}

// oggOpusFile is an Ogg stream whose first page holds an OpusHead packet,
// which is what a voice note needs. The page CRC is left zero because
// nothing on the way decodes the audio.
func oggOpusFile(name string) b24fake.DiskFile {
	head := []byte("OpusHead")
	head = append(head, 1, 1)                             // version, mono
	head = binary.LittleEndian.AppendUint16(head, 312)    // pre-skip
	head = binary.LittleEndian.AppendUint32(head, 48000)  // input sample rate
	head = append(head, 0, 0, 0)                          // output gain, mapping family
	page := []byte("OggS\x00\x02")                        // version, beginning of stream
	page = append(page, make([]byte, 8)...)               // granule position
	page = binary.LittleEndian.AppendUint32(page, 0x5eed) // stream serial number
	page = binary.LittleEndian.AppendUint32(page, 0)      // page sequence number
	page = append(page, 0, 0, 0, 0, 1, byte(len(head)))   // CRC, one segment of len(head)
	page = append(page, head...)
	page = append(page, bytes.Repeat([]byte{0x55}, 3000)...) // filler in place of the audio pages
	return b24fake.DiskFile{Name: name, ContentType: "audio/ogg", Body: page}
}

// mp3File is an ID3v2 header followed by MPEG-1 Layer III frame headers.
func mp3File(name string) b24fake.DiskFile {
	body := []byte("ID3\x03\x00\x00\x00\x00\x00\x00")
	for range 20 {
		body = append(body, 0xff, 0xfb, 0x90, 0x64)
		body = append(body, make([]byte, 413)...)
	}
	return b24fake.DiskFile{Name: name, ContentType: "audio/mpeg", Body: body}
}

func (e *env) operatorAttaches(t *testing.T, text string, files []b24fake.OutboundFile, uploads ...b24fake.DiskFile) *b24fake.SentMessage {
	t.Helper()
	sent, err := e.fake.OperatorSends(context.Background(), b24fake.OperatorMessage{
		Line: 1, ChatID: "wa:" + customer, Text: text, Files: files, Attachments: uploads,
	})
	if err != nil {
		t.Fatalf("operator sends: %v", err)
	}
	return sent
}

// confirmedIDs waits for the delivery confirmation of an operator message
// and returns its message.id, which must be sent as a JSON array.
func (e *env) confirmedIDs(t *testing.T, imMessageID int) []string {
	t.Helper()
	var ids []string
	eventually(t, "delivery confirmed", func() bool {
		for _, st := range e.fake.DeliveryStatuses() {
			if st.IMMessageID == imMessageID {
				ids = st.ExternalIDs
				return true
			}
		}
		return false
	})
	for _, c := range e.fake.CallsTo("imconnector.send.status.delivery") {
		msgs, _ := c.Params["MESSAGES"].([]any)
		if len(msgs) != 1 {
			t.Fatalf("confirmation carries %d elements, want 1", len(msgs))
		}
		element, _ := msgs[0].(map[string]any)
		im, _ := element["im"].(map[string]any)
		if fmt.Sprint(im["message_id"]) != strconv.Itoa(imMessageID) {
			continue
		}
		message, _ := element["message"].(map[string]any)
		if _, isArray := message["id"].([]any); !isArray {
			t.Errorf("message.id sent as %T, want a JSON array", message["id"])
		}
	}
	return ids
}

// sentSince returns the WhatsApp messages sent after the first n.
func (e *env) sentSince(t *testing.T, n int) []simulator.OutboundMessage {
	t.Helper()
	return e.outbound(t)[n:]
}

func messageIDs(msgs []simulator.OutboundMessage) []string {
	ids := make([]string, 0, len(msgs))
	for _, m := range msgs {
		ids = append(ids, m.ID)
	}
	return ids
}

// checkMedia checks one attachment as the customer's phone received it,
// bytes included.
func (e *env) checkMedia(t *testing.T, got simulator.OutboundMessage, file b24fake.DiskFile, kind, mimeType, name string) {
	t.Helper()
	if got.Kind != kind || got.Media == nil {
		t.Fatalf("%s arrived as %s (media %v), want %s", file.Name, got.Kind, got.Media, kind)
	}
	if got.To != customer {
		t.Errorf("%s sent to %s, want %s", file.Name, got.To, customer)
	}
	if got.Media.MIME != mimeType {
		t.Errorf("%s has MIME type %q, want %q", file.Name, got.Media.MIME, mimeType)
	}
	if got.Media.Name != name {
		t.Errorf("%s has file name %q, want %q", file.Name, got.Media.Name, name)
	}
	if got.Media.Size != uint64(len(file.Body)) {
		t.Errorf("%s has size %d, want %d", file.Name, got.Media.Size, len(file.Body))
	}
	data, ok := e.sim.MediaData(got.Media.DirectPath)
	if !ok || !bytes.Equal(data, file.Body) {
		t.Errorf("%s: WhatsApp media server holds %d bytes (found %v), want the %d uploaded bytes", file.Name, len(data), ok, len(file.Body))
	}
}

// checkFetched checks that the bridge downloaded a file through its short
// link and the im.file.php address it redirects to.
func (e *env) checkFetched(t *testing.T, link string) {
	t.Helper()
	code := strings.TrimPrefix(strings.SplitN(link, "#", 2)[0], e.fake.URL())
	fileID := 0
	served := false
	for _, d := range e.fake.FileDownloads() {
		if d.Path == code && d.Status == http.StatusMovedPermanently {
			fileID = d.FileID
		}
		if fileID != 0 && d.FileID == fileID && strings.HasPrefix(d.Path, "/pub/im.file.php?") && d.Status == http.StatusOK {
			served = true
		}
	}
	if fileID == 0 {
		t.Errorf("%s: short link not followed, downloads %+v", link, e.fake.FileDownloads())
	}
	if !served {
		t.Errorf("%s: im.file.php did not serve the file, downloads %+v", link, e.fake.FileDownloads())
	}
}

func TestOperatorFilesReachWhatsApp(t *testing.T) {
	cases := []struct {
		file b24fake.DiskFile
		kind string
		mime string
		name string // file name WhatsApp shows, for documents only
	}{
		{jpegFile(t, "photo.jpg", 64, 48), "image", "image/jpeg", ""},
		{pdfFile("Invoice 42.pdf", 5000), "document", "application/pdf", "Invoice 42.pdf"},
		{oggOpusFile("voice.ogg"), "voice", "audio/ogg; codecs=opus", ""},
		{mp3File("song.mp3"), "audio", "audio/mpeg", ""},
	}
	each(t, func(t *testing.T, db *gorm.DB) {
		e := newEnv(t, db, envOptions{})
		withCustomer(t, e)
		for _, tc := range cases {
			before := len(e.outbound(t))
			sent := e.operatorAttaches(t, "", nil, tc.file)
			ids := e.confirmedIDs(t, sent.IMMessageID)
			got := e.sentSince(t, before)

			var media []simulator.OutboundMessage
			for _, m := range got {
				if m.Media != nil {
					media = append(media, m)
					continue
				}
				// The signature of a message without text goes out as text.
				if m.Kind != "text" || !strings.Contains(m.Text, "Anna Admin") {
					t.Errorf("%s: extra message %s %q, want only the operator signature besides the file", tc.file.Name, m.Kind, m.Text)
				}
			}
			if len(media) != 1 {
				t.Fatalf("%s: %d attachments sent, want 1", tc.file.Name, len(media))
			}
			e.checkMedia(t, media[0], tc.file, tc.kind, tc.mime, tc.name)
			if !slices.Equal(ids, messageIDs(got)) {
				t.Errorf("%s: confirmed ids %v, want every WhatsApp message of it %v", tc.file.Name, ids, messageIDs(got))
			}
			e.checkFetched(t, sent.Files[0].Link)
		}
		if notes := e.fake.DialogMessages(); len(notes) != 0 {
			t.Errorf("operator notes %+v, want none", notes)
		}
	})
}

func TestOperatorTextAndFilesInOrder(t *testing.T) {
	each(t, func(t *testing.T, db *gorm.DB) {
		e := newEnv(t, db, envOptions{})
		withCustomer(t, e)
		photo, invoice := jpegFile(t, "shelf.jpeg", 32, 32), pdfFile("offer.pdf", 2000)
		sent := e.operatorAttaches(t, "Here is the [b]offer[/b]", nil, photo, invoice)
		ids := e.confirmedIDs(t, sent.IMMessageID)

		got := e.sentSince(t, 0)
		if len(got) != 3 {
			t.Fatalf("WhatsApp got %d messages, want text, image and document", len(got))
		}
		if got[0].Kind != "text" || !strings.Contains(got[0].Text, "Here is the *offer*") {
			t.Errorf("first message %s %q, want the converted text", got[0].Kind, got[0].Text)
		}
		e.checkMedia(t, got[1], photo, "image", "image/jpeg", "")
		e.checkMedia(t, got[2], invoice, "document", "application/pdf", "offer.pdf")
		if !slices.Equal(ids, messageIDs(got)) {
			t.Errorf("confirmed ids %v, want %v in send order", ids, messageIDs(got))
		}
	})
}

// waitDone waits until every operator message is settled as done.
func (e *env) waitDone(t *testing.T) {
	t.Helper()
	eventually(t, "operator messages done", func() bool {
		ds := e.deliveries(t, "out")
		for _, d := range ds {
			if d.State != connector.DeliveryDone {
				return false
			}
		}
		return len(ds) > 0
	})
}

func TestOperatorFileRejectedWithNote(t *testing.T) {
	const limit = 16 << 10
	var otherHits atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		otherHits.Add(1)
		_, _ = w.Write([]byte("%PDF-1.4 from elsewhere"))
	}))
	defer other.Close()

	cases := []struct {
		name  string
		lang  string
		text  string // operator text sent with the file; "" sends the signature only
		file  func(e *env) (b24fake.OutboundFile, []b24fake.DiskFile)
		check func(t *testing.T, e *env, file b24fake.OutboundFile)
	}{
		{"declared size over the limit", "en", "", func(e *env) (b24fake.OutboundFile, []b24fake.DiskFile) {
			return b24fake.OutboundFile{Name: "big.pdf"}, []b24fake.DiskFile{pdfFile("big.pdf", limit+4096)}
		}, func(t *testing.T, e *env, file b24fake.OutboundFile) {
			if d := e.fake.FileDownloads(); len(d) != 0 {
				t.Errorf("file downloaded %+v, want it rejected by its declared size", d)
			}
		}},
		{"body over the limit", "ru", "See the scan", func(e *env) (b24fake.OutboundFile, []b24fake.DiskFile) {
			f := e.fake.UploadFile(pdfFile("scan.pdf", limit+4096))
			f.Size = 1000 // understated, so only the download finds the real size
			return f, nil
		}, func(t *testing.T, e *env, file b24fake.OutboundFile) {
			e.checkFetched(t, file.Link)
		}},
		{"link on another host", "ru", "", func(e *env) (b24fake.OutboundFile, []b24fake.DiskFile) {
			return b24fake.OutboundFile{Name: "elsewhere.pdf", Type: "file", Link: other.URL + "/~abcde", Size: 23}, nil
		}, func(t *testing.T, e *env, file b24fake.OutboundFile) {
			if n := otherHits.Load(); n != 0 {
				t.Errorf("the other host got %d requests, want none", n)
			}
		}},
		{"expired link", "en", "See the old file", func(e *env) (b24fake.OutboundFile, []b24fake.DiskFile) {
			return b24fake.OutboundFile{Name: "old.pdf", Type: "file", Link: e.fake.URL() + "/~zzzzz", Size: 23}, nil
		}, func(t *testing.T, e *env, file b24fake.OutboundFile) {
			d := e.fake.FileDownloads()
			if len(d) != 1 || d[0].Status != http.StatusNotFound {
				t.Errorf("downloads %+v, want one 404 of the short link", d)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			each(t, func(t *testing.T, db *gorm.DB) {
				e := newEnv(t, db, envOptions{tune: func(o *bridge.Options) { o.MaxOutboundFile = limit }})
				e.setLang(t, tc.lang)
				withCustomer(t, e)
				file, uploads := tc.file(e)
				var files []b24fake.OutboundFile
				if len(uploads) == 0 {
					files = []b24fake.OutboundFile{file}
				}
				sent := e.operatorAttaches(t, tc.text, files, uploads...)

				e.noteIn(t, sent.IMChatID, tc.lang, "bridge.note.file_failed", file.Name)
				e.waitDone(t)
				got := e.sentSince(t, 0)
				if tc.text == "" {
					if len(got) != 0 {
						t.Errorf("WhatsApp got %+v, want nothing for a message whose only file was rejected", got)
					}
					if n := len(e.fake.DeliveryStatuses()); n != 0 {
						t.Errorf("%d delivery confirmations, want none when nothing was sent", n)
					}
				} else {
					if len(got) != 1 || got[0].Kind != "text" || !strings.Contains(got[0].Text, tc.text) {
						t.Fatalf("WhatsApp got %+v, want only the text", got)
					}
					if ids := e.confirmedIDs(t, sent.IMMessageID); !slices.Equal(ids, []string{got[0].ID}) {
						t.Errorf("confirmed ids %v, want only the text %s", ids, got[0].ID)
					}
				}
				tc.check(t, e, file)
			})
		})
	}
}

func TestSignatureSentWithFirstGoodFile(t *testing.T) {
	each(t, func(t *testing.T, db *gorm.DB) {
		e := newEnv(t, db, envOptions{tune: func(o *bridge.Options) { o.MaxOutboundFile = 16 << 10 }})
		withCustomer(t, e)
		photo := jpegFile(t, "ok.jpg", 16, 16)
		sent := e.operatorAttaches(t, "", nil, pdfFile("huge.pdf", 40<<10), photo)

		ids := e.confirmedIDs(t, sent.IMMessageID)
		got := e.sentSince(t, 0)
		if len(got) != 2 {
			t.Fatalf("WhatsApp got %d messages, want the signature and the photo", len(got))
		}
		if got[0].Kind != "text" || got[0].Text != "*Anna Admin:*" {
			t.Errorf("first message %s %q, want the operator signature", got[0].Kind, got[0].Text)
		}
		e.checkMedia(t, got[1], photo, "image", "image/jpeg", "")
		if !slices.Equal(ids, messageIDs(got)) {
			t.Errorf("confirmed ids %v, want %v", ids, messageIDs(got))
		}
		e.noteIn(t, sent.IMChatID, "en", "bridge.note.file_failed", "huge.pdf")
	})
}
