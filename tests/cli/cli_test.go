// Package cli runs a Fly stack the way its users do, through the plain
// Pulumi CLI: `pulumi preview`, `pulumi up` and `pulumi destroy --stack
// <stack>` in the repository's root, where the real Go language host
// compiles main.go, with the flyio provider plugin built from this tree,
// against the Fly fake.
package cli

import (
	"crypto/rand"
	"encoding/hex"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/provider/flyfake"
	"github.com/emothe/emothe/tests/e2e/harness"
)

func TestMain(m *testing.M) { harness.Main(m) }

const image = "registry.fly.io/emothe@sha256:3333333333333333333333333333333333333333333333333333333333333333"

var quick = flyfake.Options{BootDelay: 50 * time.Millisecond, HealthDelay: 100 * time.Millisecond}

// devStack opens a throwaway copy of the dev stack on a fresh fake, named
// appName, running image.
func devStack(tb testing.TB) (*harness.Env, *harness.Stack, string) {
	tb.Helper()
	env := harness.New(tb, quick)
	appName := "emothe-cli-" + randomHex(3)
	s := env.RootStack(tb, "dev", map[string]string{"emothe:appName": appName, "emothe:image": image},
		map[string]string{"emothe:secretKeyBase": randomHex(64), "emothe:databasePassword": randomHex(16)})
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Log(s.Transcript())
		}
	})
	return env, s, appName
}

func TestFlyStackThroughTheCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: the Pulumi CLI, the Go language host and the provider against the Fly fake")
	}
	env, s, appName := devStack(t)

	s.CLI(t, "preview", "--diff")
	assert.Empty(t, env.Fake.State().Apps, "a preview created something")

	s.CLI(t, "up", "--yes", "--skip-preview")
	var app *flyfake.AppState
	for _, a := range env.Fake.State().Apps {
		if a.Name == appName {
			app = &a
		}
	}
	require.NotNil(t, app, "pulumi up created no app %s", appName)
	running := 0
	for _, m := range app.Machines {
		if m.State == "started" {
			running++
			assert.Equal(t, image, *m.Config.Image)
		}
	}
	assert.Equal(t, 1, running, "the dev stack runs one machine")

	s.CLI(t, "preview", "--expect-no-changes", "--diff")
	s.CLI(t, "preview", "--refresh", "--expect-no-changes", "--diff")

	s.CLI(t, "destroy", "--yes", "--skip-preview")
	for _, a := range env.Fake.State().Apps {
		assert.NotEqual(t, appName, a.Name, "destroy left the app")
	}
}

// BenchmarkCLIPreview times `pulumi preview --stack <dev copy>` through the
// plain CLI: cold, with an empty Go build cache of its own, so the language
// host compiles main.go and all its dependencies, then warm, with that
// cache filled.
func BenchmarkCLIPreview(b *testing.B) {
	_, s, _ := devStack(b)
	for b.Loop() {
		b.Setenv("GOCACHE", filepath.Join(b.TempDir(), "gocache"))
		start := time.Now()
		s.CLI(b, "preview")
		cold := time.Since(start)
		start = time.Now()
		s.CLI(b, "preview")
		b.ReportMetric(cold.Seconds(), "cold-s")
		b.ReportMetric(time.Since(start).Seconds(), "warm-s")
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
