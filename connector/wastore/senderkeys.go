package wastore

import (
	"context"
	"fmt"

	"gorm.io/gorm/clause"
)

// PutSenderKey stores the Signal sender key of user in group, replacing an
// older one.
func (s *deviceStore) PutSenderKey(ctx context.Context, group, user string, session []byte) error {
	row := senderKeyRow{
		OurJID:    s.ourJID,
		ChatID:    group,
		SenderID:  user,
		SenderKey: s.seal.seal(session, kindSenderKey, group, user),
	}
	err := s.c.conn(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "our_jid"}, {Name: "chat_id"}, {Name: "sender_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"sender_key"}),
	}).Create(&row).Error
	if err != nil {
		return fmt.Errorf("put sender key of %s in %s: %w", user, group, err)
	}
	return nil
}

// GetSenderKey returns the sender key of user in group, or nil when there is
// none.
func (s *deviceStore) GetSenderKey(ctx context.Context, group, user string) ([]byte, error) {
	var rows []senderKeyRow
	err := s.c.conn(ctx).Where("our_jid = ? AND chat_id = ? AND sender_id = ?", s.ourJID, group, user).
		Limit(1).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("get sender key of %s in %s: %w", user, group, err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return s.seal.open(rows[0].SenderKey, kindSenderKey, group, user)
}
