package wastore

import (
	"context"
	"crypto/rand"
	"fmt"
	mathrand "math/rand/v2"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
	"gorm.io/gorm/clause"

	"go.mau.fi/whatsmeow/proto/waAdv"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/util/keys"
)

// NewDevice returns a fresh unpaired device with new keys, like sqlstore's.
// Nothing is stored until whatsmeow saves the device after a successful
// pairing, which calls PutDevice.
func (c *Container) NewDevice() *store.Device {
	advSecret := make([]byte, 32)
	if _, err := rand.Read(advSecret); err != nil {
		panic("crypto/rand: " + err.Error())
	}
	device := &store.Device{
		Log:            c.waLog,
		Container:      c,
		NoiseKey:       keys.NewKeyPair(),
		IdentityKey:    keys.NewKeyPair(),
		RegistrationID: mathrand.Uint32(),
		AdvSecretKey:   advSecret,
	}
	device.SignedPreKey = device.IdentityKey.CreateSignedPreKey(1)
	return device
}

// PutDevice stores a paired device. For a JID already stored it updates only
// the LID, platform, business name, push name and LID migration time and
// keeps the stored keys, as sqlstore does. whatsmeow calls it through
// Device.Save after pairing and when those fields change.
func (c *Container) PutDevice(ctx context.Context, device *store.Device) error {
	if device.ID == nil {
		return ErrDeviceJIDMissing
	}
	row, err := c.rowFromDevice(device)
	if err != nil {
		return err
	}
	err = c.conn(ctx).Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "jid"}},
		DoUpdates: clause.AssignmentColumns([]string{
			"lid", "platform", "business_name", "push_name", "lid_migration_ts", "updated_at",
		}),
	}).Create(row).Error
	if !device.Initialized {
		c.initializeDevice(device)
	}
	if err != nil {
		return fmt.Errorf("put device %s: %w", row.JID, err)
	}
	return nil
}

func (c *Container) rowFromDevice(device *store.Device) (*deviceRow, error) {
	if device.NoiseKey == nil || device.IdentityKey == nil || device.SignedPreKey == nil ||
		device.SignedPreKey.Signature == nil || device.AdvSecretKey == nil {
		return nil, fmt.Errorf("put device %s: %w", device.ID, ErrDeviceIncomplete)
	}
	account := device.Account
	if account == nil {
		account = &waAdv.ADVSignedDeviceIdentity{}
	}
	accountBytes, err := proto.Marshal(account)
	if err != nil {
		return nil, fmt.Errorf("encode ADV account of %s: %w", device.ID, err)
	}
	jid := device.ID.String()
	seal := sealer{box: c.box, ourJID: jid}
	row := &deviceRow{
		JID:             jid,
		LID:             jidString(device.LID),
		RegistrationID:  device.RegistrationID,
		NoiseKey:        seal.seal(device.NoiseKey.Priv[:], kindNoiseKey),
		IdentityKey:     seal.seal(device.IdentityKey.Priv[:], kindIdentityKey),
		SignedPreKey:    seal.seal(device.SignedPreKey.Priv[:], kindSignedPreKey),
		SignedPreKeyID:  device.SignedPreKey.KeyID,
		SignedPreKeySig: device.SignedPreKey.Signature[:],
		AdvKey:          seal.seal(device.AdvSecretKey, kindAdvKey),
		AdvAccount:      seal.seal(accountBytes, kindAdvAccount),
		Platform:        device.Platform,
		BusinessName:    device.BusinessName,
		PushName:        device.PushName,
		LIDMigrationTS:  device.LIDMigrationTimestamp,
		UpdatedAt:       time.Now().UTC(),
	}
	if device.FacebookUUID != uuid.Nil {
		row.FacebookUUID = device.FacebookUUID.String()
	}
	return row, nil
}

func (c *Container) deviceFromRow(row *deviceRow) (*store.Device, error) {
	seal := sealer{box: c.box, ourJID: row.JID}
	noise, err := seal.openKey32(row.NoiseKey, kindNoiseKey)
	if err != nil {
		return nil, err
	}
	identity, err := seal.openKey32(row.IdentityKey, kindIdentityKey)
	if err != nil {
		return nil, err
	}
	preKey, err := seal.openKey32(row.SignedPreKey, kindSignedPreKey)
	if err != nil {
		return nil, err
	}
	if len(row.SignedPreKeySig) != 64 {
		return nil, fmt.Errorf("%w: signed pre-key signature of %s", ErrInvalidLength, row.JID)
	}
	advKey, err := seal.open(row.AdvKey, kindAdvKey)
	if err != nil {
		return nil, err
	}
	account, err := openAccount(seal, row.AdvAccount)
	if err != nil {
		return nil, err
	}
	id, err := types.ParseJID(row.JID)
	if err != nil {
		return nil, fmt.Errorf("parse device JID %q: %w", row.JID, err)
	}
	lid, err := parseOptionalJID(row.LID)
	if err != nil {
		return nil, fmt.Errorf("parse LID of device %s: %w", row.JID, err)
	}
	fbUUID, err := parseOptionalUUID(row.FacebookUUID)
	if err != nil {
		return nil, fmt.Errorf("parse Facebook UUID of device %s: %w", row.JID, err)
	}
	device := &store.Device{
		Log:            c.waLog,
		NoiseKey:       keys.NewKeyPairFromPrivateKey(*noise),
		IdentityKey:    keys.NewKeyPairFromPrivateKey(*identity),
		SignedPreKey:   &keys.PreKey{KeyPair: *keys.NewKeyPairFromPrivateKey(*preKey), KeyID: row.SignedPreKeyID, Signature: (*[64]byte)(row.SignedPreKeySig)},
		RegistrationID: row.RegistrationID,
		AdvSecretKey:   advKey,
		ID:             &id,
		LID:            lid,
		Account:        account,
		Platform:       row.Platform,
		BusinessName:   row.BusinessName,
		PushName:       row.PushName,

		LIDMigrationTimestamp: row.LIDMigrationTS,
		FacebookUUID:          fbUUID,
	}
	c.initializeDevice(device)
	return device, nil
}

func openAccount(seal sealer, sealed []byte) (*waAdv.ADVSignedDeviceIdentity, error) {
	raw, err := seal.open(sealed, kindAdvAccount)
	if err != nil {
		return nil, err
	}
	var account waAdv.ADVSignedDeviceIdentity
	if err := proto.Unmarshal(raw, &account); err != nil {
		return nil, fmt.Errorf("decode ADV account of %s: %w", seal.ourJID, err)
	}
	return &account, nil
}

// jidString returns the stored form of a JID: its string, or "" for the
// empty JID (which sqlstore stores as NULL).
func jidString(jid types.JID) string {
	if jid.Server == "" {
		return ""
	}
	return jid.String()
}

func parseOptionalJID(raw string) (types.JID, error) {
	if raw == "" {
		return types.EmptyJID, nil
	}
	return types.ParseJID(raw)
}

func parseOptionalUUID(raw string) (uuid.UUID, error) {
	if raw == "" {
		return uuid.Nil, nil
	}
	return uuid.Parse(raw)
}
