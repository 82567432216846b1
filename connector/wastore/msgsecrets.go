package wastore

import (
	"context"
	"fmt"

	"gorm.io/gorm/clause"

	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
)

// PutMessageSecrets stores the secrets of several messages in one
// transaction. A secret already stored for a message is kept.
func (s *deviceStore) PutMessageSecrets(ctx context.Context, inserts []store.MessageSecretInsert) error {
	if len(inserts) == 0 {
		return nil
	}
	err := s.c.inTx(ctx, func(ctx context.Context) error {
		for _, insert := range inserts {
			if err := s.PutMessageSecret(ctx, insert.Chat, insert.Sender, insert.ID, insert.Secret); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("put %d message secrets: %w", len(inserts), err)
	}
	return nil
}

// PutMessageSecret stores the secret of a message, which whatsmeow needs to
// decrypt later reactions, poll votes and edits of it. A secret already
// stored for the message is kept.
func (s *deviceStore) PutMessageSecret(ctx context.Context, chat, sender types.JID, id types.MessageID, secret []byte) error {
	chatJID, senderJID := chat.ToNonAD().String(), sender.ToNonAD().String()
	row := messageSecretRow{
		OurJID:    s.ourJID,
		ChatJID:   chatJID,
		SenderJID: senderJID,
		MessageID: id,
		Secret:    s.seal.seal(secret, kindMessageSecret, chatJID, senderJID, id),
	}
	err := s.c.conn(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error
	if err != nil {
		return fmt.Errorf("put secret of message %s: %w", id, err)
	}
	return nil
}

// GetMessageSecret returns the secret of a message and the sender it was
// stored under. Chat and sender also match their other form, LID or phone
// number, through the LID map. It returns nil and an empty JID when no secret
// is stored.
func (s *deviceStore) GetMessageSecret(ctx context.Context, chat, sender types.JID, id types.MessageID) ([]byte, types.JID, error) {
	chats, err := s.c.lids.withAlternate(ctx, chat.ToNonAD())
	if err != nil {
		return nil, types.EmptyJID, err
	}
	senders, err := s.c.lids.withAlternate(ctx, sender.ToNonAD())
	if err != nil {
		return nil, types.EmptyJID, err
	}
	var rows []messageSecretRow
	err = s.c.conn(ctx).
		Where("our_jid = ? AND chat_jid IN ? AND sender_jid IN ? AND message_id = ?", s.ourJID, chats, senders, id).
		Order("chat_jid, sender_jid").Limit(1).Find(&rows).Error
	if err != nil {
		return nil, types.EmptyJID, fmt.Errorf("get secret of message %s: %w", id, err)
	}
	if len(rows) == 0 {
		return nil, types.EmptyJID, nil
	}
	row := rows[0]
	secret, err := s.seal.open(row.Secret, kindMessageSecret, row.ChatJID, row.SenderJID, row.MessageID)
	if err != nil {
		return nil, types.EmptyJID, err
	}
	realSender, err := types.ParseJID(row.SenderJID)
	if err != nil {
		return nil, types.EmptyJID, fmt.Errorf("parse sender of message %s: %w", id, err)
	}
	return secret, realSender, nil
}
