package connector

import (
	"context"
	"fmt"
	"time"
)

// DeviceSessions returns the device sessions of a line, newest first.
func (s *LineStore) DeviceSessions(ctx context.Context, lineID uint64) ([]DeviceSession, error) {
	var rows []DeviceSession
	err := s.db.WithContext(ctx).Where("line_id = ?", lineID).
		Order("linked_at DESC").Order("id DESC").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list device sessions of line %d: %w", lineID, err)
	}
	return rows, nil
}

// AddDeviceSession stores a new linking of a device to a line and sets the
// row's ID.
func (s *LineStore) AddDeviceSession(ctx context.Context, row *DeviceSession) error {
	row.LinkedAt = row.LinkedAt.UTC()
	row.PushName = truncate(row.PushName, 255)
	row.Platform = truncate(row.Platform, 64)
	row.BusinessName = truncate(row.BusinessName, 255)
	if err := s.db.WithContext(ctx).Create(row).Error; err != nil {
		return fmt.Errorf("add device session of line %d: %w", row.LineID, err)
	}
	return nil
}

// CloseDeviceSession closes the open device session of a line (the one
// without logged_out_at) with reason at at. A line without an open row is
// left as it is.
func (s *LineStore) CloseDeviceSession(ctx context.Context, lineID uint64, reason string, at time.Time) error {
	err := s.db.WithContext(ctx).Model(&DeviceSession{}).
		Where("line_id = ? AND logged_out_at IS NULL", lineID).
		Updates(map[string]any{"logged_out_at": at.UTC(), "logout_reason": truncate(reason, 64)}).Error
	if err != nil {
		return fmt.Errorf("close device session of line %d: %w", lineID, err)
	}
	return nil
}

// MarkScanLinkUsed records that the scan link id of line lineID paired a
// device at at. A link already used keeps its first time, and a revoked
// link is left revoked: the pairing is not recorded on it.
func (s *LineStore) MarkScanLinkUsed(ctx context.Context, id, lineID uint64, at time.Time) error {
	err := s.db.WithContext(ctx).Model(&ScanLink{}).
		Where("id = ? AND line_id = ? AND used_at IS NULL AND revoked_at IS NULL", id, lineID).
		Update("used_at", at.UTC()).Error
	if err != nil {
		return fmt.Errorf("mark scan link %d used: %w", id, err)
	}
	return nil
}
