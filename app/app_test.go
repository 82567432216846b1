package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/internal/database"
	"github.com/wabridge/b24wa/internal/dbtest"
	"github.com/wabridge/b24wa/migrations"
)

func testConfig(t *testing.T, env map[string]string) Config {
	t.Helper()
	base := map[string]string{
		"HTTP_ADDR": "127.0.0.1:0", "DATA_DIR": t.TempDir(), "WHATSAPP_BACKEND": "simulator",
		"LOG_LEVEL": "error",
	}
	for k, v := range env {
		base[k] = v
	}
	cfg, err := LoadConfig(lookupFrom(base))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestAppServesAndStops(t *testing.T) {
	ctx := context.Background()
	a, err := New(ctx, testConfig(t, nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	a.Serve()
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		res, err := http.Get("http://" + a.Addr() + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d, want 200", path, res.StatusCode)
		}
	}
	head, err := http.Head("http://" + a.Addr() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	head.Body.Close()
	if head.StatusCode != http.StatusOK {
		t.Errorf("HEAD /healthz = %d, want 200 for load balancers that probe with HEAD", head.StatusCode)
	}
	if err := a.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := http.Get("http://" + a.Addr() + "/healthz"); err == nil {
		t.Error("server still answers after Close")
	}
}

func TestAppRefusesStaleSchemaWithoutMigrate(t *testing.T) {
	cfg := testConfig(t, map[string]string{"DB_MIGRATE": "false"})
	_, err := New(context.Background(), cfg, io.Discard)
	if !errors.Is(err, migrations.ErrSchemaPending) {
		t.Fatalf("got %v, want ErrSchemaPending", err)
	}
	if !strings.Contains(err.Error(), "DB_MIGRATE") {
		t.Errorf("error %q does not say how to migrate", err)
	}
}

func TestAppRefusesNewerSchema(t *testing.T) {
	dir := t.TempDir()
	db := openMigrated(t, filepath.Join(dir, "app.db"))
	if err := db.Exec("INSERT INTO goose_db_version (version_id, is_applied) VALUES (9999, 1)").Error; err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, map[string]string{"DATA_DIR": dir})
	_, err := New(context.Background(), cfg, io.Discard)
	if !errors.Is(err, migrations.ErrSchemaNewer) {
		t.Fatalf("got %v, want ErrSchemaNewer", err)
	}
}

func TestAppRunsOnMySQL(t *testing.T) {
	name, _ := dbtest.NewMySQLDatabase(t)
	cfg := testConfig(t, map[string]string{"DATABASE_URL": dbtest.URL(t, name)})
	ctx := context.Background()
	a, err := New(ctx, cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(ctx)
	if got := database.DialectOf(a.db); got != database.MySQL {
		t.Errorf("dialect = %s, want mysql", got)
	}
}

func openMigrated(t *testing.T, path string) *gorm.DB {
	t.Helper()
	target, err := database.ParseURL("sqlite://"+path, "")
	if err != nil {
		t.Fatal(err)
	}
	db, err := database.Open(context.Background(), target, dbtest.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, _ := db.DB()
	t.Cleanup(func() { sqlDB.Close() })
	if err := migrations.Up(context.Background(), sqlDB, "sqlite"); err != nil {
		t.Fatal(err)
	}
	return db
}
