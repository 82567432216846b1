package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// build is the app binary, built at most once per test binary run.
var build struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "b24wa-e2e-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "create directory for the app binary: %v\n", err)
		os.Exit(1)
	}
	build.dir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// appBinary returns the path of the app binary, building ./app on first
// use. go test runs the tests in this package's directory, and the module
// root is its parent.
func appBinary(t *testing.T) string {
	t.Helper()
	build.once.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			build.err = fmt.Errorf("find the go command to build ./app: %w", err)
			return
		}
		path := filepath.Join(build.dir, "app")
		cmd := exec.Command(goTool, "build", "-o", path, "./app")
		cmd.Dir = ".."
		out, err := cmd.CombinedOutput()
		if err != nil {
			build.err = fmt.Errorf("go build ./app: %w\n%s", err, out)
			return
		}
		build.path = path
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.path
}
