package wastore

import (
	"fmt"
	"testing"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/internal/dbtest"
)

// TestMatchesSQLStore runs seeded random operation sequences against this
// store, on SQLite and MariaDB, and against whatsmeow's sqlstore, comparing
// every result. diff_harness_test.go lists the intended differences.
func TestMatchesSQLStore(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3, 4} {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
				h := newHarness(t, db, seed)
				h.run(1000)
			})
		})
	}
}
