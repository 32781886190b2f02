package harness

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"

	"github.com/emothe/emothe/infra"
	"github.com/emothe/emothe/internal/stackctl"
)

// RootStack is a throwaway stack worked on in the repository's root, as a
// user works: there the CLI compiles main.go with the Go language host,
// and an image build's context is the repository. Its settings start as
// the committed Pulumi.<from>.yaml's, in a Pulumi.test-<random>.yaml that
// .gitignore ignores and the test removes; config and secrets are set as
// Stack sets them. The flyio plugin the harness built is found on PATH.
func (e *Env) RootStack(tb testing.TB, from string, config, secrets map[string]string) *Stack {
	tb.Helper()
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	name := "test-" + hex.EncodeToString(b)
	committed, err := os.ReadFile(filepath.Join(e.Root, "Pulumi."+from+".yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	file := filepath.Join(e.Root, "Pulumi."+name+".yaml")
	if err := os.WriteFile(file, committed, 0o600); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = os.Remove(file) })
	tb.Setenv("PATH", plugin.dir+string(os.PathListSeparator)+os.Getenv("PATH"))

	st, err := stackctl.Open(context.Background(), e.Root, name, infra.Run)
	if err != nil {
		tb.Fatalf("opening stack %s: %v", name, err)
	}
	s := &Stack{Name: name, Dir: e.Root, St: st}
	s.SetConfig(tb, e.stackConfig(config, secrets))
	return s
}

// CLI runs `pulumi <args> --stack <stack>` in the stack's directory, as a
// user types it, and returns its output; a failure fails the test.
func (s *Stack) CLI(tb testing.TB, args ...string) string {
	tb.Helper()
	cmd := exec.Command("pulumi", append(args, "--stack", s.Name, "--non-interactive")...)
	cmd.Dir = s.Dir
	out, err := cmd.CombinedOutput()
	s.record("pulumi "+strings.Join(args, " "), string(out))
	if err != nil {
		tb.Fatalf("pulumi %s --stack %s: %v\n%s", strings.Join(args, " "), s.Name, err, out)
	}
	return string(out)
}

// stackConfig is the provider pointed at the fake, plus config (plain)
// and secrets (encrypted), by full key.
func (e *Env) stackConfig(config, secrets map[string]string) auto.ConfigMap {
	values := auto.ConfigMap{
		"flyio:apiUrl": {Value: e.APIURL},
		"flyio:token":  {Value: e.Token(), Secret: true},
	}
	for k, v := range config {
		values[k] = auto.ConfigValue{Value: v}
	}
	for k, v := range secrets {
		values[k] = auto.ConfigValue{Value: v, Secret: true}
	}
	return values
}
