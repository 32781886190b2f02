package stackctl

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/infra/stack"
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

// devWith opens the project's dev stack, a Fly stack with settings
// ("key: value" lines).
func devWith(t *testing.T, settings ...string) auto.Stack {
	t.Helper()
	root, _ := project(t)
	file := "config:\n  emothe:backend: fly\n  " + strings.Join(settings, "\n  ") + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(root, "Pulumi.dev.yaml"), []byte(file), 0o600))
	st, err := Open(context.Background(), root, "dev", nil)
	require.NoError(t, err)
	return st
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
	ctx := context.Background()
	st := devWith(t, "emothe:appName: emothe-dev", `emothe:dedicatedIpv4: "yes"`)

	err := Check(ctx, st, nil)
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

// Up records what each update leaves the stack on, and the caller's own
// event streams still get every event.
func TestUpRecordsReleases(t *testing.T) {
	root, _ := project(t)
	ctx := context.Background()
	var fail, early bool
	program := func(ctx *pulumi.Context) error {
		if early {
			return errors.New("a configuration error: nothing registered")
		}
		var r pulumi.ResourceState
		if err := ctx.RegisterComponentResource("emothe:test:Thing", "thing", &r); err != nil {
			return err
		}
		if fail { // after a change: a new resource
			var r2 pulumi.ResourceState
			if err := ctx.RegisterComponentResource("emothe:test:Thing", "rollout", &r2); err != nil {
				return err
			}
			return errors.New("the rollout failed")
		}
		ctx.Export("image", pulumi.String(config.Get(ctx, "emothe:image")))
		return nil
	}
	st, err := Open(ctx, root, "dev", program)
	require.NoError(t, err)
	setImage := func(image string) {
		require.NoError(t, st.SetConfig(ctx, "emothe:image", auto.ConfigValue{Value: image}))
	}

	setImage(v1)
	mine := make(chan events.EngineEvent)
	seen := make(chan int)
	go func() {
		n := 0
		for range mine {
			n++
		}
		seen <- n
	}()
	_, err = Up(ctx, st, optup.EventStreams(mine))
	require.NoError(t, err)
	assert.Positive(t, <-seen, "the caller's stream got the events")

	setImage(v2)
	fail = true
	_, err = Up(ctx, st)
	require.ErrorContains(t, err, "the rollout failed")

	setImage(v3)
	early = true
	_, err = Up(ctx, st)
	require.Error(t, err)

	history, err := Releases(ctx, st)
	require.NoError(t, err)
	require.Len(t, history, 2, "the update that changed nothing is not recorded: %v", history)
	assert.Equal(t, []bool{false, true}, []bool{history[0].OK, history[1].OK})
	assert.Equal(t, []string{v2, v1}, []string{history[0].Image, history[1].Image})
}

// A stack that protects its database is not destroyed: the refusal names
// the setting, before the engine runs.
func TestDestroyRefusesAProtectedDatabase(t *testing.T) {
	st := devWith(t, "emothe:protectDatabase: true")
	_, err := Destroy(context.Background(), st)
	require.ErrorIs(t, err, stack.ErrProtected)
	assert.ErrorContains(t, err, "emothe:protectDatabase")
}
