package connector

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/internal/database"
)

// LineStore reads and writes the lines table and each line's device
// sessions. It is safe for concurrent use.
type LineStore struct {
	db  *gorm.DB
	now func() time.Time
}

// NewLineStore returns a store on db that stamps times with time.Now.
func NewLineStore(db *gorm.DB) *LineStore {
	return newLineStore(db, time.Now)
}

func newLineStore(db *gorm.DB, now func() time.Time) *LineStore {
	return &LineStore{db: db, now: func() time.Time { return now().UTC() }}
}

// Get returns the line with id, or ErrLineNotFound.
func (s *LineStore) Get(ctx context.Context, id uint64) (*Line, error) {
	var line Line
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&line).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fmt.Errorf("line %d: %w", id, ErrLineNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("load line %d: %w", id, err)
	}
	return &line, nil
}

// ByPortalLine returns the line of a portal by its Bitrix24 open line id
// (LINE), or ErrLineNotFound.
func (s *LineStore) ByPortalLine(ctx context.Context, portalID uint64, lineID string) (*Line, error) {
	var line Line
	err := s.db.WithContext(ctx).Where("portal_id = ? AND line_id = ?", portalID, lineID).Take(&line).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fmt.Errorf("portal %d open line %s: %w", portalID, lineID, ErrLineNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("load portal %d open line %s: %w", portalID, lineID, err)
	}
	return &line, nil
}

// Ensure returns the line of a portal's open line, creating it in state
// "new" when it does not exist. It is called every time the settings page
// opens a line, so a repeated call only updates a changed connector id or a
// non-empty name.
func (s *LineStore) Ensure(ctx context.Context, portalID uint64, lineID, connectorID, name string) (*Line, error) {
	line, err := s.ByPortalLine(ctx, portalID, lineID)
	if errors.Is(err, ErrLineNotFound) {
		line, err = s.create(ctx, portalID, lineID, connectorID, name)
	}
	if err != nil {
		return nil, err
	}

	changes := map[string]any{}
	if connectorID != "" && line.ConnectorID != connectorID {
		changes["connector_id"] = connectorID
		line.ConnectorID = connectorID
	}
	if name != "" && line.Name != name {
		changes["name"] = name
		line.Name = name
	}
	if len(changes) == 0 {
		return line, nil
	}
	if err := s.update(ctx, line.ID, changes); err != nil {
		return nil, err
	}
	return line, nil
}

// create inserts a new line. When a concurrent call inserted the same open
// line first, the unique key rejects this insert and the other row is
// returned.
func (s *LineStore) create(ctx context.Context, portalID uint64, lineID, connectorID, name string) (*Line, error) {
	now := s.now()
	line := &Line{
		PortalID:    portalID,
		LineID:      lineID,
		ConnectorID: connectorID,
		Name:        name,
		State:       StateNew,
		StateSince:  now,
		CreatedAt:   now,
		UpdatedAt:   now,
	}
	err := s.db.WithContext(ctx).Create(line).Error
	if database.IsUniqueViolation(err) {
		return s.ByPortalLine(ctx, portalID, lineID)
	}
	if err != nil {
		return nil, fmt.Errorf("create portal %d open line %s: %w", portalID, lineID, err)
	}
	return line, nil
}

// ListByPortal returns every line of a portal ordered by id.
func (s *LineStore) ListByPortal(ctx context.Context, portalID uint64) ([]Line, error) {
	var lines []Line
	err := s.db.WithContext(ctx).Where("portal_id = ?", portalID).Order("id").Find(&lines).Error
	if err != nil {
		return nil, fmt.Errorf("list lines of portal %d: %w", portalID, err)
	}
	return lines, nil
}

