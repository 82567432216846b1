// Package database opens the service's one database: SQLite through a pure-Go
// driver by default, or MySQL/MariaDB when DATABASE_URL names one.
package database

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/go-sql-driver/mysql"
	gormmysql "gorm.io/driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Dialect names the SQL flavour of an opened database.
type Dialect string

// Supported dialects. The names match the migrations/ sub-folders.
const (
	SQLite Dialect = "sqlite"
	MySQL  Dialect = "mysql"
)

// Target is a parsed DATABASE_URL.
type Target struct {
	Dialect Dialect
	// DSN is the driver's own connection string.
	DSN string
	// Redacted is the URL with any password replaced, safe to log.
	Redacted string
}

// ParseURL turns DATABASE_URL into a driver DSN. An empty URL means the SQLite
// file app.db inside dataDir. Accepted forms:
//
//	sqlite:///absolute/path/app.db   sqlite://relative/app.db   sqlite::memory:
//	mysql://user:password@host:3306/dbname?param=value
func ParseURL(raw, dataDir string) (Target, error) {
	if raw == "" {
		path := filepath.Join(dataDir, "app.db")
		return Target{Dialect: SQLite, DSN: sqliteDSN(path), Redacted: "sqlite://" + path}, nil
	}
	if raw == "sqlite::memory:" {
		return Target{Dialect: SQLite, DSN: sqliteDSN(":memory:"), Redacted: raw}, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return Target{}, fmt.Errorf("DATABASE_URL is not a URL: %w", err)
	}
	switch u.Scheme {
	case "sqlite", "sqlite3", "file":
		path := u.Host + u.Path
		if path == "" {
			return Target{}, fmt.Errorf("DATABASE_URL %q names no file; expected sqlite:///path/to/app.db", raw)
		}
		return Target{Dialect: SQLite, DSN: sqliteDSN(path), Redacted: "sqlite://" + path}, nil
	case "mysql", "mariadb":
		return mysqlTarget(u)
	default:
		return Target{}, fmt.Errorf("DATABASE_URL scheme %q is not supported; expected sqlite:// or mysql://", u.Scheme)
	}
}

func sqliteDSN(path string) string {
	// WAL lets readers run beside the single writer; busy_timeout makes a
	// second writer wait instead of failing with SQLITE_BUSY.
	q := "_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	if path == ":memory:" {
		return "file::memory:?" + q
	}
	return "file:" + path + "?" + q
}

func mysqlTarget(u *url.URL) (Target, error) {
	name := strings.TrimPrefix(u.Path, "/")
	if u.Host == "" || name == "" {
		return Target{}, fmt.Errorf("DATABASE_URL %q must name a host and a database: mysql://user:password@host:3306/dbname", u.Redacted())
	}
	cfg := mysql.NewConfig()
	cfg.Net = "tcp"
	cfg.Addr = u.Host
	if u.Port() == "" {
		cfg.Addr = u.Host + ":3306"
	}
	cfg.User = u.User.Username()
	cfg.Passwd, _ = u.User.Password()
	cfg.DBName = name
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	cfg.Collation = "utf8mb4_unicode_ci"
	cfg.Params = map[string]string{"charset": "utf8mb4"}
	cfg.MultiStatements = true
	for k, v := range u.Query() {
		cfg.Params[k] = v[0]
	}
	return Target{Dialect: MySQL, DSN: cfg.FormatDSN(), Redacted: u.Redacted()}, nil
}

// Open connects to the target and checks that the server answers.
func Open(ctx context.Context, t Target, log *slog.Logger) (*gorm.DB, error) {
	gcfg := &gorm.Config{
		Logger:         newGormLogger(log),
		NowFunc:        func() time.Time { return time.Now().UTC() },
		TranslateError: true,
	}
	var dialector gorm.Dialector
	switch t.Dialect {
	case SQLite:
		if dir := sqliteDir(t.DSN); dir != "" {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, fmt.Errorf("create database directory: %w", err)
			}
		}
		dialector = sqlite.Open(t.DSN)
	case MySQL:
		dialector = gormmysql.Open(t.DSN)
	default:
		return nil, fmt.Errorf("unknown database dialect %q", t.Dialect)
	}
	db, err := gorm.Open(dialector, gcfg)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", t.Redacted, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	if t.Dialect == SQLite {
		// One connection serialises writers; SQLite allows one at a time
		// anyway, and this keeps :memory: databases on a single connection.
		sqlDB.SetMaxOpenConns(1)
	} else {
		sqlDB.SetMaxOpenConns(32)
		sqlDB.SetMaxIdleConns(8)
		sqlDB.SetConnMaxLifetime(30 * time.Minute)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("connect to %s: %w", t.Redacted, err)
	}
	return db, nil
}

func sqliteDir(dsn string) string {
	path := strings.TrimPrefix(dsn, "file:")
	path, _, _ = strings.Cut(path, "?")
	if path == ":memory:" || path == "" {
		return ""
	}
	return filepath.Dir(path)
}

// DialectOf reports the dialect of an opened gorm database.
func DialectOf(db *gorm.DB) Dialect {
	if db.Dialector.Name() == "mysql" {
		return MySQL
	}
	return SQLite
}

// IsUniqueViolation reports whether err is a duplicate-key error on either
// dialect. gorm translates both drivers' codes when TranslateError is set.
func IsUniqueViolation(err error) bool {
	return errors.Is(err, gorm.ErrDuplicatedKey)
}

type gormLogger struct {
	log  *slog.Logger
	slow time.Duration
}

func newGormLogger(log *slog.Logger) logger.Interface {
	return &gormLogger{log: log.With("component", "gorm"), slow: time.Second}
}

func (l *gormLogger) LogMode(logger.LogLevel) logger.Interface { return l }

func (l *gormLogger) Info(ctx context.Context, msg string, args ...any) {
	l.log.DebugContext(ctx, "Database message", "detail", fmt.Sprintf(msg, args...))
}

func (l *gormLogger) Warn(ctx context.Context, msg string, args ...any) {
	l.log.WarnContext(ctx, "Database warning", "detail", fmt.Sprintf(msg, args...))
}

func (l *gormLogger) Error(ctx context.Context, msg string, args ...any) {
	l.log.ErrorContext(ctx, "Database error", "detail", fmt.Sprintf(msg, args...))
}

// Trace logs slow queries. Failed queries are returned to the caller, which
// decides whether they matter, so they are only logged at debug level here.
// SQL text is never logged above debug because it may carry sealed values.
func (l *gormLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	elapsed := time.Since(begin)
	switch {
	case err != nil && !errors.Is(err, gorm.ErrRecordNotFound) && l.log.Enabled(ctx, slog.LevelDebug):
		sql, _ := fc()
		l.log.DebugContext(ctx, "Query failed", "error", err, "elapsed", elapsed, "sql", truncate(sql, 300))
	case elapsed > l.slow:
		l.log.WarnContext(ctx, "Slow query", "elapsed", elapsed)
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
