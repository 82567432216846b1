package wastore

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm/clause"

	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
)

// PutMutedUntil stores when a chat's mute ends: the zero time for not muted
// and store.MutedForever for no end. Times are kept to the second.
func (s *deviceStore) PutMutedUntil(ctx context.Context, chat types.JID, mutedUntil time.Time) error {
	var value int64
	switch {
	case mutedUntil.Equal(store.MutedForever):
		value = -1
	case !mutedUntil.IsZero():
		value = mutedUntil.Unix()
	}
	return s.putChatSetting(ctx, chat, "muted_until", value)
}

// PutPinned stores whether a chat is pinned.
func (s *deviceStore) PutPinned(ctx context.Context, chat types.JID, pinned bool) error {
	return s.putChatSetting(ctx, chat, "pinned", pinned)
}

// PutArchived stores whether a chat is archived.
func (s *deviceStore) PutArchived(ctx context.Context, chat types.JID, archived bool) error {
	return s.putChatSetting(ctx, chat, "archived", archived)
}

func (s *deviceStore) putChatSetting(ctx context.Context, chat types.JID, column string, value any) error {
	row := map[string]any{"our_jid": s.ourJID, "chat_jid": jidString(chat), column: value}
	err := s.c.conn(ctx).Model(&chatSettingsRow{}).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "our_jid"}, {Name: "chat_jid"}},
		DoUpdates: clause.AssignmentColumns([]string{column}),
	}).Create(row).Error
	if err != nil {
		return fmt.Errorf("put %s of chat %s: %w", column, chat, err)
	}
	return nil
}

// GetChatSettings returns the stored settings of a chat. Found is false and
// the rest zero when there are none.
func (s *deviceStore) GetChatSettings(ctx context.Context, chat types.JID) (types.LocalChatSettings, error) {
	var settings types.LocalChatSettings
	var rows []chatSettingsRow
	err := s.c.conn(ctx).Where("our_jid = ? AND chat_jid = ?", s.ourJID, jidString(chat)).Limit(1).Find(&rows).Error
	if err != nil {
		return settings, fmt.Errorf("get settings of chat %s: %w", chat, err)
	}
	if len(rows) == 0 {
		return settings, nil
	}
	row := rows[0]
	settings.Found = true
	settings.Pinned = row.Pinned
	settings.Archived = row.Archived
	switch {
	case row.MutedUntil < 0:
		settings.MutedUntil = store.MutedForever
	case row.MutedUntil > 0:
		settings.MutedUntil = time.Unix(row.MutedUntil, 0)
	}
	return settings, nil
}
