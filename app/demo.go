package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"

	"github.com/wabridge/b24wa/portal/b24fake/sandbox"
)

// demoMarker is the file that marks a DATA_DIR as the sandbox's own, which
// each -demo run clears.
const demoMarker = ".b24wa-sandbox"

// demoMain runs `app -demo` until SIGINT or SIGTERM and returns the exit
// code. With printConfig it prints the sandbox's configuration and exits.
func demoMain(printConfig bool) int {
	cfg, ignored, err := demoConfig(os.LookupEnv)
	if printConfig {
		cfg.Print(os.Stdout)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "invalid configuration for -demo:\n%v\n", err)
		return 2
	}
	if printConfig {
		return 0
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := runDemo(ctx, cfg, ignored, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "app -demo: %v\n", err)
		return 1
	}
	return 0
}

// runDemo clears the sandbox's DATA_DIR, starts the app and the sandbox,
// prints the sandbox's address as the one line "Sandbox: <URL>" and serves
// until ctx is cancelled.
func runDemo(ctx context.Context, cfg Config, ignored []string, out io.Writer) error {
	if err := prepareDemoDir(cfg.DataDir); err != nil {
		return err
	}
	d, err := startDemo(ctx, cfg, out)
	if err != nil {
		return err
	}
	if len(ignored) > 0 {
		d.app.log.Warn("Ignoring variables that -demo sets itself", "variables", ignored)
	}
	fmt.Fprintf(out, "Sandbox: %s\n", d.sandbox.URL())

	select {
	case <-ctx.Done():
	case err := <-d.serveErr:
		d.app.log.Error("HTTP server stopped unexpectedly", "error", err)
	}
	return d.Close(context.WithoutCancel(ctx))
}

// demo is a running sandbox: the app and the fake portal that serves the
// sandbox page.
type demo struct {
	app      *App
	sandbox  *sandbox.Sandbox
	serveErr <-chan error
}

