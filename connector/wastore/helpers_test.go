package wastore

import (
	"bytes"
	"crypto/rand"
	"testing"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
	"gorm.io/gorm"

	"go.mau.fi/whatsmeow/proto/waAdv"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"

	"github.com/wabridge/b24wa/internal/dbtest"
	"github.com/wabridge/b24wa/internal/secrets"
)

// testSecret is the SECRET_KEY of the test Box, 32 bytes.
const testSecret = "wastore-test-secret-0123456789ab"

func newTestBox(t testing.TB) *secrets.Box {
	t.Helper()
	box, err := secrets.New([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	return box
}

func newTestContainer(t testing.TB, db *gorm.DB) *Container {
	t.Helper()
	return New(db, newTestBox(t), dbtest.Logger(t))
}

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// pairedDevice returns a new device of c filled in as whatsmeow fills it
// after pairing: keys from NewDevice, JIDs, ADV account and profile.
func pairedDevice(t testing.TB, c *Container, phone string, deviceID uint16) *store.Device {
	t.Helper()
	device := c.NewDevice()
	jid := types.NewADJID(phone, 0, uint8(deviceID))
	device.ID = &jid
	device.LID = types.JID{User: "1" + phone, Device: deviceID, Server: types.HiddenUserServer}
	device.Account = &waAdv.ADVSignedDeviceIdentity{
		Details:             randomBytes(t, 80),
		AccountSignature:    randomBytes(t, 64),
		AccountSignatureKey: randomBytes(t, 32),
		DeviceSignature:     randomBytes(t, 64),
	}
	device.Platform = "android"
	device.PushName = "Shop " + phone
	device.BusinessName = "Shop Ltd"
	device.FacebookUUID = uuid.New()
	device.LIDMigrationTimestamp = 1_700_000_000
	return device
}

// deviceDiff returns a description of the first difference between the
// stored fields of two devices, or "" when they are equal.
func deviceDiff(want, got *store.Device) string {
	switch {
	case want == nil || got == nil:
		if want != got {
			return "one device is nil"
		}
		return ""
	case want.GetJID() != got.GetJID():
		return "ID " + want.GetJID().String() + " != " + got.GetJID().String()
	case want.LID != got.LID:
		return "LID " + want.LID.String() + " != " + got.LID.String()
	case want.RegistrationID != got.RegistrationID:
		return "RegistrationID differs"
	case *want.NoiseKey.Priv != *got.NoiseKey.Priv || *want.NoiseKey.Pub != *got.NoiseKey.Pub:
		return "NoiseKey differs"
	case *want.IdentityKey.Priv != *got.IdentityKey.Priv || *want.IdentityKey.Pub != *got.IdentityKey.Pub:
		return "IdentityKey differs"
	case *want.SignedPreKey.Priv != *got.SignedPreKey.Priv || want.SignedPreKey.KeyID != got.SignedPreKey.KeyID:
		return "SignedPreKey differs"
	case *want.SignedPreKey.Signature != *got.SignedPreKey.Signature:
		return "SignedPreKey.Signature differs"
	case !bytes.Equal(want.AdvSecretKey, got.AdvSecretKey):
		return "AdvSecretKey differs"
	case !proto.Equal(want.Account, got.Account):
		return "Account differs"
	case want.Platform != got.Platform || want.BusinessName != got.BusinessName || want.PushName != got.PushName:
		return "profile differs: " + got.Platform + "/" + got.BusinessName + "/" + got.PushName
	case want.LIDMigrationTimestamp != got.LIDMigrationTimestamp:
		return "LIDMigrationTimestamp differs"
	case want.FacebookUUID != got.FacebookUUID:
		return "FacebookUUID " + want.FacebookUUID.String() + " != " + got.FacebookUUID.String()
	}
	return ""
}
