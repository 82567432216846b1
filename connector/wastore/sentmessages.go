package wastore

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"
	"gorm.io/gorm/clause"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
)

// retryLookupTimeout bounds the database read made for a retry receipt.
const retryLookupTimeout = 10 * time.Second

// PutSentMessage keeps a message we send so that a retry receipt for it can
// be handled after a restart, when whatsmeow's in-memory list of recent
// messages is gone. Store it before sending, under the id passed to
// SendMessage. Storing the same chat and id again replaces the message.
func (c *Container) PutSentMessage(ctx context.Context, ourJID, chat types.JID, id types.MessageID, msg *waE2E.Message) error {
	our, chatJID := ourJID.String(), chat.ToNonAD().String()
	raw, err := proto.Marshal(msg)
	if err != nil {
		return fmt.Errorf("encode sent message %s: %w", id, err)
	}
	seal := sealer{box: c.box, ourJID: our}
	row := sentMessageRow{
		OurJID:    our,
		ChatJID:   chatJID,
		MessageID: id,
		Message:   seal.seal(raw, kindSentMessage, chatJID, id),
		CreatedAt: time.Now().UTC(),
	}
	err = c.conn(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "our_jid"}, {Name: "chat_jid"}, {Name: "message_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"message", "created_at"}),
	}).Create(&row).Error
	if err != nil {
		return fmt.Errorf("put sent message %s: %w", id, err)
	}
	return nil
}

// GetSentMessage returns a message stored by PutSentMessage, or nil when
// there is none. chat may be given in either form, LID or phone number, when
// the LID map contains the other one, because retry receipts can name the
// chat in the other form.
func (c *Container) GetSentMessage(ctx context.Context, ourJID, chat types.JID, id types.MessageID) (*waE2E.Message, error) {
	our := ourJID.String()
	chats, err := c.lids.withAlternate(ctx, chat.ToNonAD())
	if err != nil {
		return nil, err
	}
	var rows []sentMessageRow
	err = c.conn(ctx).Where("our_jid = ? AND chat_jid IN ? AND message_id = ?", our, chats, id).
		Order("created_at DESC").Limit(1).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("get sent message %s: %w", id, err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	seal := sealer{box: c.box, ourJID: our}
	raw, err := seal.open(rows[0].Message, kindSentMessage, rows[0].ChatJID, id)
	if err != nil {
		return nil, err
	}
	var msg waE2E.Message
	if err := proto.Unmarshal(raw, &msg); err != nil {
		return nil, fmt.Errorf("decode sent message %s: %w", id, err)
	}
	return &msg, nil
}

// PruneSentMessages deletes sent messages stored before a time, for example
// seven days ago, and returns how many it deleted. A retry receipt for a
// deleted message then finds nothing.
func (c *Container) PruneSentMessages(ctx context.Context, before time.Time) (int64, error) {
	res := c.conn(ctx).Where("created_at < ?", before.UTC()).Delete(&sentMessageRow{})
	if res.Error != nil {
		return 0, fmt.Errorf("prune sent messages: %w", res.Error)
	}
	return res.RowsAffected, nil
}

// MessageForRetry returns a function for whatsmeow.Client.GetMessageForRetry
// of the device ourJID. It reads the message from the store and logs a
// failed read, because whatsmeow's callback has no error result.
func (c *Container) MessageForRetry(ourJID types.JID) func(requester, to types.JID, id types.MessageID) *waE2E.Message {
	return func(requester, to types.JID, id types.MessageID) *waE2E.Message {
		ctx, cancel := context.WithTimeout(context.Background(), retryLookupTimeout)
		defer cancel()
		msg, err := c.GetSentMessage(ctx, ourJID, to, id)
		if err != nil {
			c.log.Error("Failed to read sent message for a retry receipt",
				"wa_jid", ourJID.String(), "wa_message_id", id, "requester", requester.String(), "error", err)
			return nil
		}
		return msg
	}
}
