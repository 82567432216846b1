// Package browsertest starts headless Chromium for the browser tests of the
// pages. It uses Debian's chromium (or CHROMIUM_PATH); without it the tests
// are skipped, except under CI=true where they fail.
package browsertest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ShotsDir receives the screenshots of the browser tests, for a person to
// look at.
const ShotsDir = "/tmp/shots"

// ChromiumPath returns the Chromium binary, skipping or failing t when it is
// missing.
func ChromiumPath(t testing.TB) string {
	t.Helper()
	path := os.Getenv("CHROMIUM_PATH")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but chromium is missing at %s: install Debian's chromium package", path)
		}
		t.Skipf("chromium is missing at %s; skipping the browser test", path)
	}
	return path
}

// New starts Chromium with a fresh profile and a width × height viewport, and
// returns a context bounded by timeout for chromedp actions. The browser
// resolves no host name except 127.0.0.1, so a page reaches nothing but the
// test's own servers. Everything stops when the test ends.
func New(t testing.TB, width, height int, timeout time.Duration) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(ChromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(width), int64(height))); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}
