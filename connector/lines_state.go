package connector

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// SetState records a line's device state, the reason for it and, for a
// temporary ban, when it ends (nil otherwise). state_since moves only when
// the state changes, so it shows how long the line has been in this state.
func (s *LineStore) SetState(ctx context.Context, id uint64, state, reason string, until *time.Time) error {
	now := s.now()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Two statements, because MySQL evaluates the assignments of one
		// UPDATE left to right and a CASE on state would see the new value.
		err := tx.Model(&Line{}).Where("id = ? AND state <> ?", id, state).
			Update("state_since", now).Error
		if err != nil {
			return err
		}
		return tx.Model(&Line{}).Where("id = ?", id).Updates(map[string]any{
			"state":        state,
			"state_reason": truncate(reason, 255),
			"state_until":  utcPtr(until),
			"updated_at":   now,
		}).Error
	})
	if err != nil {
		return fmt.Errorf("set state of line %d to %s: %w", id, state, err)
	}
	return nil
}

// SetLinked records the device linked to a line: its full device JID, the
// number (digits only) and the WhatsApp profile name. It clears
// b24_detached_at, because pairing again is how an owner takes the line back.
func (s *LineStore) SetLinked(ctx context.Context, id uint64, jid, phone, pushName string) error {
	return s.update(ctx, id, map[string]any{
		"wa_jid":          jid,
		"phone":           phone,
		"push_name":       truncate(pushName, 255),
		"b24_detached_at": nil,
	})
}

// SetPushName records the WhatsApp profile name of the line's number. The
// open device session gets it too when pairing did not know it yet.
func (s *LineStore) SetPushName(ctx context.Context, id uint64, pushName string) error {
	pushName = truncate(pushName, 255)
	if err := s.update(ctx, id, map[string]any{"push_name": pushName}); err != nil {
		return err
	}
	err := s.db.WithContext(ctx).Model(&DeviceSession{}).
		Where("line_id = ? AND logged_out_at IS NULL AND push_name = ''", id).
		Update("push_name", pushName).Error
	if err != nil {
		return fmt.Errorf("set push name of the device session of line %d: %w", id, err)
	}
	return nil
}

// ClearLinked clears a line's device JID after a logout. The number and
// profile name stay, so pages can show which number to scan again.
func (s *LineStore) ClearLinked(ctx context.Context, id uint64) error {
	return s.update(ctx, id, map[string]any{"wa_jid": ""})
}

// SetB24Active records whether the line is activated in Bitrix24
// (imconnector.activate ACTIVE=1 and connector.data.set both succeeded).
func (s *LineStore) SetB24Active(ctx context.Context, id uint64, active bool) error {
	return s.update(ctx, id, map[string]any{"b24_active": active})
}

// SetB24Detached records that the connector was disconnected from the open
// line in Contact Center (at is non-nil) or activated again (at is nil).
// Detaching also clears b24_active.
func (s *LineStore) SetB24Detached(ctx context.Context, id uint64, at *time.Time) error {
	changes := map[string]any{"b24_detached_at": utcPtr(at)}
	if at != nil {
		changes["b24_active"] = false
	}
	return s.update(ctx, id, changes)
}

// TouchPhoneSeen records that the line's phone was online at at. Callers
// throttle it (the manager writes at most once a minute per line); it never
// moves the time backwards.
func (s *LineStore) TouchPhoneSeen(ctx context.Context, id uint64, at time.Time) error {
	at = at.UTC()
	err := s.db.WithContext(ctx).Model(&Line{}).
		Where("id = ? AND (phone_seen_at IS NULL OR phone_seen_at < ?)", id, at).
		Update("phone_seen_at", at).Error
	if err != nil {
		return fmt.Errorf("touch phone_seen_at of line %d: %w", id, err)
	}
	return nil
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
