package wastore

import (
	"context"
	"fmt"
	"slices"

	"gorm.io/gorm/clause"

	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
)

// contactBatch is the number of contacts upserted per statement.
const contactBatch = 300

// PutPushName stores the push name of a user. It returns whether the name
// changed and the previous name when it did.
func (s *deviceStore) PutPushName(ctx context.Context, user types.JID, pushName string) (bool, string, error) {
	return s.putContactField(ctx, user, "push_name", pushName,
		func(c *types.ContactInfo) *string { return &c.PushName })
}

// PutBusinessName stores the verified business name of a user, returning
// the same as PutPushName.
func (s *deviceStore) PutBusinessName(ctx context.Context, user types.JID, businessName string) (bool, string, error) {
	return s.putContactField(ctx, user, "business_name", businessName,
		func(c *types.ContactInfo) *string { return &c.BusinessName })
}

func (s *deviceStore) putContactField(ctx context.Context, user types.JID, column, value string, field func(*types.ContactInfo) *string) (bool, string, error) {
	s.contactMu.Lock()
	defer s.contactMu.Unlock()

	cached, err := s.getContact(ctx, user)
	if err != nil {
		return false, "", err
	}
	current := field(cached)
	if *current == value {
		return false, "", nil
	}
	row := map[string]any{"our_jid": s.ourJID, "their_jid": jidString(user), column: value}
	err = s.c.conn(ctx).Model(&contactRow{}).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "our_jid"}, {Name: "their_jid"}},
		DoUpdates: clause.AssignmentColumns([]string{column}),
	}).Create(row).Error
	if err != nil {
		return false, "", fmt.Errorf("put %s of %s: %w", column, user, err)
	}
	previous := *current
	*current = value
	cached.Found = true
	return true, previous, nil
}

// PutContactName stores the names from the phone's address book. The
// parameters are in the order whatsmeow's sqlstore and its callers use:
// first name, then full name.
func (s *deviceStore) PutContactName(ctx context.Context, user types.JID, firstName, fullName string) error {
	s.contactMu.Lock()
	defer s.contactMu.Unlock()

	cached, err := s.getContact(ctx, user)
	if err != nil {
		return err
	}
	if cached.FirstName == firstName && cached.FullName == fullName {
		return nil
	}
	row := contactRow{OurJID: s.ourJID, TheirJID: jidString(user), FirstName: &firstName, FullName: &fullName}
	err = s.c.conn(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "our_jid"}, {Name: "their_jid"}},
		DoUpdates: clause.AssignmentColumns([]string{"first_name", "full_name"}),
	}).Select("our_jid", "their_jid", "first_name", "full_name").Create(&row).Error
	if err != nil {
		return fmt.Errorf("put contact name of %s: %w", user, err)
	}
	cached.FirstName = firstName
	cached.FullName = fullName
	cached.Found = true
	return nil
}

// PutAllContactNames stores the names of many contacts in one transaction,
// keeping the first entry of a JID listed twice, and clears the contact
// cache.
func (s *deviceStore) PutAllContactNames(ctx context.Context, contacts []store.ContactEntry) error {
	if len(contacts) == 0 {
		return nil
	}
	rows := make([]contactRow, 0, len(contacts))
	seen := make(map[types.JID]struct{}, len(contacts))
	for _, contact := range contacts {
		if _, dup := seen[contact.JID]; dup {
			continue
		}
		seen[contact.JID] = struct{}{}
		rows = append(rows, contactRow{OurJID: s.ourJID, TheirJID: jidString(contact.JID), FirstName: &contact.FirstName, FullName: &contact.FullName})
	}
	if len(rows) != len(contacts) {
		s.c.log.WarnContext(ctx, "Duplicate contacts in a contact name batch", "wa_jid", s.ourJID, "duplicates", len(contacts)-len(rows))
	}
	err := s.upsertContacts(ctx, rows, "first_name", "full_name")
	if err != nil {
		return fmt.Errorf("put %d contact names: %w", len(rows), err)
	}
	s.contactMu.Lock()
	s.contacts = make(map[types.JID]*types.ContactInfo)
	s.contactMu.Unlock()
	return nil
}

