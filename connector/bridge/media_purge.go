package bridge

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/connector"
	"github.com/wabridge/b24wa/portal"
)

// PurgePortalMedia deletes the re-hosted files of every line of a portal,
// and their rows. It must run before the portal's lines are deleted on an
// uninstall with CLEAN=1: the rows cascade away with the lines, and the
// files would then have nothing left pointing at them.
func (b *Bridge) PurgePortalMedia(ctx context.Context, portalID uint64) error {
	lines := b.db.Model(&connector.Line{}).Select("id").Where("portal_id = ?", portalID)
	err := b.purgeMedia(ctx, func(db *gorm.DB) *gorm.DB { return db.Where("line_id IN (?)", lines) })
	if err != nil {
		return fmt.Errorf("purge media of portal %d: %w", portalID, err)
	}
	return nil
}

// PurgeLineMedia deletes the re-hosted files of one line (lines.id) and their
// rows, before the line is deleted.
func (b *Bridge) PurgeLineMedia(ctx context.Context, lineID uint64) error {
	err := b.purgeMedia(ctx, func(db *gorm.DB) *gorm.DB { return db.Where("line_id = ?", lineID) })
	if err != nil {
		return fmt.Errorf("purge media of line %d: %w", lineID, err)
	}
	return nil
}

// purgeMedia removes, in batches, the files of the media rows that scope
// selects and then the rows. A file that is already gone is not an error.
func (b *Bridge) purgeMedia(ctx context.Context, scope func(*gorm.DB) *gorm.DB) error {
	for {
		var rows []connector.MediaFile
		if err := scope(b.db.WithContext(ctx)).Order("id").Limit(500).Find(&rows).Error; err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		ids := make([]uint64, 0, len(rows))
		for _, r := range rows {
			err := os.Remove(filepath.Join(b.mediaDir, filepath.Clean(r.StoragePath)))
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("delete media file %d: %w", r.ID, err)
			}
			ids = append(ids, r.ID)
		}
		if err := b.db.WithContext(ctx).Where("id IN ?", ids).Delete(&connector.MediaFile{}).Error; err != nil {
			return err
		}
		b.log.InfoContext(ctx, "Media files purged", "line_id", rows[0].LineID, "count", len(ids))
	}
}

// purgeDeletedLineMedia deletes the media of an open line that Bitrix24
// deleted, before the manager deletes the line's row.
func (b *Bridge) purgeDeletedLineMedia(ctx context.Context, p *portal.Portal, openLine string) error {
	var line connector.Line
	err := b.db.WithContext(ctx).Where("portal_id = ? AND line_id = ?", p.ID, openLine).Limit(1).Find(&line).Error
	if err != nil || line.ID == 0 {
		return err
	}
	return b.PurgeLineMedia(ctx, line.ID)
}
