package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"gorm.io/gorm"

	"github.com/wabridge/b24wa/handlers"
	"github.com/wabridge/b24wa/internal/database"
	"github.com/wabridge/b24wa/internal/secrets"
	"github.com/wabridge/b24wa/migrations"
)

// App is the composition root: it builds every component from a Config,
// runs them, and stops them in reverse order.
type App struct {
	cfg      Config
	log      *slog.Logger
	db       *gorm.DB
	box      *secrets.Box
	server   *http.Server
	ln       net.Listener
	registry *prometheus.Registry

	// stops run in reverse order of registration on Close.
	stops []stopStep
}

type stopStep struct {
	name string
	fn   func(context.Context) error
}

// Run builds the app, serves until ctx is cancelled, then shuts down.
func Run(ctx context.Context, cfg Config, logOut io.Writer) error {
	a, err := New(ctx, cfg, logOut)
	if err != nil {
		return err
	}
	serveErr := a.Serve()
	select {
	case <-ctx.Done():
	case err := <-serveErr:
		a.log.Error("HTTP server stopped unexpectedly", "error", err)
	}
	closeCtx := context.WithoutCancel(ctx)
	return a.Close(closeCtx)
}

// New opens the database, migrates it and wires every component. The HTTP
// listener is opened here too, so a port conflict fails before anything runs.
func New(ctx context.Context, cfg Config, logOut io.Writer) (*App, error) {
	log, err := newLogger(cfg, logOut)
	if err != nil {
		return nil, err
	}
	a := &App{cfg: cfg, log: log}
	if err := a.init(ctx); err != nil {
		_ = a.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return a, nil
}

func (a *App) init(ctx context.Context) error {
	cfg := a.cfg
	a.log.Info("Starting", "env", cfg.Env, "http_addr", cfg.HTTPAddr, "public_url", cfg.PublicURL,
		"whatsapp_backend", cfg.WhatsAppBackend)
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("create DATA_DIR %s: %w", cfg.DataDir, err)
	}
	box, err := loadSecrets(cfg, a.log)
	if err != nil {
		return err
	}
	a.box = box

	if err := a.openDatabase(ctx); err != nil {
		return err
	}

	a.registry = prometheus.NewRegistry()
	a.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	comps, err := a.build()
	if err != nil {
		return err
	}
	pages := handlers.NewPages()
	e := handlers.NewEcho(handlers.Options{
		Log:        a.log,
		DB:         a.db,
		Dialect:    string(database.DialectOf(a.db)),
		PublicURL:  cfg.PublicBase(),
		Production: cfg.Env == "production",
		Pages:      pages,
		Metrics:    a.registry,
		// Validate has parsed TRUSTED_PROXIES already.
		TrustedProxies: must(cfg.ProxyNetworks()),
	})
	a.routes(e, comps, pages)
	a.server = &http.Server{
		Handler:           e,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on HTTP_ADDR %s: %w", cfg.HTTPAddr, err)
	}
	a.ln = ln
	if err := a.start(ctx, comps); err != nil {
		_ = ln.Close()
		return err
	}
	a.addStop("http server", a.server.Shutdown)
	return nil
}

func (a *App) openDatabase(ctx context.Context) error {
	target, err := database.ParseURL(a.cfg.DatabaseURL, a.cfg.DataDir)
	if err != nil {
		return err
	}
	db, err := database.Open(ctx, target, a.log)
	if err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	a.db = db
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	a.addStop("database", func(context.Context) error { return sqlDB.Close() })

	dialect := string(target.Dialect)
	if a.cfg.DBMigrate {
		if err := migrations.Up(ctx, sqlDB, dialect); err != nil {
			return err
		}
	} else if err := migrations.Check(ctx, sqlDB, dialect); err != nil {
		return fmt.Errorf("%w (set DB_MIGRATE=true to apply pending migrations)", err)
	}
	current, _, err := migrations.Versions(ctx, sqlDB, dialect)
	if err != nil {
		return err
	}
	a.log.Info("Database ready", "database", target.Redacted, "schema_version", current)
	return nil
}

// Addr is the address the HTTP server listens on.
func (a *App) Addr() string { return a.ln.Addr().String() }

// Serve starts the HTTP server in the background. The returned channel gets
// the error if the server stops by itself.
func (a *App) Serve() <-chan error {
	errc := make(chan error, 1)
	a.log.Info("Listening", "addr", a.Addr())
	go func() {
		if err := a.server.Serve(a.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- err
		}
	}()
	return errc
}

func (a *App) addStop(name string, fn func(context.Context) error) {
	a.stops = append(a.stops, stopStep{name: name, fn: fn})
}

// Close stops every component in reverse start order, giving each step
// SHUTDOWN_TIMEOUT.
func (a *App) Close(ctx context.Context) error {
	var errs []error
	for i := len(a.stops) - 1; i >= 0; i-- {
		step := a.stops[i]
		stepCtx, cancel := context.WithTimeout(ctx, a.cfg.ShutdownTimeout)
		err := step.fn(stepCtx)
		cancel()
		if err != nil {
			a.log.Error("Shutdown step failed", "step", step.name, "error", err)
			errs = append(errs, fmt.Errorf("stop %s: %w", step.name, err))
			continue
		}
		a.log.Debug("Stopped", "step", step.name)
	}
	a.stops = nil
	a.log.Info("Stopped")
	return errors.Join(errs...)
}

func newLogger(cfg Config, w io.Writer) (*slog.Logger, error) {
	level, err := parseLevel(cfg.LogLevel)
	if err != nil {
		return nil, err
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), nil
}

func parseLevel(s string) (slog.Level, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("%q is not a log level; expected debug, info, warn or error", s)
	}
	return level, nil
}

// loadSecrets builds the Box from SECRET_KEY. In development without a key it
// generates one and keeps it in DATA_DIR, so sealed values survive restarts.
func loadSecrets(cfg Config, log *slog.Logger) (*secrets.Box, error) {
	var older [][]byte
	for _, s := range strings.Split(cfg.SecretKeysOld, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		k, err := decodeKey(s)
		if err != nil {
			return nil, fmt.Errorf("SECRET_KEYS_OLD: %w", err)
		}
		older = append(older, k)
	}
	if cfg.SecretKey != "" {
		key, err := decodeKey(cfg.SecretKey)
		if err != nil {
			return nil, fmt.Errorf("SECRET_KEY: %w", err)
		}
		return secrets.New(key, older...)
	}
	key, err := developmentKey(filepath.Join(cfg.DataDir, "secret.key"))
	if err != nil {
		return nil, err
	}
	log.Warn("SECRET_KEY is not set; using a generated development key kept in DATA_DIR", "file", filepath.Join(cfg.DataDir, "secret.key"))
	return secrets.New(key, older...)
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
