// Package flystandin puts a stand-in for flyctl first on PATH, for tests of
// commands that reach a Fly database through `fly proxy` or `fly mpg
// proxy`: Fly.io cannot be reached here. The stand-in (testdata/fly)
// forwards the proxy's local port to an address the test chooses, such as
// a throwaway Postgres of internal/pgtest. Everything else about flyctl is
// not stood in for.
package flystandin

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Standin is an installed stand-in.
type Standin struct {
	// Bin is the stand-in executable, named fly.
	Bin string
	log string
}

// Install builds the stand-in into a directory of tb's, puts that first on
// PATH for the rest of tb, and routes each host or Managed Postgres
// cluster ID of targets to its host:port. `fly mpg proxy` listens on
// mpgPort (flyctl's is 16380). It uses tb.Setenv, so tb cannot be parallel.
func Install(tb testing.TB, targets map[string]string, mpgPort string) *Standin {
	tb.Helper()
	dir := tb.TempDir()
	bin := filepath.Join(dir, "fly")
	build := exec.Command("go", "build", "-o", bin, "./testdata/fly")
	build.Dir = sourceDir()
	if out, err := build.CombinedOutput(); err != nil {
		tb.Fatalf("flystandin: build the stand-in fly: %v\n%s", err, out)
	}
	routes, err := json.Marshal(targets)
	if err != nil {
		tb.Fatal(err)
	}
	s := &Standin{Bin: bin, log: filepath.Join(dir, "calls.log")}
	tb.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	tb.Setenv("EMOTHE_FLY_STANDIN_TARGETS", string(routes))
	tb.Setenv("EMOTHE_FLY_STANDIN_LOG", s.log)
	tb.Setenv("EMOTHE_FLY_STANDIN_MPG_PORT", mpgPort)
	return s
}

// Calls are the stand-in's invocations so far, one line each: its
// arguments, then "(token)" or "(no token)" for whether FLY_API_TOKEN was
// set.
func (s *Standin) Calls(tb testing.TB) []string {
	tb.Helper()
	b, err := os.ReadFile(s.log)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		tb.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// sourceDir is this package's directory, where testdata/fly is.
func sourceDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(file)
}
