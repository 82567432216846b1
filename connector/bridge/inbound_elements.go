package bridge

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/wabridge/b24wa/connector"
)

// prepareIn builds the MESSAGES elements of a delivery: one, or for a read
// receipt one per Bitrix24 message. No elements and a nil error mean there
// is nothing to send (a receipt for messages Bitrix24 never saw).
func (b *Bridge) prepareIn(ctx context.Context, d connector.Delivery) (pendingIn, []any, error) {
	it := pendingIn{d: d}
	p, err := decodeIn(&d)
	if err != nil {
		return it, nil, err
	}
	chat, err := b.chatByID(ctx, p.ChatID)
	if err != nil {
		return it, nil, err
	}
	it.p, it.chat = p, chat

	user := map[string]any{"id": chat.PersonID}
	switch d.Kind {
	case kindMessage:
		msg := map[string]any{"id": p.WaID, "date": p.Date, "text": p.Text}
		if len(p.Files) > 0 {
			msg["files"] = p.Files
		}
		user := userBlock(chat)
		if p.Picture != nil {
			user["picture"] = map[string]any{"url": p.Picture.URL}
		}
		return it, []any{map[string]any{"user": user, "message": msg, "chat": chatBlock(chat)}}, nil
	case kindUpdate:
		msg := map[string]any{"id": p.TargetID, "text": p.Text}
		if len(p.Files) > 0 {
			msg["files"] = p.Files
		}
		return it, []any{map[string]any{"user": user, "message": msg, "chat": map[string]any{"id": chat.PersonID}}}, nil
	case kindDelete:
		msg := map[string]any{"id": p.TargetID}
		return it, []any{map[string]any{"user": user, "message": msg, "chat": map[string]any{"id": chat.PersonID}}}, nil
	case kindRead:
		elems, err := b.readElements(ctx, d.LineID, chat, p.ReadIDs)
		return it, elems, err
	}
	return it, nil, fmt.Errorf("unknown inbound kind %q", d.Kind)
}

// readElements maps the WhatsApp ids the customer read to the operator
// messages in Bitrix24, one element per Bitrix24 message.
func (b *Bridge) readElements(ctx context.Context, lineID uint64, chat *connector.Chat, ids []string) ([]any, error) {
	var links []connector.MessageLink
	err := b.db.WithContext(ctx).Where("line_id = ? AND direction = ? AND wa_message_id IN ? AND b24_message_id <> ''",
		lineID, dirOut, ids).Order("id").Find(&links).Error
	if err != nil {
		return nil, fmt.Errorf("look up read messages: %w", err)
	}
	byMessage := map[string][]string{}
	var order []connector.MessageLink
	for _, l := range links {
		if _, ok := byMessage[l.B24MessageID]; !ok {
			order = append(order, l)
		}
		byMessage[l.B24MessageID] = append(byMessage[l.B24MessageID], l.WaMessageID)
	}
	if len(order) == 0 {
		return nil, nil
	}
	elems := make([]any, 0, len(order))
	for _, l := range order {
		elems = append(elems, map[string]any{
			"im":      map[string]any{"chat_id": l.B24ChatID, "message_id": l.B24MessageID},
			"message": map[string]any{"id": byMessage[l.B24MessageID]},
			"chat":    map[string]any{"id": chat.PersonID},
		})
	}
	return elems, nil
}

// elementResult is one element of DATA.RESULT of send, update and delete.
type elementResult struct {
	Success flexBool        `json:"SUCCESS"`
	Errors  json.RawMessage `json:"ERRORS"`
	User    flexString      `json:"user"`
	Session struct {
		ID     flexString `json:"ID"`
		ChatID flexString `json:"CHAT_ID"`
	} `json:"session"`
}

func decodeElements(raw json.RawMessage) []elementResult {
	var body struct {
		Data struct {
			Result []elementResult `json:"RESULT"`
		} `json:"DATA"`
	}
	_ = json.Unmarshal(raw, &body)
	return body.Data.Result
}

