package wastore

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"gorm.io/gorm/clause"

	"go.mau.fi/whatsmeow/types"
)

// queryChunk caps the number of values bound in one IN list or multi-row
// INSERT, well below SQLite's and MySQL's placeholder limits.
const queryChunk = 400

// GetSession returns the Signal session with an address, or nil when there
// is none.
func (s *deviceStore) GetSession(ctx context.Context, address string) ([]byte, error) {
	var rows []sessionRow
	err := s.c.conn(ctx).Where("our_jid = ? AND their_id = ?", s.ourJID, address).Limit(1).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("get session with %s: %w", address, err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return s.seal.open(rows[0].Session, kindSession, address)
}

// HasSession reports whether a session row exists for an address.
func (s *deviceStore) HasSession(ctx context.Context, address string) (bool, error) {
	var count int64
	err := s.c.conn(ctx).Model(&sessionRow{}).Where("our_jid = ? AND their_id = ?", s.ourJID, address).Count(&count).Error
	if err != nil {
		return false, fmt.Errorf("check session with %s: %w", address, err)
	}
	return count > 0, nil
}

// GetManySessions returns the sessions of the given addresses, with a nil
// value for each address without one, or nil for an empty list.
func (s *deviceStore) GetManySessions(ctx context.Context, addresses []string) (map[string][]byte, error) {
	if len(addresses) == 0 {
		return nil, nil
	}
	result := make(map[string][]byte, len(addresses))
	for _, address := range addresses {
		result[address] = nil
	}
	for chunk := range slices.Chunk(addresses, queryChunk) {
		var rows []sessionRow
		err := s.c.conn(ctx).Where("our_jid = ? AND their_id IN ?", s.ourJID, chunk).Find(&rows).Error
		if err != nil {
			return nil, fmt.Errorf("get %d sessions: %w", len(chunk), err)
		}
		for _, row := range rows {
			session, err := s.seal.open(row.Session, kindSession, row.TheirID)
			if err != nil {
				return nil, err
			}
			result[row.TheirID] = session
		}
	}
	return result, nil
}

// PutSession stores the session with an address, replacing an older one.
func (s *deviceStore) PutSession(ctx context.Context, address string, session []byte) error {
	return s.putSessions(ctx, []sessionRow{s.sessionRow(address, session)})
}

// PutManySessions stores several sessions in one transaction.
func (s *deviceStore) PutManySessions(ctx context.Context, sessions map[string][]byte) error {
	rows := make([]sessionRow, 0, len(sessions))
	for address, session := range sessions {
		rows = append(rows, s.sessionRow(address, session))
	}
	return s.c.inTx(ctx, func(ctx context.Context) error {
		for chunk := range slices.Chunk(rows, queryChunk) {
			if err := s.putSessions(ctx, chunk); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *deviceStore) sessionRow(address string, session []byte) sessionRow {
	return sessionRow{OurJID: s.ourJID, TheirID: address, Session: s.seal.seal(session, kindSession, address)}
}

func (s *deviceStore) putSessions(ctx context.Context, rows []sessionRow) error {
	if len(rows) == 0 {
		return nil
	}
	err := s.c.conn(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "our_jid"}, {Name: "their_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"session"}),
	}).Create(&rows).Error
	if err != nil {
		return fmt.Errorf("put %d sessions: %w", len(rows), err)
	}
	return nil
}

// DeleteAllSessions deletes the sessions with every device of a Signal user.
func (s *deviceStore) DeleteAllSessions(ctx context.Context, phone string) error {
	if err := s.deleteByPrefix(ctx, "wa_sessions", "their_id", phone); err != nil {
		return fmt.Errorf("delete sessions of %s: %w", phone, err)
	}
	return nil
}

// DeleteSession deletes the session with one address.
func (s *deviceStore) DeleteSession(ctx context.Context, address string) error {
	err := s.c.conn(ctx).Where("our_jid = ? AND their_id = ?", s.ourJID, address).Delete(&sessionRow{}).Error
	if err != nil {
		return fmt.Errorf("delete session with %s: %w", address, err)
	}
	return nil
}

// MigratePNToLID moves the sessions, identity keys and sender keys of a
// phone-number user to the user's LID, overwriting what the LID already had,
// in one transaction. Like sqlstore it runs once per phone number for the
// life of the process, but unlike sqlstore a failed run is retried on the next
// call.
func (s *deviceStore) MigratePNToLID(ctx context.Context, pn, lid types.JID) error {
	pnUser, lidUser := pn.SignalAddressUser(), lid.SignalAddressUser()
	if !s.markMigrated(pnUser) {
		return nil
	}
	var moved migrationCounts
	err := s.c.inTx(ctx, func(ctx context.Context) error {
		var err error
		moved, err = s.migrateUser(ctx, pnUser, lidUser)
		return err
	})
	if err != nil {
		s.unmarkMigrated(pnUser)
		return fmt.Errorf("migrate Signal state from %s to %s: %w", pnUser, lidUser, err)
	}
	if moved.sessions+moved.identities+moved.senderKeys > 0 {
		s.c.log.InfoContext(ctx, "Moved Signal state from phone number to LID",
			"wa_jid", s.ourJID, "pn", pnUser, "lid", lidUser,
			"sessions", moved.sessions, "identities", moved.identities, "sender_keys", moved.senderKeys)
	}
	return nil
}

func (s *deviceStore) markMigrated(user string) bool {
	s.migratedMu.Lock()
	defer s.migratedMu.Unlock()
	if _, done := s.migrated[user]; done {
		return false
	}
	s.migrated[user] = struct{}{}
	return true
}

func (s *deviceStore) unmarkMigrated(user string) {
	s.migratedMu.Lock()
	delete(s.migrated, user)
	s.migratedMu.Unlock()
}

type migrationCounts struct{ sessions, identities, senderKeys int }

// migrateUser rewrites the rows of pnUser's addresses to lidUser's. The
// sealed values are opened and sealed again because their additional data
// names the address. The new address is the old one with every occurrence of
// pnUser replaced, as sqlstore's SQL replace() does.
func (s *deviceStore) migrateUser(ctx context.Context, pnUser, lidUser string) (migrationCounts, error) {
	var counts migrationCounts
	low, high := pnUser+":", pnUser+";"
	rename := func(address string) string { return strings.ReplaceAll(address, pnUser, lidUser) }

	var sessions []sessionRow
	if err := s.c.conn(ctx).Where("our_jid = ? AND their_id >= ? AND their_id < ?", s.ourJID, low, high).Find(&sessions).Error; err != nil {
		return counts, err
	}
	for i := range sessions {
		plain, err := s.seal.open(sessions[i].Session, kindSession, sessions[i].TheirID)
		if err != nil {
			return counts, err
		}
		sessions[i] = s.sessionRow(rename(sessions[i].TheirID), plain)
	}
	if err := s.putSessions(ctx, sessions); err != nil {
		return counts, err
	}
	if err := s.deleteByPrefix(ctx, "wa_sessions", "their_id", pnUser); err != nil {
		return counts, err
	}
	counts.sessions = len(sessions)

	identities, err := s.migrateIdentities(ctx, pnUser, rename)
	if err != nil {
		return counts, err
	}
	counts.identities = identities

	senderKeys, err := s.migrateSenderKeys(ctx, pnUser, rename)
	if err != nil {
		return counts, err
	}
	counts.senderKeys = senderKeys
	return counts, nil
}

func (s *deviceStore) migrateIdentities(ctx context.Context, pnUser string, rename func(string) string) (int, error) {
	var rows []identityRow
	err := s.c.conn(ctx).Where("our_jid = ? AND their_id >= ? AND their_id < ?", s.ourJID, pnUser+":", pnUser+";").Find(&rows).Error
	if err != nil {
		return 0, err
	}
	for _, row := range rows {
		key, err := s.seal.openKey32(row.Identity, kindIdentity, row.TheirID)
		if err != nil {
			return 0, err
		}
		if err := s.PutIdentity(ctx, rename(row.TheirID), *key); err != nil {
			return 0, err
		}
	}
	return len(rows), s.deleteByPrefix(ctx, "wa_identity_keys", "their_id", pnUser)
}

func (s *deviceStore) migrateSenderKeys(ctx context.Context, pnUser string, rename func(string) string) (int, error) {
	var rows []senderKeyRow
	err := s.c.conn(ctx).Where("our_jid = ? AND sender_id >= ? AND sender_id < ?", s.ourJID, pnUser+":", pnUser+";").Find(&rows).Error
	if err != nil {
		return 0, err
	}
	for _, row := range rows {
		key, err := s.seal.open(row.SenderKey, kindSenderKey, row.ChatID, row.SenderID)
		if err != nil {
			return 0, err
		}
		if err := s.PutSenderKey(ctx, row.ChatID, rename(row.SenderID), key); err != nil {
			return 0, err
		}
	}
	return len(rows), s.deleteByPrefix(ctx, "wa_sender_keys", "sender_id", pnUser)
}