// startDemo starts the app and then the sandbox on the port after the
// app's, or on a free port of the same host when that one is taken.
func startDemo(ctx context.Context, cfg Config, logOut io.Writer) (*demo, error) {
	a, err := New(ctx, cfg, logOut)
	if err != nil {
		return nil, err
	}
	ln, err := listenNextPort(a.Addr())
	if err != nil {
		_ = a.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	sb, err := sandbox.Start(sandbox.Options{
		AppURL: cfg.PublicBase(), ConnectorID: cfg.B24ConnectorID,
		ClientID: cfg.B24ClientID, ClientSecret: cfg.B24ClientSecret,
		Listener: ln, Log: a.log.With("component", "sandbox"),
	})
	if err != nil {
		_ = ln.Close()
		_ = a.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	a.log.Info("Sandbox portal started", "url", sb.URL(), "member_id", sb.Portal().MemberID())
	return &demo{app: a, sandbox: sb, serveErr: a.Serve()}, nil
}

// Close stops the app first, because it may still call the portal while it
// shuts down, and then the sandbox.
func (d *demo) Close(ctx context.Context) error {
	err := d.app.Close(ctx)
	d.sandbox.Close()
	return err
}

// listenNextPort listens on the port after appAddr's, or on a free port of
// the same host.
func listenNextPort(appAddr string) (net.Listener, error) {
	ap, err := netip.ParseAddrPort(appAddr)
	if err != nil {
		return nil, fmt.Errorf("app address %s: %w", appAddr, err)
	}
	host := ap.Addr().String()
	if ap.Port() < 65535 {
		next := net.JoinHostPort(host, strconv.Itoa(int(ap.Port())+1))
		if ln, err := net.Listen("tcp", next); err == nil {
			return ln, nil
		}
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return nil, fmt.Errorf("listen for the sandbox on %s: %w", host, err)
	}
	return ln, nil
}

// demoForced are the variables -demo sets whatever the environment contains:
// SQLite in DATA_DIR, the WhatsApp simulator, plain http on loopback, no
// BX24.js (there is no network) and no e-mail.
var demoForced = map[string]string{
	"APP_ENV": "development", "DATABASE_URL": "", "DB_MIGRATE": "true",
	"WHATSAPP_BACKEND": "simulator", "ALLOW_INSECURE_HTTP": "true",
	"BX24_SCRIPT_URL": "-", "SMTP_URL": "",
}

// demoConfig reads the configuration of -demo: DATA_DIR defaults to
// ./data-demo and HTTP_ADDR to 127.0.0.1:8080, which must be a loopback
// address (port 0 picks a free one). PUBLIC_URL follows HTTP_ADDR, and the
// Bitrix24 client id and secret are generated for the sandbox's portal. It
// returns the names of variables set in the environment that it overrides.
func demoConfig(lookup func(string) (string, bool)) (Config, []string, error) {
	addr, err := demoAddr(lookup)
	if err != nil {
		return Config{}, nil, err
	}
	forced := map[string]string{
		"HTTP_ADDR": addr, "PUBLIC_URL": "http://" + addr,
		"B24_CLIENT_ID": "local.sandbox." + randomHex(8), "B24_CLIENT_SECRET": randomHex(24),
	}
	for name, v := range demoForced {
		forced[name] = v
	}

	var ignored []string
	cfg, err := LoadConfig(func(name string) (string, bool) {
		if v, ok := forced[name]; ok {
			if got, set := lookup(name); set && got != v && name != "HTTP_ADDR" {
				ignored = append(ignored, name)
			}
			return v, true
		}
		if v, ok := lookup(name); ok {
			return v, true
		}
		return demoDefault(name)
	})
	slices.Sort(ignored)
	return cfg, ignored, err
}

// demoDefault returns the sandbox's default of a variable that the
// environment leaves unset. SECRET_KEY is random: the data it seals lives
// only until the next start.
func demoDefault(name string) (string, bool) {
	switch name {
	case "DATA_DIR":
		return "./data-demo", true
	case "SECRET_KEY":
		return randomHex(32), true
	}
	return "", false
}

// demoAddr returns HTTP_ADDR (default 127.0.0.1:8080) after checking that it
// is a loopback address. Port 0 is replaced by a free port, because
// PUBLIC_URL has to name the port before the app listens.
func demoAddr(lookup func(string) (string, bool)) (string, error) {
	addr, ok := lookup("HTTP_ADDR")
	if !ok || addr == "" {
		addr = "127.0.0.1:8080"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("HTTP_ADDR: %q is not host:port: %w", addr, err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.IsLoopback() {
		return "", fmt.Errorf("HTTP_ADDR: %q is not a loopback IP address; -demo serves only on this computer, for example 127.0.0.1:8080", addr)
	}
	if port != "0" {
		return addr, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("HTTP_ADDR: find a free port on %s: %w", host, err)
	}
	free := ln.Addr().String()
	_ = ln.Close()
	return free, nil
}

// prepareDemoDir empties dir for a new sandbox. The sandbox's portal and
// phones live in memory, so the app's data of an earlier run would point at
// tokens and devices that no longer exist. A directory is cleared only when
// it carries demoMarker; any other non-empty directory is refused.
func prepareDemoDir(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("create DATA_DIR %s: %w", dir, err)
		}
	case err != nil:
		return fmt.Errorf("read DATA_DIR %s: %w", dir, err)
	case len(entries) > 0 && !slices.ContainsFunc(entries, func(e fs.DirEntry) bool { return e.Name() == demoMarker }):
		return fmt.Errorf("DATA_DIR %s is not empty and was not made by -demo, which clears its directory on every start; "+
			"unset DATA_DIR to use ./data-demo or name an empty directory", dir)
	}
	for _, e := range entries {
		if e.Name() == demoMarker {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("clear DATA_DIR %s: %w", dir, err)
		}
	}
	note := []byte("This directory belongs to `app -demo`, which deletes its contents on every start.\n")
	return os.WriteFile(filepath.Join(dir, demoMarker), note, 0o600)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
