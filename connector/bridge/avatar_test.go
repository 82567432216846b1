package bridge_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/types"
	"gorm.io/gorm"

	"github.com/wabridge/b24wa/connector"
	"github.com/wabridge/b24wa/connector/bridge"
	"github.com/wabridge/b24wa/connector/wa"
	"github.com/wabridge/b24wa/connector/wa/simulator"
	"github.com/wabridge/b24wa/portal/b24fake"
)

// pngAvatar is a 1×1 PNG, enough for the portal to recognise an image.
var pngAvatar = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89")

// pictureSpy is the simulated session with ProfilePicture counted, and
// failing with err or blocking until its context ends when those are set.
type pictureSpy struct {
	wa.Session
	calls atomic.Int32
	err   error
	block bool
}

func (s *pictureSpy) ProfilePicture(ctx context.Context, jid types.JID) (*wa.Picture, error) {
	s.calls.Add(1)
	if s.block {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if s.err != nil {
		return nil, s.err
	}
	return s.Session.ProfilePicture(ctx, jid)
}

// spyPictures puts a pictureSpy between the bridge and the line's session.
func (e *env) spyPictures(spy *pictureSpy) {
	spy.Session = e.sess
	e.sessions.mu.Lock()
	defer e.sessions.mu.Unlock()
	e.sessions.m[e.line.ID] = spy
}

// fetchPicture downloads user.picture.url of a received message, as the
// portal does, and returns the body and its Content-Type.
func fetchPicture(t *testing.T, got b24fake.ReceivedMessage) ([]byte, string) {
	t.Helper()
	picture, ok := got.User["picture"].(map[string]any)
	if !ok {
		t.Fatalf("user.picture is missing: user = %v", got.User)
	}
	url, _ := picture["url"].(string)
	if url == "" {
		t.Fatalf("user.picture.url is empty: %v", picture)
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("fetch picture: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("fetch picture: HTTP %d", resp.StatusCode)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read picture: %v", err)
	}
	return body, resp.Header.Get("Content-Type")
}

func (e *env) chat(t *testing.T) connector.Chat {
	t.Helper()
	var chat connector.Chat
	if err := e.db.Where("person_id = ?", "wa:"+customer).Take(&chat).Error; err != nil {
		t.Fatalf("load chat: %v", err)
	}
	return chat
}

func TestAvatarSentWithFirstMessage(t *testing.T) {
	each(t, func(t *testing.T, db *gorm.DB) {
		e := newEnv(t, db, envOptions{})
		e.start(t)
		e.inbound(t, simulator.InboundMessage{
			From: customer, PushName: "Maria", Text: "Hello",
			Avatar: &simulator.InboundAvatar{Data: pngAvatar, MIME: "image/png"},
		})

		got := e.received(t, 1)[0]
		if !got.Success {
			t.Fatalf("portal rejected the message: %+v", got)
		}
		body, contentType := fetchPicture(t, got)
		if !bytes.Equal(body, pngAvatar) {
			t.Errorf("picture body = %q, want the avatar bytes", body)
		}
		if contentType != "image/png" {
			t.Errorf("picture Content-Type = %q, want image/png", contentType)
		}
		eventually(t, "avatar id stored", func() bool { return e.chat(t).AvatarID != "" })
		if e.chat(t).AvatarCheckedAt == nil {
			t.Error("avatar_checked_at is not set")
		}
	})
}

func TestAvatarAbsentWithoutPicture(t *testing.T) {
	each(t, func(t *testing.T, db *gorm.DB) {
		e := newEnv(t, db, envOptions{})
		spy := &pictureSpy{}
		e.spyPictures(spy)
		e.start(t)
		e.inbound(t, simulator.InboundMessage{From: customer, Text: "Hello"})

		got := e.received(t, 1)[0]
		if _, ok := got.User["picture"]; ok {
			t.Errorf("user.picture = %v, want no picture field", got.User["picture"])
		}
		if n := spy.calls.Load(); n != 1 {
			t.Errorf("ProfilePicture calls = %d, want 1", n)
		}
		chat := e.chat(t)
		if chat.AvatarCheckedAt == nil {
			t.Error("avatar_checked_at is not set")
		}
		if chat.AvatarID != "" {
			t.Errorf("avatar_id = %q, want empty", chat.AvatarID)
		}
	})
}

func TestAvatarCheckedOncePerInterval(t *testing.T) {
	each(t, func(t *testing.T, db *gorm.DB) {
		var offset atomic.Int64
		e := newEnv(t, db, envOptions{tune: func(o *bridge.Options) {
			o.Now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
		}})
		spy := &pictureSpy{}
		e.spyPictures(spy)
		if err := e.sim.SetAvatar(customer, pngAvatar, "image/png"); err != nil {
			t.Fatal(err)
		}
		e.start(t)

		e.inbound(t, simulator.InboundMessage{From: customer, Text: "first"})
		fetchPicture(t, e.received(t, 1)[0])
		eventually(t, "avatar id stored", func() bool { return e.chat(t).AvatarID != "" })
		firstID := e.chat(t).AvatarID

		e.inbound(t, simulator.InboundMessage{From: customer, Text: "same day"})
		second := e.received(t, 2)[1]
		if _, ok := second.User["picture"]; ok {
			t.Errorf("second message user.picture = %v, want none", second.User["picture"])
		}
		if n := spy.calls.Load(); n != 1 {
			t.Errorf("ProfilePicture calls after two messages = %d, want 1", n)
		}

		offset.Store(int64(25 * time.Hour))
		e.inbound(t, simulator.InboundMessage{From: customer, Text: "next day, same picture"})
		third := e.received(t, 3)[2]
		if _, ok := third.User["picture"]; ok {
			t.Errorf("unchanged picture sent again: %v", third.User["picture"])
		}
		if n := spy.calls.Load(); n != 2 {
			t.Errorf("ProfilePicture calls after a day = %d, want 2", n)
		}

		changed := append(bytes.Clone(pngAvatar), 0)
		if err := e.sim.SetAvatar(customer, changed, "image/png"); err != nil {
			t.Fatal(err)
		}
		offset.Store(int64(50 * time.Hour))
		e.inbound(t, simulator.InboundMessage{From: customer, Text: "new picture"})
		body, _ := fetchPicture(t, e.received(t, 4)[3])
		if !bytes.Equal(body, changed) {
			t.Errorf("changed picture body = %q, want the new bytes", body)
		}
		eventually(t, "new avatar id stored", func() bool { return e.chat(t).AvatarID != firstID })
	})
}

func TestAvatarFetchFailureDoesNotHoldMessage(t *testing.T) {
	tests := []struct {
		name  string
		err   error
		block bool
	}{
		{"error", errors.New("profile picture lookup failed"), false},
		{"timeout", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			each(t, func(t *testing.T, db *gorm.DB) {
				e := newEnv(t, db, envOptions{tune: func(o *bridge.Options) { o.AvatarTimeout = 50 * time.Millisecond }})
				spy := &pictureSpy{err: tt.err, block: tt.block}
				e.spyPictures(spy)
				if err := e.sim.SetAvatar(customer, pngAvatar, "image/png"); err != nil {
					t.Fatal(err)
				}
				e.start(t)
				id := e.inbound(t, simulator.InboundMessage{From: customer, Text: "Hello"})

				got := e.received(t, 1)[0]
				if !got.Success || got.ExternalID != id {
					t.Fatalf("message = %+v, want %s accepted", got, id)
				}
				if _, ok := got.User["picture"]; ok {
					t.Errorf("user.picture = %v, want none after a failed fetch", got.User["picture"])
				}
				eventually(t, "delivery done", func() bool {
					ds := e.deliveries(t, "in")
					return len(ds) == 1 && ds[0].State == connector.DeliveryDone
				})
				if ds := e.deliveries(t, "in"); ds[0].Attempts != 1 {
					t.Errorf("delivery attempts = %d, want 1", ds[0].Attempts)
				}
				if n := spy.calls.Load(); n != 1 {
					t.Errorf("ProfilePicture calls = %d, want 1", n)
				}
			})
		})
	}
}
