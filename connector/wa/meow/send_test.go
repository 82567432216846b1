package meow

import (
	"errors"
	"testing"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"google.golang.org/protobuf/proto"
	"gorm.io/gorm"

	"github.com/wabridge/b24wa/connector/wa"
	"github.com/wabridge/b24wa/internal/dbtest"
)

func TestSendStoresMessageBeforeSending(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		b, container := newBackend(t, db, Options{})
		jid := storePairedDevice(t, container, "79001234567", 3)
		sess := openSession(t, b, jid, &recorder{}, wa.OpenOptions{})
		customer := types.NewJID("79119876543", types.DefaultUserServer)
		msg := &waE2E.Message{Conversation: proto.String("Your order is ready")}
		id := sess.NewMessageID()

		// Not connected: the send fails after the message was stored.
		_, err := sess.Send(t.Context(), customer, msg, wa.SendOptions{ID: id})
		if err == nil {
			t.Fatal("send without a connection succeeded")
		}
		stored, err := container.GetSentMessage(t.Context(), jid, customer, id)
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(stored, msg) {
			t.Errorf("stored message = %v, want %v", stored, msg)
		}
		retry := sess.client.GetMessageForRetry(customer, customer, id)
		if !proto.Equal(retry, msg) {
			t.Errorf("GetMessageForRetry = %v, want the stored message", retry)
		}
		if other := sess.client.GetMessageForRetry(customer, customer, "3EB0UNKNOWN"); other != nil {
			t.Errorf("GetMessageForRetry of an unknown id = %v, want nil", other)
		}
	})
}

func TestSendUnpairedFails(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		b, _ := newBackend(t, db, Options{})
		sess := openSession(t, b, types.EmptyJID, &recorder{}, wa.OpenOptions{})
		to := types.NewJID("79119876543", types.DefaultUserServer)
		_, err := sess.Send(t.Context(), to, &waE2E.Message{Conversation: proto.String("x")}, wa.SendOptions{})
		if !errors.Is(err, whatsmeow.ErrNotLoggedIn) {
			t.Errorf("err = %v, want ErrNotLoggedIn", err)
		}
		if err := sess.Connect(t.Context()); !errors.Is(err, whatsmeow.ErrNotLoggedIn) {
			t.Errorf("Connect unpaired: err = %v, want ErrNotLoggedIn", err)
		}
		if _, err := sess.PairPhone(t.Context(), "79001234567"); !errors.Is(err, wa.ErrPairingNotRunning) {
			t.Errorf("PairPhone without pairing: err = %v, want ErrPairingNotRunning", err)
		}
		if err := sess.Logout(t.Context()); !errors.Is(err, whatsmeow.ErrNotLoggedIn) {
			t.Errorf("Logout unpaired: err = %v, want ErrNotLoggedIn", err)
		}
	})
}

func TestLogoutOfflineDeletesKeys(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		b, container := newBackend(t, db, Options{})
		jid := storePairedDevice(t, container, "79001234567", 3)
		sess := openSession(t, b, jid, &recorder{}, wa.OpenOptions{})

		err := sess.Logout(t.Context())
		if !errors.Is(err, wa.ErrRemoteUnlinkFailed) {
			t.Errorf("offline logout: err = %v, want ErrRemoteUnlinkFailed", err)
		}
		if devices, _ := b.Devices(t.Context()); len(devices) != 0 {
			t.Errorf("devices after logout = %v, want none", devices)
		}
		if !sess.JID().IsEmpty() {
			t.Errorf("JID after logout = %s, want empty", sess.JID())
		}
	})
}

func TestReconnectHook(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		b, container := newBackend(t, db, Options{ReconnectBase: time.Millisecond, ReconnectMax: 4 * time.Millisecond})
		jid := storePairedDevice(t, container, "79001234567", 3)
		sess := openSession(t, b, jid, &recorder{}, wa.OpenOptions{})

		sess.client.AutoReconnectErrors = 5
		if !sess.reconnectHook(errors.New("dial failed")) {
			t.Error("hook gave up while the session wants a connection")
		}
		if sess.client.AutoReconnectErrors != 0 {
			t.Errorf("AutoReconnectErrors = %d, want 0 so whatsmeow adds no delay", sess.client.AutoReconnectErrors)
		}
		if sess.reconnectFailures != 1 {
			t.Errorf("reconnectFailures = %d, want 1", sess.reconnectFailures)
		}

		slow, slowContainer := newBackend(t, db, Options{ReconnectBase: time.Hour})
		_ = slowContainer
		slowSess := openSession(t, slow, jid, &recorder{}, wa.OpenOptions{})
		done := make(chan bool)
		go func() { done <- slowSess.reconnectHook(errors.New("dial failed")) }()
		slowSess.Disconnect()
		select {
		case retry := <-done:
			if retry {
				t.Error("hook retries after Disconnect")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("hook kept waiting after Disconnect")
		}
	})
}
