// Package migrations holds the versioned schema, one folder per SQL dialect,
// embedded into the binary and applied with goose. Files are append-only:
// a released migration is never edited, a change gets a new file.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
)

//go:embed mysql/*.sql sqlite/*.sql
var files embed.FS

// ErrSchemaNewer is returned when the database was migrated by a newer
// version of the service than this binary.
var ErrSchemaNewer = errors.New("database schema is newer than this binary")

// ErrSchemaPending is returned by Check when migrations have not been applied.
var ErrSchemaPending = errors.New("database schema has pending migrations")

func provider(db *sql.DB, dialect string) (*goose.Provider, error) {
	var gd goose.Dialect
	switch dialect {
	case "mysql":
		gd = goose.DialectMySQL
	case "sqlite":
		gd = goose.DialectSQLite3
	default:
		return nil, fmt.Errorf("no migrations for dialect %q", dialect)
	}
	sub, err := fs.Sub(files, dialect)
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(gd, db, sub)
}

// Versions reports the version the database is at and the newest version
// this binary carries.
func Versions(ctx context.Context, db *sql.DB, dialect string) (current, latest int64, err error) {
	p, err := provider(db, dialect)
	if err != nil {
		return 0, 0, err
	}
	current, err = p.GetDBVersion(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("read schema version: %w", err)
	}
	sources := p.ListSources()
	if len(sources) > 0 {
		latest = sources[len(sources)-1].Version
	}
	return current, latest, nil
}

// Check returns ErrSchemaNewer or ErrSchemaPending when the database is not at
// this binary's version.
func Check(ctx context.Context, db *sql.DB, dialect string) error {
	current, latest, err := Versions(ctx, db, dialect)
	if err != nil {
		return err
	}
	switch {
	case current > latest:
		return fmt.Errorf("%w: database is at version %d, this binary knows up to %d; run the newer binary or restore a backup", ErrSchemaNewer, current, latest)
	case current < latest:
		return fmt.Errorf("%w: database is at version %d, this binary needs %d", ErrSchemaPending, current, latest)
	}
	return nil
}

// Up applies every pending migration. It refuses a database that is ahead of
// this binary rather than running old code against a newer schema.
func Up(ctx context.Context, db *sql.DB, dialect string) error {
	err := Check(ctx, db, dialect)
	if err == nil || errors.Is(err, ErrSchemaNewer) {
		return err
	}
	p, err := provider(db, dialect)
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}
	return nil
}

// Files lists the migration file names of a dialect in order.
func Files(dialect string) ([]string, error) {
	entries, err := fs.ReadDir(files, dialect)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names, nil
}
