package billing

import (
	"context"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
	"gorm.io/gorm"

	"github.com/wabridge/b24wa/connector"
	"github.com/wabridge/b24wa/connector/wa/meow"
	"github.com/wabridge/b24wa/connector/wastore"
	"github.com/wabridge/b24wa/internal/dbtest"
	"github.com/wabridge/b24wa/internal/secrets"
)

// storeTables are the whatsmeow store tables that hold a device's keys and
// state, each with the column naming the device.
var storeTables = map[string]string{
	"wa_device": "jid", "wa_identity_keys": "our_jid", "wa_pre_keys": "our_jid", "wa_sessions": "our_jid",
	"wa_sender_keys": "our_jid", "wa_app_state_sync_keys": "our_jid", "wa_app_state_versions": "our_jid",
	"wa_app_state_mutation_macs": "our_jid", "wa_contacts": "our_jid", "wa_chat_settings": "our_jid",
	"wa_message_secrets": "our_jid", "wa_privacy_tokens": "our_jid", "wa_event_buffer": "our_jid",
	"wa_sent_messages": "our_jid",
}

// storedRows counts the rows of jid in every store table.
func storedRows(t *testing.T, db *gorm.DB, jid types.JID) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for table, column := range storeTables {
		var n int64
		if err := db.Table(table).Where(column+" = ?", jid.String()).Count(&n).Error; err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		if n > 0 {
			out[table] = n
		}
	}
	return out
}

// storedDevice saves a linked device with identity keys, a Signal session,
// pre-keys, a sender key and a contact in the whatsmeow store, as whatsmeow
// does while a line is in use.
func storedDevice(t *testing.T, c *wastore.Container, phone string) types.JID {
	t.Helper()
	ctx := context.Background()
	device := c.NewDevice()
	jid := types.NewADJID(phone, 0, 5)
	device.ID = &jid
	device.PushName = "Shop " + phone
	if err := c.PutDevice(ctx, device); err != nil {
		t.Fatal(err)
	}
	steps := []func() error{
		func() error { return device.Identities.PutIdentity(ctx, "79005550000.0:0", [32]byte{1, 2, 3}) },
		func() error { return device.Sessions.PutSession(ctx, "79005550000.0:0", []byte("signal session")) },
		func() error { _, err := device.PreKeys.GetOrGenPreKeys(ctx, 5); return err },
		func() error {
			return device.SenderKeys.PutSenderKey(ctx, "120363000000000000@g.us", "79005550000.0:0", []byte("sk"))
		},
		func() error {
			_, _, err := device.Contacts.PutPushName(ctx, types.NewJID("79005550000", types.DefaultUserServer), "Ann")
			return err
		},
		func() error {
			return device.AppStateKeys.PutAppStateSyncKey(ctx, []byte{9}, store.AppStateSyncKey{Data: []byte("k"), Fingerprint: []byte("f"), Timestamp: 1})
		},
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("store step %d: %v", i, err)
		}
	}
	return jid
}

// TestSuspensionDeletesStoredKeys suspends a line whose device lives in the
// real whatsmeow store, through the session manager on the whatsmeow
// backend. The line has no live connection, as after a restart or while the
// phone is offline, and every key row of the device is deleted.
func TestSuspensionDeletesStoredKeys(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		box, err := secrets.New([]byte("billing-wastore-secret-key-32-bytes"))
		if err != nil {
			t.Fatal(err)
		}
		container := wastore.New(db, box, dbtest.Logger(t))
		backend := meow.New(container, dbtest.Logger(t), meow.Options{})
		t.Cleanup(func() { _ = backend.Close() })
		m := w.manager("one", backend)
		s := w.service(m)

		line := w.line(m, "1", "Sales")
		check(t, s)
		jid := storedDevice(t, container, "79001234567")
		lines := connector.NewLineStore(db)
		if err := lines.SetLinked(ctx, line.ID, jid.String(), "79001234567", "Shop"); err != nil {
			t.Fatal(err)
		}
		if err := lines.AddDeviceSession(ctx, &connector.DeviceSession{LineID: line.ID, WaJID: jid.String(),
			Phone: "79001234567", LinkedVia: "qr", LinkedAt: testStart}); err != nil {
			t.Fatal(err)
		}
		if err := lines.SetState(ctx, line.ID, connector.StateReconnecting, "", nil); err != nil {
			t.Fatal(err)
		}
		before := storedRows(t, db, jid)
		for _, table := range []string{"wa_device", "wa_identity_keys", "wa_sessions", "wa_pre_keys", "wa_sender_keys", "wa_contacts"} {
			if before[table] == 0 {
				t.Fatalf("setup stored no row in %s: %v", table, before)
			}
		}

		w.clock.Advance(10*day + time.Minute)
		check(t, s)

		if left := storedRows(t, db, jid); len(left) != 0 {
			t.Errorf("rows of the suspended device left in the store: %v", left)
		}
		got := w.get(line.ID)
		if got.State != connector.StateSuspended || got.WaJID != "" {
			t.Errorf("line: state %s, wa_jid %q; want suspended without a device", got.State, got.WaJID)
		}
		sessions, err := lines.DeviceSessions(ctx, line.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(sessions) != 1 || sessions[0].LoggedOutAt == nil || sessions[0].LogoutReason != LogoutReasonPayment {
			t.Errorf("device sessions = %+v, want one closed with reason payment", sessions)
		}
	})
}
