// Package testenv finds what tests across the repository need from the
// machine they run on: the repository's root and a free local port. The
// docker helpers, the Postgres helper and the end-to-end harness all share
// it rather than each walking to go.mod or opening a listener its own way.
package testenv

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// RepoRoot is the directory of the go.mod above the working directory (a
// test runs in its package's directory): where the Dockerfile, go.mod and
// the Pulumi files are.
func RepoRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatalf("working directory: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("no go.mod above the working directory: run the tests from inside the repository")
		}
		dir = parent
	}
}

// FreePort is a TCP port on 127.0.0.1 that nothing listens on right now,
// and that no earlier call of this process returned: tests in parallel
// each take one before they bind it, and the kernel may hand the same port
// out again once its probe is closed. Another process may still take it
// before the caller binds it, so a caller that cannot tolerate that
// retries on a new port. It takes no testing.TB because servers started
// from TestMain need one too.
func FreePort() (int, error) {
	given.Lock()
	defer given.Unlock()
	for {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("find a free port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		_ = l.Close()
		if !given.ports[port] {
			given.ports[port] = true
			return port, nil
		}
	}
}

// given are the ports FreePort returned.
var given = struct {
	sync.Mutex
	ports map[int]bool
}{ports: map[int]bool{}}
