// Package flystandin puts a stand-in for flyctl first on PATH, for tests of
// commands that reach a Fly database through `fly proxy` or `fly mpg
// proxy`: Fly.io cannot be reached here. The stand-in (testdata/fly)
// forwards the proxy's local port to an address the test routes the
// database's host (or cluster) to, such as a throwaway Postgres of
// internal/pgtest. Nothing else of flyctl is stood in for.
package flystandin

import (
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/emothe/emothe/infra/stack"
	"github.com/emothe/emothe/internal/datamove"
	"github.com/emothe/emothe/internal/testenv"
)

// Standin is an installed stand-in.
type Standin struct {
	// Bin is the stand-in executable, named fly.
	Bin    string
	dir    string
	routes map[string]string
}

// Build builds the stand-in into a directory of tb's, where it keeps its
// routes and its calls; pass Bin as the fly binary (datamove.Options.Fly).
// It touches no environment, so tb may be parallel.
func Build(tb testing.TB) *Standin {
	tb.Helper()
	dir := tb.TempDir()
	bin := filepath.Join(dir, "fly")
	build := exec.Command("go", "build", "-o", bin, "./internal/flystandin/testdata/fly")
	build.Dir = testenv.RepoRoot(tb)
	if out, err := build.CombinedOutput(); err != nil {
		tb.Fatalf("flystandin: build the stand-in fly: %v\n%s", err, out)
	}
	port, err := testenv.FreePort()
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "mpg-port"), []byte(strconv.Itoa(port)), 0o600); err != nil {
		tb.Fatal(err)
	}
	return &Standin{Bin: bin, dir: dir, routes: map[string]string{}}
}

// Install is Build with the stand-in first on PATH for the rest of tb, for
// commands that run `fly` (make switch, make move-data). It uses tb.Setenv,
// so tb cannot be parallel.
func Install(tb testing.TB) *Standin {
	tb.Helper()
	s := Build(tb)
	tb.Setenv("PATH", s.dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return s
}

// Route sends the stand-in's proxies for target (a host such as
// emothe-dev-db.internal, or a Managed Postgres cluster ID) to addr
// (host:port).
func (s *Standin) Route(tb testing.TB, target, addr string) {
	tb.Helper()
	s.routes[target] = addr
	b, err := json.Marshal(s.routes)
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.dir, "routes.json"), b, 0o600); err != nil {
		tb.Fatal(err)
	}
}

// MachineEndpoint is the endpoint datamove.Resolve gives a Fly stack
// named stackName of app whose database is a Postgres machine, with the
// credentials of dsn, where the stand-in routes the machine's host; api
// reaches the app's machines (the fake Fly API).
func (s *Standin) MachineEndpoint(tb testing.TB, stackName, app, dsn string, api datamove.FlyAPI) datamove.Endpoint {
	tb.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatal(err)
	}
	db := app + "-db"
	s.Route(tb, db+".internal", u.Host)
	pw, _ := u.User.Password()
	return datamove.Endpoint{Stack: stackName, Backend: "fly", App: app, Fly: &datamove.FlyDatabase{
		Machine: db, Host: db + ".internal",
		User: u.User.Username(), Password: stack.NewSecret(pw), Name: strings.TrimPrefix(u.Path, "/"),
		SSLMode: "disable", API: api,
	}}
}

// ClusterEndpoint is MachineEndpoint for a Managed Postgres cluster.
func (s *Standin) ClusterEndpoint(tb testing.TB, stackName, app, cluster, dsn string, api datamove.FlyAPI) datamove.Endpoint {
	tb.Helper()
	e := s.MachineEndpoint(tb, stackName, app, dsn, api)
	s.Route(tb, cluster, s.routes[e.Fly.Host])
	e.Fly.Machine, e.Fly.Host, e.Fly.Cluster = "", "", cluster
	return e
}

// Calls are the stand-in's invocations so far, one line each: its
// arguments, then "(token)" or "(no token)" for whether FLY_API_TOKEN was
// set.
func (s *Standin) Calls(tb testing.TB) []string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(s.dir, "calls.log"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		tb.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}
