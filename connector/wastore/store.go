package wastore

import (
	"context"
	"crypto/subtle"
	"fmt"
	"sync"

	"gorm.io/gorm/clause"

	"go.mau.fi/whatsmeow/types"
)

// deviceStore implements every per-device store interface of whatsmeow for
// one device JID. Device values of the same JID share one deviceStore.
type deviceStore struct {
	c      *Container
	ourJID string
	seal   sealer

	preKeyMu sync.Mutex // serialises pre-key id allocation

	contactMu sync.Mutex
	contacts  map[types.JID]*types.ContactInfo

	migratedMu sync.Mutex
	migrated   map[string]struct{} // PN signal users whose sessions moved to their LID
}

func newDeviceStore(c *Container, ourJID string) *deviceStore {
	return &deviceStore{
		c:        c,
		ourJID:   ourJID,
		seal:     sealer{box: c.box, ourJID: ourJID},
		contacts: make(map[types.JID]*types.ContactInfo),
		migrated: make(map[string]struct{}),
	}
}

func (s *deviceStore) clearCaches() {
	s.contactMu.Lock()
	s.contacts = make(map[types.JID]*types.ContactInfo)
	s.contactMu.Unlock()
	s.migratedMu.Lock()
	s.migrated = make(map[string]struct{})
	s.migratedMu.Unlock()
}

// PutIdentity stores the identity key of a Signal address ("user:device").
func (s *deviceStore) PutIdentity(ctx context.Context, address string, key [32]byte) error {
	row := identityRow{OurJID: s.ourJID, TheirID: address, Identity: s.seal.seal(key[:], kindIdentity, address)}
	err := s.c.conn(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "our_jid"}, {Name: "their_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"identity"}),
	}).Create(&row).Error
	if err != nil {
		return fmt.Errorf("put identity of %s: %w", address, err)
	}
	return nil
}

// DeleteAllIdentities deletes the identity keys of every device of a Signal
// user, that is, of the addresses "<phone>:*".
func (s *deviceStore) DeleteAllIdentities(ctx context.Context, phone string) error {
	if err := s.deleteByPrefix(ctx, "wa_identity_keys", "their_id", phone); err != nil {
		return fmt.Errorf("delete identities of %s: %w", phone, err)
	}
	return nil
}

// DeleteIdentity deletes the identity key of one Signal address. sqlstore
// matches the address with LIKE, where '_' in a LID address is a wildcard;
// this store matches it exactly.
func (s *deviceStore) DeleteIdentity(ctx context.Context, address string) error {
	err := s.c.conn(ctx).Where("our_jid = ? AND their_id = ?", s.ourJID, address).Delete(&identityRow{}).Error
	if err != nil {
		return fmt.Errorf("delete identity of %s: %w", address, err)
	}
	return nil
}

// IsTrustedIdentity reports whether key is the stored identity of address.
// An unknown address is trusted: whatsmeow stores its key afterwards.
func (s *deviceStore) IsTrustedIdentity(ctx context.Context, address string, key [32]byte) (bool, error) {
	var rows []identityRow
	err := s.c.conn(ctx).Where("our_jid = ? AND their_id = ?", s.ourJID, address).Limit(1).Find(&rows).Error
	if err != nil {
		return false, fmt.Errorf("get identity of %s: %w", address, err)
	}
	if len(rows) == 0 {
		return true, nil
	}
	stored, err := s.seal.openKey32(rows[0].Identity, kindIdentity, address)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(stored[:], key[:]) == 1, nil
}

// deleteByPrefix deletes the device's rows whose column starts with
// "<user>:", the Signal addresses of every device of a user. A range
// comparison replaces sqlstore's LIKE so that '_' and '%' in the user part
// match only themselves. ';' is the byte after ':'.
func (s *deviceStore) deleteByPrefix(ctx context.Context, table, column, user string) error {
	low, high := user+":", user+";"
	return s.c.conn(ctx).Exec(
		"DELETE FROM "+table+" WHERE our_jid = ? AND "+column+" >= ? AND "+column+" < ?",
		s.ourJID, low, high,
	).Error
}
