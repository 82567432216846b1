package wastore

import (
	"context"
	"fmt"
	"slices"

	"gorm.io/gorm/clause"

	"go.mau.fi/whatsmeow/store"
)

// PutAppStateVersion stores the version and LTHash state of an app state
// collection such as "regular_high".
func (s *deviceStore) PutAppStateVersion(ctx context.Context, name string, version uint64, hash [128]byte) error {
	row := appStateVersionRow{
		OurJID:  s.ourJID,
		Name:    name,
		Version: version,
		Hash:    s.seal.seal(hash[:], kindAppStateHash, name),
	}
	err := s.c.conn(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "our_jid"}, {Name: "name"}},
		DoUpdates: clause.AssignmentColumns([]string{"version", "hash"}),
	}).Create(&row).Error
	if err != nil {
		return fmt.Errorf("put app state version of %s: %w", name, err)
	}
	return nil
}

// GetAppStateVersion returns the stored version and hash of a collection, or
// version 0 and a zero hash, the initial state, when there is none.
func (s *deviceStore) GetAppStateVersion(ctx context.Context, name string) (uint64, [128]byte, error) {
	var hash [128]byte
	var rows []appStateVersionRow
	err := s.c.conn(ctx).Where("our_jid = ? AND name = ?", s.ourJID, name).Limit(1).Find(&rows).Error
	if err != nil {
		return 0, hash, fmt.Errorf("get app state version of %s: %w", name, err)
	}
	if len(rows) == 0 {
		return 0, hash, nil
	}
	plain, err := s.seal.open(rows[0].Hash, kindAppStateHash, name)
	if err != nil {
		return 0, hash, err
	}
	if len(plain) != len(hash) {
		return 0, hash, fmt.Errorf("%w: app state hash of %s is %d bytes", ErrInvalidLength, name, len(plain))
	}
	copy(hash[:], plain)
	return rows[0].Version, hash, nil
}

// DeleteAppStateVersion deletes the state of a collection and, through the
// foreign key, its mutation MACs, so the next sync starts from a snapshot.
func (s *deviceStore) DeleteAppStateVersion(ctx context.Context, name string) error {
	err := s.c.inTx(ctx, func(ctx context.Context) error {
		db := s.c.conn(ctx)
		if err := db.Where("our_jid = ? AND name = ?", s.ourJID, name).Delete(&mutationMACRow{}).Error; err != nil {
			return err
		}
		return db.Where("our_jid = ? AND name = ?", s.ourJID, name).Delete(&appStateVersionRow{}).Error
	})
	if err != nil {
		return fmt.Errorf("delete app state version of %s: %w", name, err)
	}
	return nil
}

// PutAppStateMutationMACs stores the MACs of the mutations of one patch in
// one transaction. The collection's version row must exist. A MAC already
// stored for the same version and index fails the call, as in sqlstore.
func (s *deviceStore) PutAppStateMutationMACs(ctx context.Context, name string, version uint64, mutations []store.AppStateMutationMAC) error {
	if len(mutations) == 0 {
		return nil
	}
	rows := make([]mutationMACRow, len(mutations))
	for i, m := range mutations {
		rows[i] = mutationMACRow{OurJID: s.ourJID, Name: name, Version: version, IndexMAC: m.IndexMAC, ValueMAC: m.ValueMAC}
	}
	err := s.c.inTx(ctx, func(ctx context.Context) error {
		for chunk := range slices.Chunk(rows, queryChunk) {
			if err := s.c.conn(ctx).Create(&chunk).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("put %d mutation MACs of %s v%d: %w", len(mutations), name, version, err)
	}
	return nil
}

// DeleteAppStateMutationMACs deletes the MACs with the given index MACs from
// every version of a collection.
func (s *deviceStore) DeleteAppStateMutationMACs(ctx context.Context, name string, indexMACs [][]byte) error {
	if len(indexMACs) == 0 {
		return nil
	}
	err := s.c.inTx(ctx, func(ctx context.Context) error {
		for chunk := range slices.Chunk(indexMACs, queryChunk) {
			err := s.c.conn(ctx).Where("our_jid = ? AND name = ? AND index_mac IN ?", s.ourJID, name, chunk).
				Delete(&mutationMACRow{}).Error
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete %d mutation MACs of %s: %w", len(indexMACs), name, err)
	}
	return nil
}

// GetAppStateMutationMAC returns the value MAC stored for an index MAC in
// the newest version that has one, or nil when there is none.
func (s *deviceStore) GetAppStateMutationMAC(ctx context.Context, name string, indexMAC []byte) ([]byte, error) {
	var rows []mutationMACRow
	err := s.c.conn(ctx).Where("our_jid = ? AND name = ? AND index_mac = ?", s.ourJID, name, indexMAC).
		Order("version DESC").Limit(1).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("get mutation MAC of %s: %w", name, err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return rows[0].ValueMAC, nil
}
