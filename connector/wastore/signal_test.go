package wastore

import (
	"context"
	"testing"

	"gorm.io/gorm"

	"go.mau.fi/libsignal/ecc"
	"go.mau.fi/libsignal/keys/identity"
	"go.mau.fi/libsignal/keys/prekey"
	"go.mau.fi/libsignal/protocol"
	"go.mau.fi/libsignal/session"
	"go.mau.fi/libsignal/util/optional"
	"go.mau.fi/whatsmeow/store"

	"github.com/wabridge/b24wa/internal/dbtest"
)

// bundleOf returns the pre-key bundle WhatsApp's server would hand out for
// device, using one of its pre-keys.
func bundleOf(t *testing.T, device *store.Device) *prekey.Bundle {
	t.Helper()
	keys, err := device.PreKeys.GetOrGenPreKeys(context.Background(), 1)
	must(t, err)
	return prekey.NewBundle(
		device.RegistrationID, uint32(device.ID.Device),
		optional.NewOptionalUint32(keys[0].KeyID), device.SignedPreKey.KeyID,
		ecc.NewDjbECPublicKey(*keys[0].Pub), ecc.NewDjbECPublicKey(*device.SignedPreKey.Pub),
		*device.SignedPreKey.Signature,
		identity.NewKey(ecc.NewDjbECPublicKey(*device.IdentityKey.Pub)),
	)
}

// TestSignalSessionThroughStore runs a Signal exchange between two devices
// whose identity keys, pre-keys and sessions live in this store, reloading
// the devices from the database between steps, and decrypts inside
// DoDecryptionTxn as whatsmeow does.
func TestSignalSessionThroughStore(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		c := newTestContainer(t, db)
		serializer := store.SignalProtobufSerializer
		alice := pairedDevice(t, c, "79990000041", 1)
		bob := pairedDevice(t, c, "79990000042", 1)
		must(t, alice.Save(ctx))
		must(t, bob.Save(ctx))
		aliceAddr, bobAddr := alice.ID.SignalAddress(), bob.ID.SignalAddress()
		bundle := bundleOf(t, bob)

		aliceBuilder := session.NewBuilderFromSignal(alice, bobAddr, serializer)
		must(t, aliceBuilder.ProcessBundle(ctx, bundle))
		first, err := session.NewCipher(aliceBuilder, bobAddr).Encrypt(ctx, []byte("hello from alice"))
		must(t, err)

		bobLoaded, err := c.GetDevice(ctx, *bob.ID)
		must(t, err)
		preKeyMsg, err := protocol.NewPreKeySignalMessageFromBytes(first.Serialize(), serializer.PreKeySignalMessage, serializer.SignalMessage)
		must(t, err)
		var plaintext []byte
		err = bobLoaded.EventBuffer.DoDecryptionTxn(ctx, func(ctx context.Context) error {
			builder := session.NewBuilderFromSignal(bobLoaded, aliceAddr, serializer)
			var err error
			plaintext, err = session.NewCipher(builder, aliceAddr).DecryptMessage(ctx, preKeyMsg)
			return err
		})
		must(t, err)
		if string(plaintext) != "hello from alice" {
			t.Fatalf("bob decrypted %q", plaintext)
		}
		if used, err := bobLoaded.PreKeys.GetPreKey(ctx, bundle.PreKeyID().Value); err != nil || used != nil {
			t.Errorf("pre-key used by the session is still stored (err %v)", err)
		}

		bobBuilder := session.NewBuilderFromSignal(bobLoaded, aliceAddr, serializer)
		reply, err := session.NewCipher(bobBuilder, aliceAddr).Encrypt(ctx, []byte("hello from bob"))
		must(t, err)
		aliceLoaded, err := c.GetDevice(ctx, *alice.ID)
		must(t, err)
		signalMsg, err := protocol.NewSignalMessageFromBytes(reply.Serialize(), serializer.SignalMessage)
		must(t, err)
		builder := session.NewBuilderFromSignal(aliceLoaded, bobAddr, serializer)
		plaintext, err = session.NewCipher(builder, bobAddr).Decrypt(ctx, signalMsg)
		must(t, err)
		if string(plaintext) != "hello from bob" {
			t.Fatalf("alice decrypted %q", plaintext)
		}
	})
}