// settleElement checks one element's own SUCCESS, because Bitrix24 reports
// success for the call even when single messages failed.
func (b *Bridge) settleElement(ctx context.Context, line *connector.Line, it pendingIn, results []elementResult, i int) {
	if i >= len(results) || !results[i].Success.value {
		cause := fmt.Errorf("bitrix24 rejected message %s", it.p.WaID)
		if i < len(results) && len(results[i].Errors) > 0 {
			cause = fmt.Errorf("%w: %s", cause, truncate(string(results[i].Errors), 500))
		} else if i >= len(results) {
			cause = fmt.Errorf("%w: no result for the message", cause)
		}
		if it.d.Attempts+1 >= b.opts.MaxAttempts {
			b.settle(ctx, line, it.d, b.fail(ctx, &it.d, cause))
			return
		}
		b.log.WarnContext(ctx, "Bitrix24 rejected a message, will retry", "line_id", line.ID,
			"wa_message_id", it.p.WaID, "error", cause)
		b.settle(ctx, line, it.d, b.retry(ctx, &it.d, cause, b.backoff(it.d.Attempts), true))
		return
	}
	b.settle(ctx, line, it.d, b.recordSent(ctx, line, it, results[i]))
}

// recordSent marks the delivery done and stores the dialog ids Bitrix24
// returned and the message link, in one transaction, so success is recorded
// before the worker moves on and a done delivery is never sent again.
func (b *Bridge) recordSent(ctx context.Context, line *connector.Line, it pendingIn, r elementResult) error {
	now := b.now()
	return b.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&connector.Delivery{}).Where("id = ? AND locked_by = ?", it.d.ID, it.d.LockedBy).
			Updates(map[string]any{
				"state": connector.DeliveryDone, "done_at": now, "locked_by": "", "locked_until": nil,
				"attempts": it.d.Attempts + 1, "last_error": nil, "remote_id": r.Session.ChatID.value, "updated_at": now,
			})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errLockLost
		}
		if it.d.Kind != kindMessage {
			return nil
		}
		if err := updateChatIDs(tx, it.chat, it.p.Picture, r, now); err != nil {
			return err
		}
		link := connector.MessageLink{
			LineID: line.ID, ChatID: it.chat.ID, Direction: dirIn, WaMessageID: it.p.WaID,
			B24ChatID: firstOf(r.Session.ChatID.value, it.chat.B24ChatID), TextExcerpt: truncate(it.p.Excerpt, 255),
			SentAt: time.Unix(it.p.Date, 0).UTC(),
		}
		return tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&link).Error
	})
}

// updateChatIDs stores the dialog ids Bitrix24 returned and the id of the
// profile picture the message carried.
func updateChatIDs(tx *gorm.DB, chat *connector.Chat, picture *inPicture, r elementResult, now time.Time) error {
	changes := map[string]any{}
	if picture != nil && picture.ID != chat.AvatarID {
		changes["avatar_id"] = picture.ID
	}
	if v := r.Session.ChatID.value; v != "" && v != chat.B24ChatID {
		changes["b24_chat_id"] = v
	}
	if v := r.Session.ID.value; v != "" && v != chat.B24SessionID {
		changes["b24_session_id"] = v
	}
	if v := r.User.value; v != "" && v != chat.B24UserID {
		changes["b24_user_id"] = v
	}
	if len(changes) == 0 {
		return nil
	}
	changes["updated_at"] = now
	return tx.Model(&connector.Chat{}).Where("id = ?", chat.ID).Updates(changes).Error
}

// flexBool decodes the forms a PHP boolean takes in JSON.
type flexBool struct{ set, value bool }

func (f *flexBool) UnmarshalJSON(data []byte) error {
	s := strings.Trim(string(data), `"`)
	f.set = s != "null"
	f.value = s == "true" || s == "1" || strings.EqualFold(s, "Y")
	return nil
}

// flexString decodes an id sent as a number or a string.
type flexString struct{ value string }

func (f *flexString) UnmarshalJSON(data []byte) error {
	s := string(data)
	if s == "null" {
		return nil
	}
	f.value = strings.Trim(s, `"`)
	return nil
}
