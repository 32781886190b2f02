// Package harness runs the project's Pulumi program end to end, on this
// machine, against the in-repo fake of the Fly API: the Pulumi CLI from the
// bootstrap (`make tools`), the flyio provider plugin built from this tree,
// the inline program (internal/stackctl with infra.Run, exactly what main.go
// runs) and provider/flyfake served on 127.0.0.1.
//
// NewFly is the one switch to the real Fly API: with EMOTHE_E2E_FLY=1 and
// FLY_API_TOKEN set (realfly.go), its Env drives real Fly through the fake
// as a recording proxy, with throwaway app names and the smallest machines,
// and destroys everything when the test ends, failed or not.
//
// Every Env has its own Pulumi home, file state backend and passphrase, set
// in the process environment (so tests using it cannot run in parallel),
// and every Stack works on copies of Pulumi.yaml and Pulumi.<stack>.yaml: the
// committed files are never touched.
//
// A test binary using the harness runs its tests through Main, which builds
// the provider plugin once and removes it at the end:
//
//	func TestMain(m *testing.M) { harness.Main(m) }
package harness

import (
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"

	"github.com/emothe/emothe/internal/testenv"
	"github.com/emothe/emothe/provider/flyfake"
)

// PluginVersion is stamped into the provider plugin the harness builds.
// The SDK pins no version, and Pulumi.yaml's `plugins:` entry names the
// binary by path, so any semver does.
const PluginVersion = "0.0.1-e2e"

// Passphrase encrypts the secrets of the harness's throwaway stacks.
const Passphrase = "emothe-e2e-only"

var plugin struct {
	once sync.Once
	dir  string // holds pulumi-resource-flyio
	err  error
}

// Main runs the tests of a package that uses the harness, then removes the
// provider plugin it built.
func Main(m *testing.M) {
	code := m.Run()
	if plugin.dir != "" {
		_ = os.RemoveAll(plugin.dir)
	}
	os.Exit(code)
}

// Env is one isolated Pulumi environment and one Fly fake.
type Env struct {
	Root string
	// Dir is scratch space: state, Pulumi home, stack work directories.
	Dir string
	// Fake is the API the provider talks to. Against real Fly it is a
	// recording proxy in front of it: its calls and violations are real
	// Fly's, its own state is empty; read State instead.
	Fake *flyfake.Fake
	// APIURL is the fake's base URL, what `flyio:apiUrl` is set to.
	APIURL string

	real *realFly // nil on the fake
}

// New checks the Pulumi CLI, builds the provider plugin (once per test
// binary), starts a fake with opts on 127.0.0.1 and points the process's
// Pulumi environment at a fresh home and state directory. It fails, never
// skips, when the CLI is missing.
func New(tb testing.TB, opts flyfake.Options) *Env {
	tb.Helper()
	return newEnv(tb, opts, nil)
}

// NewFly is New, or, when EMOTHE_E2E_FLY=1 and FLY_API_TOKEN are set, an
// Env on the real Fly API (see realfly.go for the other variables).
func NewFly(tb testing.TB, opts flyfake.Options) *Env {
	tb.Helper()
	onFly := realFlyFromEnv(tb)
	if onFly != nil {
		opts = flyfake.Options{Upstream: onFly.upstream}
	}
	return newEnv(tb, opts, onFly)
}

func newEnv(tb testing.TB, opts flyfake.Options, onFly *realFly) *Env {
	tb.Helper()
	root := testenv.RepoRoot(tb)
	cli := PulumiCLI(tb)
	plugin.once.Do(func() { plugin.dir, plugin.err = buildPlugin(root) })
	if plugin.err != nil {
		tb.Fatalf("building the flyio provider plugin: %v", plugin.err)
	}

	dir := tb.TempDir()
	state := filepath.Join(dir, "state")
	if err := os.MkdirAll(state, 0o700); err != nil {
		tb.Fatal(err)
	}
	tb.Setenv("PATH", filepath.Dir(cli)+string(os.PathListSeparator)+os.Getenv("PATH"))
	tb.Setenv("PULUMI_HOME", PulumiHome(tb, dir))
	tb.Setenv("PULUMI_BACKEND_URL", "file://"+state)
	tb.Setenv("PULUMI_CONFIG_PASSPHRASE", Passphrase)
	tb.Setenv("PULUMI_SKIP_UPDATE_CHECK", "true")
	// The provider takes its API and token from the stack's config alone,
	// never from the caller's environment (real Fly's token was read above).
	tb.Setenv("FLY_API_TOKEN", "")
	tb.Setenv("FLY_FLAPS_BASE_URL", "")

	fake, url := ServeFake(tb, opts)
	return &Env{Root: root, Dir: dir, Fake: fake, APIURL: url, real: onFly}
}

