package simulator

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"testing"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/types"

	"github.com/wabridge/b24wa/connector/wa"
)

func profilePicture(t *testing.T, sess wa.Session, jid types.JID) *wa.Picture {
	t.Helper()
	pic, err := sess.ProfilePicture(context.Background(), jid)
	if err != nil {
		t.Fatalf("ProfilePicture(%s): %v", jid, err)
	}
	return pic
}

func TestProfilePictureSetChangeRemove(t *testing.T) {
	f := newFixture(t)
	sess, _ := f.linked(t, shopPhone)
	customer := types.NewJID(customerPhone, types.DefaultUserServer)

	if pic := profilePicture(t, sess, customer); pic != nil {
		t.Fatalf("picture before SetAvatar = %+v, want nil", pic)
	}

	first := []byte("first picture")
	if err := f.sim.SetAvatar("+"+customerPhone, first, "image/jpeg"); err != nil {
		t.Fatal(err)
	}
	pic := profilePicture(t, sess, customer)
	if pic == nil || !bytes.Equal(pic.Data, first) || pic.MimeType != "image/jpeg" || pic.ID == "" {
		t.Fatalf("picture = %+v, want the first bytes as image/jpeg with an id", pic)
	}
	firstID := pic.ID

	if err := f.sim.SetAvatar(customerPhone, first, "image/jpeg"); err != nil {
		t.Fatal(err)
	}
	if again := profilePicture(t, sess, customer); again.ID != firstID {
		t.Errorf("id after setting the same bytes = %q, want %q", again.ID, firstID)
	}

	if err := f.sim.SetAvatar(customerPhone, []byte("second picture"), "image/jpeg"); err != nil {
		t.Fatal(err)
	}
	if changed := profilePicture(t, sess, customer); changed.ID == firstID {
		t.Errorf("id after a new picture = %q, want a new id", changed.ID)
	}

	if err := f.sim.SetAvatar(customerPhone, nil, ""); err != nil {
		t.Fatal(err)
	}
	if removed := profilePicture(t, sess, customer); removed != nil {
		t.Errorf("picture after removal = %+v, want nil", removed)
	}
}

func TestProfilePictureFromInboundByLID(t *testing.T) {
	f := newFixture(t)
	sess, rec := f.linked(t, shopPhone)
	data := []byte("\x89PNG\r\n\x1a\nrest")

	_, err := f.sim.Inbound(InboundMessage{
		To: shopPhone, From: customerPhone, LID: "123456789", Text: "Hi",
		Avatar: &InboundAvatar{Base64: base64.StdEncoding.EncodeToString(data)},
	})
	if err != nil {
		t.Fatalf("inbound: %v", err)
	}
	nextMessage(t, rec)

	pic := profilePicture(t, sess, types.NewJID("123456789", types.HiddenUserServer))
	if pic == nil || !bytes.Equal(pic.Data, data) {
		t.Fatalf("picture by LID = %+v, want the inbound avatar", pic)
	}
	if pic.MimeType != "image/png" {
		t.Errorf("sniffed MIME type = %q, want image/png", pic.MimeType)
	}
}

func TestProfilePictureRejects(t *testing.T) {
	f := newFixture(t)
	sess, _ := f.linked(t, shopPhone)

	if err := f.sim.SetAvatar("not a number", []byte("x"), ""); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("SetAvatar with a bad customer: error = %v, want ErrInvalidRequest", err)
	}
	_, err := f.sim.Inbound(InboundMessage{To: shopPhone, From: customerPhone, Text: "Hi", Avatar: &InboundAvatar{Base64: "%%"}})
	if !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("Inbound with bad avatar base64: error = %v, want ErrInvalidRequest", err)
	}

	sess.Disconnect()
	_, err = sess.ProfilePicture(context.Background(), types.NewJID(customerPhone, types.DefaultUserServer))
	if !errors.Is(err, whatsmeow.ErrNotConnected) {
		t.Errorf("ProfilePicture while disconnected: error = %v, want ErrNotConnected", err)
	}
}
