// Package dbtest gives tests a freshly migrated database on every dialect the
// service supports: SQLite always, and MariaDB/MySQL when TEST_MYSQL_URL is set
// (for example mysql://root@127.0.0.1:3306/test). Under CI=true a missing or
// unreachable MySQL server fails the test instead of skipping it.
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/internal/database"
	"github.com/wabridge/b24wa/migrations"
)

// EnvMySQL names the variable that points tests at a MySQL/MariaDB server.
const EnvMySQL = "TEST_MYSQL_URL"

// Each runs fn as a subtest once per available dialect, named after it.
func Each(t *testing.T, fn func(t *testing.T, db *gorm.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("mysql", func(t *testing.T) { fn(t, MySQL(t)) })
}

// SQLite returns a migrated SQLite database in a temporary file.
func SQLite(t testing.TB) *gorm.DB {
	t.Helper()
	target, err := database.ParseURL("sqlite://"+filepath.Join(t.TempDir(), "test.db"), "")
	if err != nil {
		t.Fatal(err)
	}
	return open(t, target)
}

// MySQL returns a migrated database of its own on the server named by
// TEST_MYSQL_URL, dropped when the test ends. It skips the test when the
// variable is unset, except under CI=true where that is a failure.
func MySQL(t testing.TB) *gorm.DB {
	t.Helper()
	name, target := NewMySQLDatabase(t)
	_ = name
	return open(t, target)
}

// NewMySQLDatabase creates an empty database of its own on the server named by
// TEST_MYSQL_URL and returns its name and target; it is dropped at cleanup.
// Tests that start the binary use the target's URL form via URL.
func NewMySQLDatabase(t testing.TB) (string, database.Target) {
	t.Helper()
	raw := os.Getenv(EnvMySQL)
	if raw == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %s is not set; the MySQL tests must run in CI", EnvMySQL)
		}
		t.Skipf("%s is not set; skipping the MySQL run", EnvMySQL)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("%s is not a URL: %v", EnvMySQL, err)
	}
	admin, err := database.ParseURL(raw, "")
	if err != nil {
		t.Fatal(err)
	}
	adminDB, err := sql.Open("mysql", admin.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer adminDB.Close()
	if err := adminDB.Ping(); err != nil {
		t.Fatalf("MySQL server at %s is not reachable: %v", u.Redacted(), err)
	}
	name := "t_" + randomHex(8)
	if _, err := adminDB.Exec("CREATE DATABASE " + name + " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("mysql", admin.DSN)
		if err != nil {
			return
		}
		defer db.Close()
		_, _ = db.Exec("DROP DATABASE IF EXISTS " + name)
	})
	u.Path = "/" + name
	target, err := database.ParseURL(u.String(), "")
	if err != nil {
		t.Fatal(err)
	}
	return name, target
}

// URL returns the DATABASE_URL form of a MySQL test database.
func URL(t testing.TB, name string) string {
	t.Helper()
	u, err := url.Parse(os.Getenv(EnvMySQL))
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

func open(t testing.TB, target database.Target) *gorm.DB {
	t.Helper()
	ctx := context.Background()
	db, err := database.Open(ctx, target, Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sqlDB.Close() })
	if err := migrations.Up(ctx, sqlDB, string(target.Dialect)); err != nil {
		t.Fatalf("migrate %s: %v", target.Dialect, err)
	}
	return db
}

// Logger returns a slog logger that writes into the test log when -v is set
// and discards otherwise, so failing tests keep their context.
func Logger(t testing.TB) *slog.Logger {
	if !testing.Verbose() {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// Describe names the dialect of db for messages.
func Describe(db *gorm.DB) string {
	return fmt.Sprint(database.DialectOf(db))
}