// PutManyRedactedPhones stores the redacted phone numbers ("+7∙∙∙∙∙∙∙∙89")
// that groups show for LID members, keeping the first entry of a JID listed
// twice.
func (s *deviceStore) PutManyRedactedPhones(ctx context.Context, entries []store.RedactedPhoneEntry) error {
	if len(entries) == 0 {
		return nil
	}
	rows := make([]contactRow, 0, len(entries))
	unique := make([]store.RedactedPhoneEntry, 0, len(entries))
	seen := make(map[types.JID]struct{}, len(entries))
	for _, entry := range entries {
		if _, dup := seen[entry.JID]; dup {
			continue
		}
		seen[entry.JID] = struct{}{}
		unique = append(unique, entry)
		rows = append(rows, contactRow{OurJID: s.ourJID, TheirJID: jidString(entry.JID), RedactedPhone: &entry.RedactedPhone})
	}
	if len(rows) != len(entries) {
		s.c.log.WarnContext(ctx, "Duplicate contacts in a redacted phone batch", "wa_jid", s.ourJID, "duplicates", len(entries)-len(rows))
	}
	if err := s.upsertContacts(ctx, rows, "redacted_phone"); err != nil {
		return fmt.Errorf("put %d redacted phones: %w", len(rows), err)
	}
	s.contactMu.Lock()
	for _, entry := range unique {
		if cached, ok := s.contacts[entry.JID]; !ok || cached.RedactedPhone != entry.RedactedPhone {
			delete(s.contacts, entry.JID)
		}
	}
	s.contactMu.Unlock()
	return nil
}

func (s *deviceStore) upsertContacts(ctx context.Context, rows []contactRow, columns ...string) error {
	selected := append([]string{"our_jid", "their_jid"}, columns...)
	return s.c.inTx(ctx, func(ctx context.Context) error {
		for chunk := range slices.Chunk(rows, contactBatch) {
			err := s.c.conn(ctx).Clauses(clause.OnConflict{
				Columns:   []clause.Column{{Name: "our_jid"}, {Name: "their_jid"}},
				DoUpdates: clause.AssignmentColumns(columns),
			}).Select(selected).Create(&chunk).Error
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// GetContact returns what is stored about a user. Found is false when
// nothing is.
func (s *deviceStore) GetContact(ctx context.Context, user types.JID) (types.ContactInfo, error) {
	s.contactMu.Lock()
	defer s.contactMu.Unlock()
	info, err := s.getContact(ctx, user)
	if err != nil {
		return types.ContactInfo{}, err
	}
	return *info, nil
}

// getContact returns the cached contact, reading it on a miss. The caller
// holds contactMu.
func (s *deviceStore) getContact(ctx context.Context, user types.JID) (*types.ContactInfo, error) {
	if cached, ok := s.contacts[user]; ok {
		return cached, nil
	}
	var rows []contactRow
	err := s.c.conn(ctx).Where("our_jid = ? AND their_jid = ?", s.ourJID, jidString(user)).Limit(1).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("get contact %s: %w", user, err)
	}
	info := &types.ContactInfo{}
	if len(rows) > 0 {
		*info = contactInfo(&rows[0])
	}
	s.contacts[user] = info
	return info, nil
}

// GetAllContacts returns every stored contact of the device.
func (s *deviceStore) GetAllContacts(ctx context.Context) (map[types.JID]types.ContactInfo, error) {
	s.contactMu.Lock()
	defer s.contactMu.Unlock()
	var rows []contactRow
	if err := s.c.conn(ctx).Where("our_jid = ?", s.ourJID).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list contacts: %w", err)
	}
	result := make(map[types.JID]types.ContactInfo, len(rows))
	for i := range rows {
		jid, err := types.ParseJID(rows[i].TheirJID)
		if err != nil {
			return nil, fmt.Errorf("parse contact JID %q: %w", rows[i].TheirJID, err)
		}
		info := contactInfo(&rows[i])
		result[jid] = info
		s.contacts[jid] = &info
	}
	return result, nil
}

func contactInfo(row *contactRow) types.ContactInfo {
	return types.ContactInfo{
		Found:         true,
		FirstName:     deref(row.FirstName),
		FullName:      deref(row.FullName),
		PushName:      deref(row.PushName),
		BusinessName:  deref(row.BusinessName),
		RedactedPhone: deref(row.RedactedPhone),
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
