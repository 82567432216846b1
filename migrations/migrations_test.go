package migrations_test

import (
	"context"
	"errors"
	"testing"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/internal/database"
	"github.com/wabridge/b24wa/internal/dbtest"
	"github.com/wabridge/b24wa/migrations"
)

func TestUpTwiceIsNoOp(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		sqlDB, _ := db.DB()
		dialect := string(database.DialectOf(db))
		before, latest, err := migrations.Versions(ctx, sqlDB, dialect)
		if err != nil {
			t.Fatal(err)
		}
		if before != latest {
			t.Fatalf("fresh database at version %d, want %d", before, latest)
		}
		if err := migrations.Up(ctx, sqlDB, dialect); err != nil {
			t.Fatalf("second Up: %v", err)
		}
		after, _, err := migrations.Versions(ctx, sqlDB, dialect)
		if err != nil {
			t.Fatal(err)
		}
		if after != before {
			t.Errorf("version moved from %d to %d on a second Up", before, after)
		}
		if err := migrations.Check(ctx, sqlDB, dialect); err != nil {
			t.Errorf("Check after Up: %v", err)
		}
	})
}

func TestNewerSchemaIsRefused(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		sqlDB, _ := db.DB()
		dialect := string(database.DialectOf(db))
		_, latest, err := migrations.Versions(ctx, sqlDB, dialect)
		if err != nil {
			t.Fatal(err)
		}
		// A newer binary would have recorded a version this one lacks.
		if err := db.Exec("INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, ?)", latest+1, true).Error; err != nil {
			t.Fatal(err)
		}
		err = migrations.Up(ctx, sqlDB, dialect)
		if !errors.Is(err, migrations.ErrSchemaNewer) {
			t.Fatalf("Up on a newer schema: got %v, want ErrSchemaNewer", err)
		}
		if err := migrations.Check(ctx, sqlDB, dialect); !errors.Is(err, migrations.ErrSchemaNewer) {
			t.Errorf("Check on a newer schema: got %v, want ErrSchemaNewer", err)
		}
	})
}

func TestDialectsHaveSameVersions(t *testing.T) {
	sqlite := dbtest.SQLite(t)
	sqlDB, _ := sqlite.DB()
	_, latest, err := migrations.Versions(context.Background(), sqlDB, "sqlite")
	if err != nil {
		t.Fatal(err)
	}
	mysqlFiles, err := migrations.Files("mysql")
	if err != nil {
		t.Fatal(err)
	}
	sqliteFiles, err := migrations.Files("sqlite")
	if err != nil {
		t.Fatal(err)
	}
	if len(mysqlFiles) != len(sqliteFiles) {
		t.Fatalf("mysql has %d migrations, sqlite %d: every change needs both", len(mysqlFiles), len(sqliteFiles))
	}
	for i := range mysqlFiles {
		if mysqlFiles[i] != sqliteFiles[i] {
			t.Errorf("migration %d is %s for mysql but %s for sqlite", i, mysqlFiles[i], sqliteFiles[i])
		}
	}
	if latest == 0 {
		t.Error("latest version is 0")
	}
}
