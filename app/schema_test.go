package main

import (
	"testing"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/connector"
	"github.com/wabridge/b24wa/connector/billing"
	"github.com/wabridge/b24wa/connector/wastore"
	"github.com/wabridge/b24wa/internal/dbtest"
	"github.com/wabridge/b24wa/portal"
)

// allModels lists every gorm model the service reads or writes.
func allModels() []any {
	var models []any
	models = append(models, portal.Models()...)
	models = append(models, connector.Models()...)
	models = append(models, wastore.Models()...)
	models = append(models, billing.Models()...)
	return models
}

// The migrations, not gorm, create the schema; this checks that every model
// finds its table and every field its column on both dialects.
func TestModelsMatchMigratedSchema(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		for _, model := range allModels() {
			stmt := &gorm.Statement{DB: db}
			if err := stmt.Parse(model); err != nil {
				t.Fatalf("parse %T: %v", model, err)
			}
			table := stmt.Schema.Table
			if !db.Migrator().HasTable(table) {
				t.Errorf("%T: table %s does not exist", model, table)
				continue
			}
			for _, field := range stmt.Schema.Fields {
				if field.DBName == "" || field.IgnoreMigration {
					continue
				}
				if !db.Migrator().HasColumn(model, field.DBName) {
					t.Errorf("%T: column %s.%s does not exist", model, table, field.DBName)
				}
			}
		}
	})
}
