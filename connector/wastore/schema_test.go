package wastore

import (
	"slices"
	"sync"
	"testing"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"

	"github.com/wabridge/b24wa/internal/dbtest"
)

// TestModelsMatchMigrations checks that every column of every model exists
// in the migrated table and the other way round.
func TestModelsMatchMigrations(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		for _, model := range Models() {
			s, err := schema.Parse(model, &sync.Map{}, db.NamingStrategy)
			if err != nil {
				t.Fatal(err)
			}
			columns, err := db.Migrator().ColumnTypes(model)
			if err != nil {
				t.Fatalf("%s: %v", s.Table, err)
			}
			var inTable []string
			for _, column := range columns {
				inTable = append(inTable, column.Name())
			}
			inModel := slices.Clone(s.DBNames)
			slices.Sort(inTable)
			slices.Sort(inModel)
			if !slices.Equal(inTable, inModel) {
				t.Errorf("%s: table has %v, model has %v", s.Table, inTable, inModel)
			}
		}
	})
}
