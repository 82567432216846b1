package bridge

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.mau.fi/whatsmeow"
	"gorm.io/gorm"

	"github.com/wabridge/b24wa/internal/dbtest"
	"github.com/wabridge/b24wa/portal"
)

func TestDownloadPortalFile(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte("elsewhere"))
		}))
		defer other.Close()
		jpeg := append([]byte{0xff, 0xd8, 0xff}, bytes.Repeat([]byte{1}, 100)...)
		mux := http.NewServeMux()
		mux.HandleFunc("/~img", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/pub/im.file.php?FILE_ID=1", http.StatusFound)
		})
		mux.HandleFunc("/pub/im.file.php", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "image/jpeg")
			_, _ = w.Write(jpeg)
		})
		mux.HandleFunc("/~away", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, other.URL+"/f", http.StatusFound) })
		mux.HandleFunc("/~big", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(bytes.Repeat([]byte{2}, 2000)) })
		mux.HandleFunc("/~gone", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
		mux.HandleFunc("/~broken", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) })
		srv := httptest.NewServer(mux)
		defer srv.Close()

		now := time.Now().UTC()
		p := portal.Portal{MemberID: "m1", Domain: "127.0.0.1", ClientEndpoint: srv.URL + "/rest/", State: portal.StateActive,
			Lang: "en", CreatedAt: now, UpdatedAt: now}
		if err := db.Create(&p).Error; err != nil {
			t.Fatal(err)
		}
		b := New(Options{DB: db, MaxOutboundFile: 1000, AllowInsecureHTTP: true, Log: dbtest.Logger(t)})

		data, ct, err := b.downloadPortalFile(context.Background(), p.ID, srv.URL+"/~img#img.jpg")
		if err != nil || !bytes.Equal(data, jpeg) || ct != "image/jpeg" {
			t.Errorf("download = %d bytes, %q, %v; want the image through the redirect", len(data), ct, err)
		}
		cases := []struct {
			name      string
			link      string
			want      error
			permanent bool
		}{
			{"other origin", other.URL + "/f", ErrFileOrigin, true},
			{"redirect away", srv.URL + "/~away", ErrFileOrigin, true},
			{"too large", srv.URL + "/~big", ErrFileTooLarge, true},
			{"not found", srv.URL + "/~gone", nil, true},
			{"server error", srv.URL + "/~broken", nil, false},
		}
		for _, tc := range cases {
			_, _, err := b.downloadPortalFile(context.Background(), p.ID, tc.link)
			if err == nil {
				t.Errorf("%s: download succeeded, want an error", tc.name)
				continue
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("%s: error %v, want %v", tc.name, err, tc.want)
			}
			if isFileProblem(err) != tc.permanent {
				t.Errorf("%s: isFileProblem = %v, want %v (error %v)", tc.name, !tc.permanent, tc.permanent, err)
			}
		}
	})
}

func TestWhatsAppKindByMIME(t *testing.T) {
	opus := append([]byte("OggS\x00\x02"), []byte("....OpusHead")...)
	cases := []struct {
		mime string
		data []byte
		want string
		kind whatsmeow.MediaType
	}{
		{"image/jpeg", nil, "image", whatsmeow.MediaImage},
		{"image/png", nil, "image", whatsmeow.MediaImage},
		{"image/webp", nil, "image", whatsmeow.MediaImage},
		{"image/gif", nil, "document", whatsmeow.MediaDocument},
		{"video/mp4", nil, "video", whatsmeow.MediaVideo},
		{"audio/ogg", opus, "voice", whatsmeow.MediaAudio},
		{"audio/ogg", []byte("OggS vorbis"), "document", whatsmeow.MediaDocument},
		{"audio/mpeg", nil, "audio", whatsmeow.MediaAudio},
		{"audio/wav", nil, "document", whatsmeow.MediaDocument},
		{"application/zip", nil, "document", whatsmeow.MediaDocument},
	}
	for _, tc := range cases {
		got, kind := whatsAppKind(tc.mime, tc.data)
		if got != tc.want || kind != tc.kind {
			t.Errorf("whatsAppKind(%s) = %s/%s, want %s/%s", tc.mime, got, kind, tc.want, tc.kind)
		}
	}
}

func TestCleanName(t *testing.T) {
	cases := []struct{ push, phone, first, last string }{
		{"Maria Lopez", "+1", "Maria", "Lopez"},
		{"🌸 Анна-Мария O'Neil 2024 🌸", "", "Анна-Мария", "O'Neil"},
		{"12345 🎉", "+79110000000", "+79110000000", ""},
		{"", "", "", ""},
		{"Averyveryverylongfirstnamethatgoeson Smith", "", "Averyveryverylongfirstnam", "Smith"},
	}
	for _, tc := range cases {
		first, last := splitName(tc.push, tc.phone)
		if first != tc.first || last != tc.last {
			t.Errorf("splitName(%q) = %q %q, want %q %q", tc.push, first, last, tc.first, tc.last)
		}
	}
}
