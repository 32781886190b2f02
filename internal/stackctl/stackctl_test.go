package stackctl

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// project lays out a project with one stack file (dev) and points the
// process's Pulumi environment at a fresh file backend.
func project(t *testing.T) (root, state string) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the Pulumi CLI")
	}
	root, state = t.TempDir(), t.TempDir()
	t.Setenv("PULUMI_BACKEND_URL", "file://"+state)
	t.Setenv("PULUMI_HOME", t.TempDir())
	t.Setenv("PULUMI_CONFIG_PASSPHRASE", "stackctl-test-only")
	t.Setenv("PULUMI_SKIP_UPDATE_CHECK", "true")
	require.NoError(t, os.WriteFile(filepath.Join(root, "Pulumi.yaml"), []byte("name: emothe\nruntime: go\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(root, "Pulumi.dev.yaml"), []byte("config:\n  emothe:backend: fly\n"), 0o600))
	return root, state
}

func stateFiles(t *testing.T, state string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(state, ".pulumi", "stacks", "emothe", "*.json"))
	require.NoError(t, err)
	return files
}

func TestUnknownStackIsRefusedAndCreatesNothing(t *testing.T) {
	root, state := project(t)
	ctx := context.Background()

	_, err := Open(ctx, root, "prdo", nil)
	require.ErrorContains(t, err, `unknown stack "prdo"`)
	assert.ErrorContains(t, err, "known stacks: dev")
	assert.ErrorContains(t, err, "make stack STACK=prdo")
	assert.NoFileExists(t, filepath.Join(root, "Pulumi.prdo.yaml"))
	assert.Empty(t, stateFiles(t, state), "no stack in the backend")

	// `make stack` creates it, file and state; a second time it refuses.
	_, err = Create(ctx, root, "prdo", "compose")
	require.NoError(t, err)
	assert.FileExists(t, filepath.Join(root, "Pulumi.prdo.yaml"))
	assert.Len(t, stateFiles(t, state), 1)
	_, err = Create(ctx, root, "prdo", "compose")
	assert.ErrorContains(t, err, "exists already")
	_, err = Create(ctx, root, "qa", "nomad")
	assert.ErrorContains(t, err, `BACKEND="nomad" is not a backend`)
	assert.NoFileExists(t, filepath.Join(root, "Pulumi.qa.yaml"))

	// State without its stack file is still a known stack.
	require.NoError(t, os.Remove(filepath.Join(root, "Pulumi.prdo.yaml")))
	st, err := Open(ctx, root, "prdo", nil)
	require.NoError(t, err)

	// The release history lives in the stack's tags, in the backend.
	require.NoError(t, record(ctx, st, ok(v1, 1)))
	require.NoError(t, record(ctx, st, failed(v2, 2)))
	require.NoError(t, record(ctx, st, failed(v2, 3))) // the same again: not repeated
	history, err := Releases(ctx, st)
	require.NoError(t, err)
	assert.Equal(t, []Release{failed(v2, 2), ok(v1, 1)}, history)
}

// Check stops a configuration the program refuses, with the program's own
// message and before anything is registered, and leaves every later error
// to the engine's run.
func TestCheck(t *testing.T) {
	root, _ := project(t)
	ctx := context.Background()
	require.NoError(t, os.WriteFile(filepath.Join(root, "Pulumi.dev.yaml"),
		[]byte("config:\n  emothe:backend: fly\n  emothe:appName: emothe-dev\n  emothe:dedicatedIpv4: \"yes\"\n"), 0o600))
	st, err := Open(ctx, root, "dev", nil)
	require.NoError(t, err)

	err = Check(ctx, st, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `emothe:dedicatedIpv4 = "yes"`)
	assert.NotContains(t, err.Error(), "error occurred", "the SDK's multierror list is unwrapped")

	late := func(ctx *pulumi.Context) error {
		var r pulumi.ResourceState
		if err := ctx.RegisterComponentResource("emothe:test:Thing", "thing", &r); err != nil {
			return err
		}
		return errors.New("an error after registering: the engine reports it")
	}
	assert.NoError(t, Check(ctx, st, late))
}
