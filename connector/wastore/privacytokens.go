package wastore

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm/clause"

	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
)

// PutPrivacyTokens stores the trusted-contact tokens that users sent us,
// replacing older tokens of the same users. Timestamps are kept to the
// second. When a user is listed twice the later entry wins.
func (s *deviceStore) PutPrivacyTokens(ctx context.Context, tokens ...store.PrivacyToken) error {
	if len(tokens) == 0 {
		return nil
	}
	rows := make([]privacyTokenRow, len(tokens))
	for i, token := range tokens {
		user := token.User.ToNonAD().String()
		rows[i] = privacyTokenRow{
			OurJID:         s.ourJID,
			TheirJID:       user,
			Token:          s.seal.seal(token.Token, kindPrivacyToken, user),
			TokenTimestamp: token.Timestamp.Unix(),
		}
	}
	err := s.c.conn(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "our_jid"}, {Name: "their_jid"}},
		DoUpdates: clause.AssignmentColumns([]string{"token", "token_timestamp"}),
	}).Create(&rows).Error
	if err != nil {
		return fmt.Errorf("put %d privacy tokens: %w", len(tokens), err)
	}
	return nil
}

// GetPrivacyToken returns the newest token stored for a user under either
// of its forms, LID or phone number, or nil when there is none. The
// returned User is the requested JID without device, as in sqlstore.
func (s *deviceStore) GetPrivacyToken(ctx context.Context, user types.JID) (*store.PrivacyToken, error) {
	nonAD := user.ToNonAD()
	users, err := s.c.lids.withAlternate(ctx, nonAD)
	if err != nil {
		return nil, err
	}
	var rows []privacyTokenRow
	err = s.c.conn(ctx).Where("our_jid = ? AND their_jid IN ?", s.ourJID, users).
		Order("token_timestamp DESC, their_jid").Limit(1).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("get privacy token of %s: %w", user, err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	token, err := s.seal.open(rows[0].Token, kindPrivacyToken, rows[0].TheirJID)
	if err != nil {
		return nil, err
	}
	return &store.PrivacyToken{User: nonAD, Token: token, Timestamp: time.Unix(rows[0].TokenTimestamp, 0)}, nil
}
