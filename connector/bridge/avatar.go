package bridge

import (
	"context"
	"fmt"

	"go.mau.fi/whatsmeow/types"

	"github.com/wabridge/b24wa/connector"
	"github.com/wabridge/b24wa/connector/wa"
)

// avatar returns the customer's profile picture to send with a new message,
// or nil when there is none to send. A chat's picture is looked up on its
// first message and after that at most once per AvatarInterval. It is
// re-hosted and sent only when its WhatsApp id differs from the one Bitrix24
// last received: Bitrix24 compares an MD5 of the user object and downloads
// the picture again when it changed, and a re-hosted URL expires after
// MediaTTL, so the URL goes with that one message only. Failures are logged
// and return nil, so a picture never holds back or fails a message.
//
// NOTE: the lookup runs in the WhatsApp event handler and holds up the
// session's next event for up to AvatarTimeout. A failed lookup counts as a
// check, so it is repeated only after AvatarInterval.
func (b *Bridge) avatar(ctx context.Context, sess wa.Session, line *connector.Line, chat *connector.Chat) *inPicture {
	if sess == nil {
		return nil
	}
	jid, ok := avatarJID(chat)
	if !ok {
		return nil
	}
	due, err := b.claimAvatarCheck(ctx, chat)
	if err != nil {
		b.log.WarnContext(ctx, "Claim profile picture check failed", "line_id", line.ID, "chat_id", chat.ID, "error", err)
		return nil
	}
	if !due {
		return nil
	}

	lookupCtx, cancel := context.WithTimeout(ctx, b.opts.AvatarTimeout)
	defer cancel()
	picture, err := sess.ProfilePicture(lookupCtx, jid)
	if err != nil {
		b.log.WarnContext(ctx, "Fetch profile picture failed", "line_id", line.ID, "chat_id", chat.ID, "error", err)
		return nil
	}
	if picture == nil {
		b.log.DebugContext(ctx, "Customer has no visible profile picture", "line_id", line.ID, "chat_id", chat.ID)
		b.forgetAvatar(ctx, line, chat)
		return nil
	}
	if picture.ID == chat.AvatarID {
		return nil
	}

	name := fileName("", "avatar", picture.MimeType)
	url, err := b.rehost(ctx, line.ID, name, picture.MimeType, picture.Data)
	if err != nil {
		b.log.WarnContext(ctx, "Re-host profile picture failed", "line_id", line.ID, "chat_id", chat.ID, "error", err)
		return nil
	}
	return &inPicture{URL: url, ID: truncate(picture.ID, 64)}
}

// avatarJID returns the address to look the picture up by: the phone
// number, else the LID, else the chat itself (a group).
func avatarJID(chat *connector.Chat) (types.JID, bool) {
	for _, raw := range []string{chat.PnJID, chat.LidJID, chat.WaChatJID} {
		if raw == "" {
			continue
		}
		if jid, err := types.ParseJID(raw); err == nil {
			return jid, true
		}
	}
	return types.JID{}, false
}

// claimAvatarCheck sets avatar_checked_at to now when the last check is
// older than AvatarInterval, and reports whether it did. The conditional
// update lets only one of several concurrent messages of a chat look the
// picture up.
func (b *Bridge) claimAvatarCheck(ctx context.Context, chat *connector.Chat) (bool, error) {
	now := b.now()
	res := b.db.WithContext(ctx).Model(&connector.Chat{}).
		Where("id = ? AND (avatar_checked_at IS NULL OR avatar_checked_at <= ?)", chat.ID, now.Add(-b.opts.AvatarInterval)).
		Update("avatar_checked_at", now)
	if res.Error != nil {
		return false, fmt.Errorf("update chat %d: %w", chat.ID, res.Error)
	}
	if res.RowsAffected == 0 {
		return false, nil
	}
	chat.AvatarCheckedAt = &now
	return true, nil
}

// forgetAvatar clears the stored picture id after the customer removed or
// hid the picture, so a picture set later is sent even if WhatsApp reuses
// an id.
// NOTE: Bitrix24 keeps showing the last picture it received, because
// imconnector.send.messages has no documented way to remove user.picture.
func (b *Bridge) forgetAvatar(ctx context.Context, line *connector.Line, chat *connector.Chat) {
	if chat.AvatarID == "" {
		return
	}
	err := b.db.WithContext(ctx).Model(&connector.Chat{}).Where("id = ?", chat.ID).Update("avatar_id", "").Error
	if err != nil {
		b.log.WarnContext(ctx, "Clear profile picture id failed", "line_id", line.ID, "chat_id", chat.ID, "error", err)
		return
	}
	chat.AvatarID = ""
}
