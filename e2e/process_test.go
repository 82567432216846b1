package e2e

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wabridge/b24wa/portal/b24fake"
)

// Bounds of waiting for the binary. Start covers migrations on a fresh
// MariaDB database; stop covers SHUTDOWN_TIMEOUT for every step.
const (
	startTimeout = 60 * time.Second
	stopTimeout  = 60 * time.Second
	// logTailLines is how much of each run's log a failed test prints.
	logTailLines = 150
	// logRunsShown is how many of the latest runs a failed test prints.
	logRunsShown = 3
)

// appOptions configure the binary of one test.
type appOptions struct {
	// DatabaseURL is DATABASE_URL; empty uses SQLite in the data directory.
	DatabaseURL string
	// Portal gives B24_CLIENT_ID and B24_CLIENT_SECRET.
	Portal *b24fake.Portal
	// Env sets more variables or overrides the defaults of appEnv.
	Env map[string]string
}

// appServer is the binary of one test. Restarts keep the port, the data
// directory and the database, so the URLs the portal stored stay valid.
type appServer struct {
	t       *testing.T
	bin     string
	port    int
	base    string // http://127.0.0.1:<port>
	dataDir string
	logDir  string
	env     []string
	http    *http.Client

	runs int
	proc *appProcess // nil while stopped
}

// appProcess is one run of the binary.
type appProcess struct {
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{}
	err     error // the result of Wait, set before exited is closed
}

// startApp starts the binary and waits until it is ready. The binary is
// killed when the test ends, and a failed test prints the end of its logs.
func startApp(t *testing.T, opts appOptions) *appServer {
	t.Helper()
	a := &appServer{
		t:       t,
		bin:     appBinary(t),
		port:    freePort(t),
		dataDir: t.TempDir(),
		logDir:  logDir(t),
		http:    newHTTPClient(),
	}
	a.base = "http://127.0.0.1:" + strconv.Itoa(a.port)
	a.env = a.appEnv(opts)
	t.Cleanup(a.cleanup)
	a.start()
	return a
}

// appEnv is the environment of the binary: only the variables set here and
// PATH, HOME and TMPDIR, so the caller's configuration never leaks in.
func (a *appServer) appEnv(opts appOptions) []string {
	vars := map[string]string{
		"APP_ENV":             "development",
		"HTTP_ADDR":           "127.0.0.1:" + strconv.Itoa(a.port),
		"PUBLIC_URL":          a.base,
		"DATA_DIR":            a.dataDir,
		"DATABASE_URL":        opts.DatabaseURL,
		"SECRET_KEY":          randomHex(32),
		"WHATSAPP_BACKEND":    "simulator",
		"SIMULATOR_STATE":     filepath.Join(a.dataDir, "simulator.json"),
		"ALLOW_INSECURE_HTTP": "true",
		"BX24_SCRIPT_URL":     "-",
		"LOG_LEVEL":           "debug",
		"INSTANCE_ID":         "e2e",
		"SHUTDOWN_TIMEOUT":    "10s",
	}
	if opts.Portal != nil {
		vars["B24_CLIENT_ID"] = opts.Portal.ClientID()
		vars["B24_CLIENT_SECRET"] = opts.Portal.ClientSecret()
	}
	for k, v := range opts.Env {
		vars[k] = v
	}
	for _, k := range []string{"PATH", "HOME", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			vars[k] = v
		}
	}
	env := make([]string, 0, len(vars))
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env
}

// start runs the binary once more and waits for /readyz.
func (a *appServer) start() {
	a.t.Helper()
	if a.proc != nil {
		a.t.Fatal("start: the app is already running")
	}
	a.runs++
	logPath := filepath.Join(a.logDir, fmt.Sprintf("run-%03d.log", a.runs))
	logFile, err := os.Create(logPath)
	if err != nil {
		a.t.Fatal(err)
	}
	cmd := exec.Command(a.bin)
	cmd.Env = a.env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		a.t.Fatalf("start the app: %v", err)
	}
	p := &appProcess{cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		_ = logFile.Close()
		close(p.exited)
	}()
	a.proc = p
	a.waitReady(p)
}

// waitReady polls /readyz until it returns 200, and fails the test when
// the process exits or startTimeout passes first.
func (a *appServer) waitReady(p *appProcess) {
	a.t.Helper()
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-p.exited:
			a.proc = nil
			a.t.Fatalf("the app exited before it was ready (%v); log %s:\n%s", p.err, p.logPath, tail(p.logPath, logTailLines))
		default:
		}
		if res, err := a.http.Get(a.base + "/readyz"); err == nil {
			_ = res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("the app was not ready within %s; log %s:\n%s", startTimeout, p.logPath, tail(p.logPath, logTailLines))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends SIGTERM and requires a clean exit (status 0) within
// stopTimeout.
func (a *appServer) stop() {
	a.t.Helper()
	p := a.proc
	if p == nil {
		a.t.Fatal("stop: the app is not running")
	}
	a.proc = nil
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		a.t.Fatalf("send SIGTERM: %v", err)
	}
	select {
	case <-p.exited:
	case <-time.After(stopTimeout):
		_ = p.cmd.Process.Kill()
		<-p.exited
		a.t.Fatalf("the app did not stop within %s of SIGTERM; log %s", stopTimeout, p.logPath)
	}
	if p.err != nil {
		a.t.Fatalf("the app did not exit cleanly after SIGTERM: %v; log %s:\n%s", p.err, p.logPath, tail(p.logPath, logTailLines))
	}
}

// kill ends the binary with SIGKILL, as a crash or an OOM kill does.
func (a *appServer) kill() {
	a.t.Helper()
	p := a.proc
	if p == nil {
		a.t.Fatal("kill: the app is not running")
	}
	a.proc = nil
	_ = p.cmd.Process.Kill()
	<-p.exited
	var exit *exec.ExitError
	if !errors.As(p.err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		a.t.Errorf("the app ended with %v before SIGKILL reached it; log %s", p.err, p.logPath)
	}
}

// cleanup kills a binary still running and, when the test failed, prints
// the end of the latest runs' logs.
func (a *appServer) cleanup() {
	if p := a.proc; p != nil {
		_ = p.cmd.Process.Kill()
		<-p.exited
		a.proc = nil
	}
	if !a.t.Failed() {
		return
	}
	first := max(1, a.runs-logRunsShown+1)
	for run := first; run <= a.runs; run++ {
		path := filepath.Join(a.logDir, fmt.Sprintf("run-%03d.log", run))
		a.t.Logf("app log %s (last %d lines):\n%s", path, logTailLines, tail(path, logTailLines))
	}
	if os.Getenv("E2E_LOG_DIR") == "" {
		a.t.Log("set E2E_LOG_DIR to keep the logs of every run")
	}
}

// logDir is E2E_LOG_DIR/<test name> when E2E_LOG_DIR is set, else a
// temporary directory removed with the test.
func logDir(t *testing.T) string {
	t.Helper()
	root := os.Getenv("E2E_LOG_DIR")
	if root == "" {
		return t.TempDir()
	}
	dir := filepath.Join(root, regexp.MustCompile(`[^A-Za-z0-9_.-]+`).ReplaceAllString(t.Name(), "_"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}

// freePort returns a TCP port that was free on 127.0.0.1 a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// newHTTPClient returns the client of every request to the app. It takes no
// proxy from the environment, so requests stay on loopback, and follows no
// redirect, so a test gets the app's own response.
func newHTTPClient() *http.Client {
	return &http.Client{
		Timeout:       30 * time.Second,
		Transport:     &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 16},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