// ListLinked returns every line of every portal that has a linked WhatsApp
// device (a non-empty wa_jid), ordered by id.
func (s *LineStore) ListLinked(ctx context.Context) ([]Line, error) {
	var lines []Line
	err := s.db.WithContext(ctx).Where("wa_jid <> ''").Order("id").Find(&lines).Error
	if err != nil {
		return nil, fmt.Errorf("list linked lines: %w", err)
	}
	return lines, nil
}

// ByJID returns the line whose linked device has the full device JID jid
// (for example "79123456789:12@s.whatsapp.net"), or ErrLineNotFound.
func (s *LineStore) ByJID(ctx context.Context, jid string) (*Line, error) {
	var line Line
	err := s.db.WithContext(ctx).Where("wa_jid = ?", jid).Order("id").Take(&line).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fmt.Errorf("device %s: %w", jid, ErrLineNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("load line of device %s: %w", jid, err)
	}
	return &line, nil
}

// LinkedByPhone returns the lines, other than exceptID, that have a linked
// device of the WhatsApp number phone (digits only). Pairing uses it to
// refuse a number linked elsewhere: the device part of a JID changes on
// every pairing, the number does not.
func (s *LineStore) LinkedByPhone(ctx context.Context, phone string, exceptID uint64) ([]Line, error) {
	var lines []Line
	err := s.db.WithContext(ctx).
		Where("phone = ? AND wa_jid <> '' AND id <> ?", phone, exceptID).
		Order("id").Find(&lines).Error
	if err != nil {
		return nil, fmt.Errorf("find lines linked to %s: %w", phone, err)
	}
	return lines, nil
}

// byIDs returns the lines with the given ids, ordered by id.
func (s *LineStore) byIDs(ctx context.Context, ids []uint64) ([]Line, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var lines []Line
	err := s.db.WithContext(ctx).Where("id IN ?", ids).Order("id").Find(&lines).Error
	if err != nil {
		return nil, fmt.Errorf("load %d lines: %w", len(ids), err)
	}
	return lines, nil
}

// activeUnlinked returns the lines still marked active in Bitrix24 although
// they have no device, because their deactivation failed.
func (s *LineStore) activeUnlinked(ctx context.Context) ([]Line, error) {
	var lines []Line
	err := s.db.WithContext(ctx).Where("wa_jid = '' AND b24_active = ?", true).Order("id").Find(&lines).Error
	if err != nil {
		return nil, fmt.Errorf("list active lines without a device: %w", err)
	}
	return lines, nil
}

// pairingUnlinked returns the lines in state pairing without a device.
func (s *LineStore) pairingUnlinked(ctx context.Context) ([]Line, error) {
	var lines []Line
	err := s.db.WithContext(ctx).Where("state = ? AND wa_jid = ''", StatePairing).Order("id").Find(&lines).Error
	if err != nil {
		return nil, fmt.Errorf("list lines left pairing: %w", err)
	}
	return lines, nil
}

// DeleteByPortal deletes every line of a portal; their device sessions,
// scan links, chats, deliveries and leases go with them (ON DELETE CASCADE).
func (s *LineStore) DeleteByPortal(ctx context.Context, portalID uint64) error {
	err := s.db.WithContext(ctx).Where("portal_id = ?", portalID).Delete(&Line{}).Error
	if err != nil {
		return fmt.Errorf("delete lines of portal %d: %w", portalID, err)
	}
	return nil
}

// DeleteLine deletes one line and, by cascade, everything stored for it.
func (s *LineStore) DeleteLine(ctx context.Context, id uint64) error {
	err := s.db.WithContext(ctx).Where("id = ?", id).Delete(&Line{}).Error
	if err != nil {
		return fmt.Errorf("delete line %d: %w", id, err)
	}
	return nil
}

func (s *LineStore) update(ctx context.Context, id uint64, changes map[string]any) error {
	changes["updated_at"] = s.now()
	err := s.db.WithContext(ctx).Model(&Line{}).Where("id = ?", id).Updates(changes).Error
	if err != nil {
		return fmt.Errorf("update line %d: %w", id, err)
	}
	return nil
}
