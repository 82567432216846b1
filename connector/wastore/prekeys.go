package wastore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"

	"go.mau.fi/whatsmeow/util/keys"
)

// GetOrGenPreKeys returns count pre-keys that were not uploaded yet, lowest
// id first, generating and storing new ones when there are too few.
func (s *deviceStore) GetOrGenPreKeys(ctx context.Context, count uint32) ([]*keys.PreKey, error) {
	s.preKeyMu.Lock()
	defer s.preKeyMu.Unlock()

	var rows []preKeyRow
	err := s.c.conn(ctx).Where("our_jid = ? AND uploaded = ?", s.ourJID, false).
		Order("key_id").Limit(int(count)).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("get pre-keys to upload: %w", err)
	}
	result := make([]*keys.PreKey, 0, count)
	for i := range rows {
		key, err := s.preKeyFromRow(&rows[i])
		if err != nil {
			return nil, err
		}
		result = append(result, key)
	}
	if uint32(len(result)) == count {
		return result, nil
	}
	nextID, err := s.nextPreKeyID(ctx)
	if err != nil {
		return nil, err
	}
	for uint32(len(result)) < count {
		key, err := s.genPreKey(ctx, nextID, false)
		if err != nil {
			return nil, err
		}
		result = append(result, key)
		nextID++
	}
	return result, nil
}

// GenOnePreKey generates and stores one pre-key marked as uploaded, for
// whatsmeow to send along with a message that needs one right away.
func (s *deviceStore) GenOnePreKey(ctx context.Context) (*keys.PreKey, error) {
	s.preKeyMu.Lock()
	defer s.preKeyMu.Unlock()
	nextID, err := s.nextPreKeyID(ctx)
	if err != nil {
		return nil, err
	}
	return s.genPreKey(ctx, nextID, true)
}

// GetPreKey returns the pre-key with an id, or nil when there is none.
func (s *deviceStore) GetPreKey(ctx context.Context, id uint32) (*keys.PreKey, error) {
	var rows []preKeyRow
	err := s.c.conn(ctx).Where("our_jid = ? AND key_id = ?", s.ourJID, id).Limit(1).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("get pre-key %d: %w", id, err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return s.preKeyFromRow(&rows[0])
}

// RemovePreKey deletes the pre-key with an id, after a peer used it.
func (s *deviceStore) RemovePreKey(ctx context.Context, id uint32) error {
	err := s.c.conn(ctx).Where("our_jid = ? AND key_id = ?", s.ourJID, id).Delete(&preKeyRow{}).Error
	if err != nil {
		return fmt.Errorf("remove pre-key %d: %w", id, err)
	}
	return nil
}

// MarkPreKeysAsUploaded marks every pre-key with an id up to and including
// upToID as uploaded to WhatsApp's servers.
func (s *deviceStore) MarkPreKeysAsUploaded(ctx context.Context, upToID uint32) error {
	err := s.c.conn(ctx).Model(&preKeyRow{}).Where("our_jid = ? AND key_id <= ?", s.ourJID, upToID).
		Update("uploaded", true).Error
	if err != nil {
		return fmt.Errorf("mark pre-keys up to %d as uploaded: %w", upToID, err)
	}
	return nil
}

// UploadedPreKeyCount returns the number of stored pre-keys marked as
// uploaded.
func (s *deviceStore) UploadedPreKeyCount(ctx context.Context) (int, error) {
	var count int64
	err := s.c.conn(ctx).Model(&preKeyRow{}).Where("our_jid = ? AND uploaded = ?", s.ourJID, true).Count(&count).Error
	if err != nil {
		return 0, fmt.Errorf("count uploaded pre-keys: %w", err)
	}
	return int(count), nil
}

// nextPreKeyID returns one more than the highest stored id, or 1.
func (s *deviceStore) nextPreKeyID(ctx context.Context) (uint32, error) {
	var last sql.NullInt64
	err := s.c.conn(ctx).Raw("SELECT MAX(key_id) FROM wa_pre_keys WHERE our_jid = ?", s.ourJID).Row().Scan(&last)
	if err != nil {
		return 0, fmt.Errorf("get next pre-key id: %w", err)
	}
	return uint32(last.Int64) + 1, nil
}

func (s *deviceStore) genPreKey(ctx context.Context, id uint32, uploaded bool) (*keys.PreKey, error) {
	key := keys.NewPreKey(id)
	row := preKeyRow{
		OurJID:   s.ourJID,
		KeyID:    id,
		PreKey:   s.seal.seal(key.Priv[:], kindPreKey, strconv.FormatUint(uint64(id), 10)),
		Uploaded: uploaded,
	}
	if err := s.c.conn(ctx).Create(&row).Error; err != nil {
		return nil, fmt.Errorf("store pre-key %d: %w", id, err)
	}
	return key, nil
}

func (s *deviceStore) preKeyFromRow(row *preKeyRow) (*keys.PreKey, error) {
	priv, err := s.seal.openKey32(row.PreKey, kindPreKey, strconv.FormatUint(uint64(row.KeyID), 10))
	if err != nil {
		return nil, err
	}
	return &keys.PreKey{KeyPair: *keys.NewKeyPairFromPrivateKey(*priv), KeyID: row.KeyID}, nil
}
