package bridge

import (
	"context"
	"fmt"

	"go.mau.fi/whatsmeow/types"
	"gorm.io/gorm/clause"

	"github.com/wabridge/b24wa/connector"
	"github.com/wabridge/b24wa/connector/wa"
)

// peer is the customer's address in one WhatsApp event: the chat JID and
// whatever alternative address came with it.
type peer struct {
	chat     types.JID // the chat as the event names it
	alt      types.JID // SenderAlt or RecipientAlt, may be empty
	pushName string    // empty for messages the business sent
}

// resolveChat returns the chats row of the customer, creating it on first
// contact. A customer keeps one person id, and so one Open Lines dialog,
// whether WhatsApp addresses them by phone number or by hidden-number LID.
// The row is found by either address, and the other is filled in when it
// becomes known (from the event or from the session's LID mapping).
func (b *Bridge) resolveChat(ctx context.Context, sess wa.Session, line *connector.Line, p peer) (*connector.Chat, error) {
	if p.chat.Server == types.GroupServer {
		return b.upsertChat(ctx, line, "g:"+p.chat.User, p, types.JID{}, types.JID{})
	}
	pn, lid := splitAddresses(p.chat.ToNonAD(), p.alt.ToNonAD())
	if pn.IsEmpty() && !lid.IsEmpty() && sess != nil {
		if found, err := sess.PNForLID(ctx, lid); err == nil && !found.IsEmpty() {
			pn = found.ToNonAD()
		}
	}

	chat, err := b.findChat(ctx, line.ID, pn, lid)
	if err != nil {
		return nil, err
	}
	if chat != nil {
		return chat, b.refreshChat(ctx, chat, p, pn, lid)
	}
	person := "wa:" + pn.User
	if pn.IsEmpty() {
		person = "lid:" + lid.User
	}
	return b.upsertChat(ctx, line, person, p, pn, lid)
}

// splitAddresses sorts two JIDs into the phone-number one and the LID one.
func splitAddresses(a, c types.JID) (pn, lid types.JID) {
	for _, j := range []types.JID{a, c} {
		switch j.Server {
		case types.DefaultUserServer:
			pn = j
		case types.HiddenUserServer:
			lid = j
		}
	}
	return pn, lid
}

// findChat looks the customer up by LID, then by phone number.
func (b *Bridge) findChat(ctx context.Context, lineID uint64, pn, lid types.JID) (*connector.Chat, error) {
	db := b.db.WithContext(ctx)
	for _, q := range []struct {
		col string
		jid types.JID
	}{{"lid_jid", lid}, {"pn_jid", pn}} {
		if q.jid.IsEmpty() {
			continue
		}
		var chats []connector.Chat
		if err := db.Where("line_id = ? AND "+q.col+" = ?", lineID, q.jid.String()).Order("id").Limit(1).Find(&chats).Error; err != nil {
			return nil, fmt.Errorf("look up chat by %s: %w", q.col, err)
		}
		if len(chats) > 0 {
			return &chats[0], nil
		}
	}
	return nil, nil
}

// refreshChat fills in addresses and names the stored row lacks.
func (b *Bridge) refreshChat(ctx context.Context, chat *connector.Chat, p peer, pn, lid types.JID) error {
	changes := map[string]any{}
	if !pn.IsEmpty() && chat.PnJID == "" {
		chat.PnJID, chat.Phone = pn.String(), "+"+pn.User
		changes["pn_jid"], changes["phone"] = chat.PnJID, chat.Phone
	}
	if !lid.IsEmpty() && chat.LidJID == "" {
		chat.LidJID = lid.String()
		changes["lid_jid"] = chat.LidJID
	}
	if p.pushName != "" && p.pushName != chat.PushName {
		chat.PushName = truncate(p.pushName, 255)
		changes["push_name"] = chat.PushName
	}
	if jid := p.chat.ToNonAD().String(); jid != chat.WaChatJID {
		chat.WaChatJID = jid
		changes["wa_chat_jid"] = jid
	}
	if len(changes) == 0 {
		return nil
	}
	changes["updated_at"] = b.now()
	if err := b.db.WithContext(ctx).Model(&connector.Chat{}).Where("id = ?", chat.ID).Updates(changes).Error; err != nil {
		return fmt.Errorf("update chat %d: %w", chat.ID, err)
	}
	if _, ok := changes["pn_jid"]; ok {
		b.log.InfoContext(ctx, "Customer phone number learnt", "line_id", chat.LineID, "chat_id", chat.ID)
	}
	return nil
}

// upsertChat creates the chat row, or loads the one a concurrent event
// created with the same person id.
func (b *Bridge) upsertChat(ctx context.Context, line *connector.Line, person string, p peer, pn, lid types.JID) (*connector.Chat, error) {
	now := b.now()
	chat := &connector.Chat{
		LineID:    line.ID,
		PersonID:  person,
		WaChatJID: p.chat.ToNonAD().String(),
		PushName:  truncate(p.pushName, 255),
		IsGroup:   p.chat.Server == types.GroupServer,
		CreatedAt: now,
		UpdatedAt: now,
	}
	if !pn.IsEmpty() {
		chat.PnJID, chat.Phone = pn.String(), "+"+pn.User
	}
	if !lid.IsEmpty() {
		chat.LidJID = lid.String()
	}
	db := b.db.WithContext(ctx)
	if err := db.Clauses(clause.OnConflict{DoNothing: true}).Create(chat).Error; err != nil {
		return nil, fmt.Errorf("create chat %s: %w", person, err)
	}
	var stored connector.Chat
	if err := db.Where("line_id = ? AND person_id = ?", line.ID, person).Take(&stored).Error; err != nil {
		return nil, fmt.Errorf("load chat %s: %w", person, err)
	}
	if stored.ID != chat.ID || chat.ID == 0 {
		return &stored, b.refreshChat(ctx, &stored, p, pn, lid)
	}
	return &stored, nil
}

// chatByID loads a chats row.
func (b *Bridge) chatByID(ctx context.Context, id uint64) (*connector.Chat, error) {
	var chat connector.Chat
	if err := b.db.WithContext(ctx).Where("id = ?", id).Take(&chat).Error; err != nil {
		return nil, fmt.Errorf("load chat %d: %w", id, err)
	}
	return &chat, nil
}

// chatByPerson loads the chat of a line by the chat.id Bitrix24 sends back.
func (b *Bridge) chatByPerson(ctx context.Context, lineID uint64, person string) (*connector.Chat, error) {
	var chat connector.Chat
	err := b.db.WithContext(ctx).Where("line_id = ? AND person_id = ?", lineID, person).Take(&chat).Error
	if isNotFound(err) {
		return nil, fmt.Errorf("line %d chat %q: %w", lineID, person, ErrChatNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("load chat %q: %w", person, err)
	}
	return &chat, nil
}
