package wastore

import (
	"context"
	"encoding/hex"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"go.mau.fi/whatsmeow/store"

	"github.com/wabridge/b24wa/internal/database"
)

// PutAppStateSyncKey stores an app state sync key. A key already stored
// under the same id is replaced only by one with a newer timestamp.
func (s *deviceStore) PutAppStateSyncKey(ctx context.Context, id []byte, key store.AppStateSyncKey) error {
	row := appStateSyncKeyRow{
		OurJID:       s.ourJID,
		KeyID:        id,
		KeyData:      s.seal.seal(key.Data, kindAppStateSyncKey, hex.EncodeToString(id)),
		KeyTimestamp: key.Timestamp,
		// The column is NOT NULL as in whatsmeow's schema; MySQL stores a nil
		// slice as NULL, so a key without a fingerprint gets an empty one.
		Fingerprint: append([]byte{}, key.Fingerprint...),
	}
	err := s.c.conn(ctx).Clauses(s.newerSyncKeyWins()).Create(&row).Error
	if err != nil {
		return fmt.Errorf("put app state sync key %x: %w", id, err)
	}
	return nil
}

// newerSyncKeyWins builds the conditional upsert. SQLite takes a WHERE on
// DO UPDATE. MySQL has none, so each column is set to itself unless the new
// timestamp is newer, and key_timestamp is assigned last because MySQL
// evaluates the assignments left to right with the values already updated.
func (s *deviceStore) newerSyncKeyWins() clause.OnConflict {
	columns := []clause.Column{{Name: "our_jid"}, {Name: "key_id"}}
	if database.DialectOf(s.c.db) != database.MySQL {
		return clause.OnConflict{
			Columns:   columns,
			DoUpdates: clause.AssignmentColumns([]string{"key_data", "key_timestamp", "fingerprint"}),
			Where: clause.Where{Exprs: []clause.Expression{
				clause.Expr{SQL: "excluded.key_timestamp > wa_app_state_sync_keys.key_timestamp"},
			}},
		}
	}
	newer := func(column string) clause.Assignment {
		return clause.Assignment{
			Column: clause.Column{Name: column},
			Value:  gorm.Expr("IF(VALUES(key_timestamp) > key_timestamp, VALUES(" + column + "), " + column + ")"),
		}
	}
	return clause.OnConflict{
		Columns:   columns,
		DoUpdates: []clause.Assignment{newer("key_data"), newer("fingerprint"), newer("key_timestamp")},
	}
}

// GetAppStateSyncKey returns the sync key with an id, or nil when there is
// none.
func (s *deviceStore) GetAppStateSyncKey(ctx context.Context, id []byte) (*store.AppStateSyncKey, error) {
	var rows []appStateSyncKeyRow
	err := s.c.conn(ctx).Where("our_jid = ? AND key_id = ?", s.ourJID, id).Limit(1).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("get app state sync key %x: %w", id, err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	data, err := s.seal.open(rows[0].KeyData, kindAppStateSyncKey, hex.EncodeToString(id))
	if err != nil {
		return nil, err
	}
	return &store.AppStateSyncKey{Data: data, Fingerprint: rows[0].Fingerprint, Timestamp: rows[0].KeyTimestamp}, nil
}

// GetLatestAppStateSyncKeyID returns the id of the sync key with the newest
// timestamp, or nil when there is none. Among keys with the same timestamp
// the one with the highest id wins, an order sqlstore leaves undefined.
func (s *deviceStore) GetLatestAppStateSyncKeyID(ctx context.Context) ([]byte, error) {
	var rows []appStateSyncKeyRow
	err := s.c.conn(ctx).Select("key_id").Where("our_jid = ?", s.ourJID).
		Order("key_timestamp DESC, key_id DESC").Limit(1).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("get latest app state sync key: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return rows[0].KeyID, nil
}
