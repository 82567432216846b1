package wastore

import (
	"context"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
)

// secretsOf is the plaintext of every sealed value populate stored for one
// device, so tests can look for it in raw rows.
type secretsOf struct {
	device                  *store.Device
	peer                    types.JID
	identity                [32]byte
	session, senderKey      []byte
	syncKey, hash           []byte
	msgSecret, privacyToken []byte
	plaintext, sentMessage  []byte
}

// populate stores a paired device and one row in every wa_ table for it,
// each sealed value holding random bytes.
func populate(t *testing.T, c *Container, phone string) secretsOf {
	t.Helper()
	ctx := context.Background()
	device := pairedDevice(t, c, phone, 2)
	if err := c.PutDevice(ctx, device); err != nil {
		t.Fatal(err)
	}
	v := secretsOf{
		device:       device,
		identity:     [32]byte(randomBytes(t, 32)),
		session:      randomBytes(t, 48),
		senderKey:    randomBytes(t, 48),
		syncKey:      randomBytes(t, 32),
		hash:         randomBytes(t, 128),
		msgSecret:    randomBytes(t, 32),
		privacyToken: randomBytes(t, 24),
		plaintext:    randomBytes(t, 40),
	}
	peer := types.NewJID("7911"+phone[4:], types.DefaultUserServer)
	v.peer = peer
	lid := types.NewJID("2"+phone, types.HiddenUserServer)
	address := peer.SignalAddress().String()
	group := types.NewJID("120363"+phone, types.GroupServer)

	must(t, device.Identities.PutIdentity(ctx, address, v.identity))
	must(t, device.Sessions.PutSession(ctx, address, v.session))
	_, err := device.PreKeys.GetOrGenPreKeys(ctx, 3)
	must(t, err)
	must(t, device.SenderKeys.PutSenderKey(ctx, group.String(), address, v.senderKey))
	must(t, device.AppStateKeys.PutAppStateSyncKey(ctx, []byte("key-1"), store.AppStateSyncKey{Data: v.syncKey, Fingerprint: []byte("fp"), Timestamp: 5}))
	must(t, device.AppState.PutAppStateVersion(ctx, "regular", 3, [128]byte(v.hash)))
	must(t, device.AppState.PutAppStateMutationMACs(ctx, "regular", 3, []store.AppStateMutationMAC{{IndexMAC: randomBytes(t, 32), ValueMAC: randomBytes(t, 32)}}))
	_, _, err = device.Contacts.PutPushName(ctx, peer, "Customer")
	must(t, err)
	must(t, device.ChatSettings.PutPinned(ctx, peer, true))
	must(t, device.MsgSecrets.PutMessageSecret(ctx, peer, peer, "3EB0POPULATE", v.msgSecret))
	must(t, device.PrivacyTokens.PutPrivacyTokens(ctx, store.PrivacyToken{User: peer, Token: v.privacyToken, Timestamp: time.Unix(1_700_000_000, 0)}))
	must(t, device.EventBuffer.PutBufferedEvent(ctx, [32]byte(randomBytes(t, 32)), v.plaintext, time.Now()))
	must(t, device.LIDs.PutLIDMapping(ctx, lid, peer))

	msg := &waE2E.Message{Conversation: proto.String("order " + string(randomBytes(t, 16)))}
	v.sentMessage, err = proto.Marshal(msg)
	must(t, err)
	must(t, c.PutSentMessage(ctx, *device.ID, peer, "3EB0SENT", msg))
	return v
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