// PulumiHome makes a fresh Pulumi home in dir, for commands that must not
// touch the user's (`pulumi login` writes there), and returns it. It shares
// the user's plugins: pulumi-docker's, which the program's SDK asks for, is
// installed there by `make tools` and cannot be downloaded here.
func PulumiHome(tb testing.TB, dir string) string {
	tb.Helper()
	home := filepath.Join(dir, "pulumi-home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		tb.Fatal(err)
	}
	plugins, err := workspace.GetPluginDir() // where Pulumi itself looks: PULUMI_HOME, else the user's
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.Symlink(plugins, filepath.Join(home, "plugins")); err != nil {
		tb.Fatal(err)
	}
	return home
}

// ServeFake serves a fake with opts on 127.0.0.1 until the test ends, and
// returns it with its base URL. It touches no environment, so tests that
// run commands with an environment of their own can call it in parallel.
func ServeFake(tb testing.TB, opts flyfake.Options) (*flyfake.Fake, string) {
	tb.Helper()
	fake := flyfake.New(opts)
	srv := httptest.NewServer(fake) // 127.0.0.1 on a free port
	tb.Cleanup(srv.Close)
	tb.Cleanup(func() {
		// Fly serves some requests a strict reading of its spec refuses;
		// the project's client sends none of them.
		if v := fake.Violations(); len(v) > 0 {
			tb.Errorf("requests that break a strict reading of Fly's API spec: %+v", v)
		}
		if v := fake.ResponseViolations(); len(v) > 0 {
			tb.Errorf("answers of the fake that break Fly's API spec: %+v", v)
		}
	})
	return fake, srv.URL
}

// Token is the API token the stacks are configured with.
func (e *Env) Token() string {
	if e.real != nil {
		return e.real.token
	}
	return e.Fake.Token()
}

// State is what Fly holds for the stacks' apps: the fake's state, or the
// same read from real Fly.
func (e *Env) State(tb testing.TB) flyfake.State {
	tb.Helper()
	if e.real != nil {
		return e.real.state(tb)
	}
	return e.Fake.State()
}

// SeesInternals tells whether State shows what Fly's API does not: secrets
// versions, a machine's min_secrets_version, cordons. Only the fake does.
func (e *Env) SeesInternals() bool { return e.real == nil }

// SetFaults injects faults into the fake. Real Fly cannot be made to fail
// on purpose, so there the test is skipped.
func (e *Env) SetFaults(tb testing.TB, fl flyfake.Faults) {
	tb.Helper()
	if e.real != nil {
		tb.Skip("injected faults need the fake; this run is against real Fly")
	}
	if err := e.Fake.SetFaults(fl); err != nil {
		tb.Fatal(err)
	}
}

// Images are the two releases the scenarios deploy: onFake on the fake,
// real images of the service on real Fly.
func (e *Env) Images(onFake [2]string) [2]string {
	if e.real != nil {
		return e.real.images
	}
	return onFake
}

// PulumiCLI finds the Pulumi CLI on PATH or where `make tools` puts it.
func PulumiCLI(tb testing.TB) string {
	tb.Helper()
	if p, err := exec.LookPath("pulumi"); err == nil {
		return p
	}
	home := os.Getenv("EMOTHE_HOME")
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			tb.Fatalf("the Pulumi CLI is not on PATH and the home directory is unknown (%v): run `make tools`", err)
		}
		home = filepath.Join(h, ".emothe")
	}
	p := filepath.Join(home, "bin", "pulumi")
	if _, err := os.Stat(p); err != nil {
		tb.Fatalf("the Pulumi CLI is neither on PATH nor at %s: run `make tools`", p)
	}
	return p
}

// buildPlugin builds pulumi-resource-flyio from this tree into a new
// directory.
func buildPlugin(root string) (string, error) {
	dir, err := os.MkdirTemp("", "emothe-e2e-plugin-")
	if err != nil {
		return "", err
	}
	cmd := exec.Command("go", "build",
		"-ldflags", "-X github.com/emothe/emothe/provider.Version="+PluginVersion,
		"-o", filepath.Join(dir, "pulumi-resource-flyio"), "./provider/cmd/pulumi-resource-flyio")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		_ = os.RemoveAll(dir)
		return "", fmt.Errorf("go build ./provider/cmd/pulumi-resource-flyio: %w\n%s", err, out)
	}
	return dir, nil
}

// projectFile is the repository's Pulumi.yaml with the built plugin named
// by path, which the CLI honours without a plugin install.
func projectFile(root string) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(root, "Pulumi.yaml"))
	if err != nil {
		return nil, err
	}
	if strings.Contains(string(b), "\nplugins:") {
		return nil, errors.New("the project file Pulumi.yaml already has a plugins: section; the harness would shadow it")
	}
	return fmt.Appendf(b, "\n# Added by tests/e2e/harness.\nplugins:\n  providers:\n    - name: flyio\n      path: %s\n", plugin.dir), nil
}
