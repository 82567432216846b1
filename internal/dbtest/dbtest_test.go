package dbtest

import (
	"testing"

	"gorm.io/gorm"
)

func TestEachMigratesBothDialects(t *testing.T) {
	Each(t, func(t *testing.T, db *gorm.DB) {
		for _, table := range []string{"portals", "lines", "deliveries", "goose_db_version"} {
			if !db.Migrator().HasTable(table) {
				t.Errorf("%s: table %s missing after migration", Describe(db), table)
			}
		}
	})
}
