package compose

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/internal/dockertest"
	"github.com/emothe/emothe/internal/stackctl"
	"github.com/emothe/emothe/internal/testenv"
)

// TestInterruptedRunsRecover kills the `pulumi` process (SIGKILL, as a
// crash or a cancelled CI runner does) in the middle of an image build, a
// migration, an app replacement and a destroy of one stack, and runs
// after each what `make up` (or `make destroy`) runs: stackctl.Recover,
// then the operation. Each finishes with no manual step; the project's
// containers, networks and volumes on the engine are then exactly those in
// the state; and under a steady load through the proxy, no request fails
// across the kills and the recoveries. A volume of the project that the
// state lacks is adopted by the next up, and objects that are not the
// project's are never touched.
func TestInterruptedRunsRecover(t *testing.T) {
	t.Parallel() // it kills its own stack's pulumi only
	imgs := buildImages(t)
	p := newProject(t, imgs.appA)
	s := newStack(t, p.config, stackSecrets())
	t.Cleanup(func() { // the build's image, named by project and stack
		_, _ = dockertest.Docker(context.Background(), "image", "rm", p.name+":"+s.name)
	})
	ctx := context.Background()

	// Before the first up, the engine holds a volume of the project that the
	// state lacks, as an interrupted create or a protected destroy leaves
	// one, and two networks that are not the project's: another project's,
	// and one without the label under the project's prefix.
	backups := p.name + "_backups"
	_, err := dockertest.Docker(ctx, "volume", "create", "--label", "com.docker.compose.project="+p.name,
		"--label", "com.docker.compose.volume=backups", backups)
	require.NoError(t, err)
	shell := []string{"run", "--rm", "--volume", backups + ":/v", "--entrypoint", "sh", dockertest.BuilderImage(t), "-c"}
	_, err = dockertest.Docker(ctx, append(shell, "echo kept >/v/marker")...)
	require.NoError(t, err)
	foreign := []string{p.name + "_other", p.name + "_bare"}
	for i, labels := range [][]string{{"--label", "com.docker.compose.project=" + p.name + "-other"}, nil} {
		_, err := dockertest.Docker(ctx, append(append([]string{"network", "create"}, labels...), foreign[i])...)
		require.NoError(t, err)
		t.Cleanup(func() { _, _ = dockertest.Docker(context.Background(), "network", "rm", foreign[i]) })
	}
	var out strings.Builder
	require.NoError(t, stackctl.Recover(ctx, s.st, &out))
	assert.Contains(t, out.String(), "kept volume "+backups+": not in the state")
	s.up(t)
	marker, err := dockertest.Docker(ctx, append(shell, "cat /v/marker")...)
	require.NoError(t, err, "the up adopted the volume rather than making one")
	assert.Equal(t, "kept", marker)
	p.requireMatchesState(t, s)
	p.waitReady(t)
	l := startLoad(p.base+"/api/plays", loadRate)
	loaded := true
	defer func() {
		if loaded {
			l.finish()
		}
	}()

	t.Logf("%s: the step during the image build starts", l.elapsed())
	t.Run("during the image build", func(t *testing.T) {
		// No emothe:image: the stack builds the Dockerfile.
		require.NoError(t, s.st.RemoveConfig(context.Background(), "emothe:image"))
		const image = "docker:index/image:Image"
		s.killedUp(t, func() bool { return s.pendingOn(t, image) })
		// A build the engine's cache serves can finish between the poll
		// that saw it under way and the kill landing on a loaded machine:
		// the checkpoint the kill left says which happened.
		pending := s.pendingOn(t, image)
		out := s.recoverAndUp(t, p)
		if pending {
			assert.Contains(t, out, "found the pending create of "+image, "the build was under way")
		} else {
			assert.NotContains(t, out, "pending create of "+image)
			t.Log("the build had finished before the kill landed")
		}
	})

	t.Logf("%s: the step during the migration starts", l.elapsed())
	t.Run("during the migration", func(t *testing.T) {
		s.set(t, map[string]string{"image": imgs.appB})
		old := p.all(t, "migrate")
		s.killedUp(t, func() bool { return len(p.all(t, "migrate")) > len(old) })
		s.recoverAndUp(t, p)
	})

	t.Logf("%s: the step during the app replacement starts", l.elapsed())
	t.Run("during the app replacement", func(t *testing.T) {
		s.set(t, map[string]string{"image": imgs.appA})
		old := p.ids(t, "app")
		s.killedUp(t, func() bool { return len(p.ids(t, "app")) > len(old) })
		out := s.recoverAndUp(t, p)
		assert.Contains(t, out, "removed container "+p.name+"-app-", "the new replicas of the interrupted run are removed")
		for _, id := range p.ids(t, "app") {
			assert.Equal(t, imgs.appA, dockertest.Inspect(t, id, "{{.Image}}"), "replica %.12s", id)
		}
	})

	load := l.finish()
	loaded = false
	for _, n := range foreign {
		assert.Equal(t, n, dockertest.Inspect(t, n, "{{.Name}}"), "a network that is not the project's was touched")
	}
	p.assertNoFailures(t, "across the kills and recoveries", load)

	t.Run("during destroy", func(t *testing.T) {
		before := len(p.all(t, ""))
		s.killed(t, func(ctx context.Context) error {
			_, err := s.st.Destroy(ctx)
			return err
		}, func() bool { return len(p.all(t, "")) < before })
		var out strings.Builder
		require.NoError(t, stackctl.Recover(context.Background(), s.st, &out))
		s.record("recover", out.String())
		t.Logf("the recovery's report:\n%s", out.String())
		_, err := stackctl.Destroy(context.Background(), s.st, optdestroy.ProgressStreams(&out))
		s.record("destroy", out.String())
		require.NoError(t, err, s.out.String())
		p.requireMatchesState(t, s)
		assert.Empty(t, p.all(t, ""), "containers left after the destroy")
	})
}

// killedUp runs an up (as make up does, through stackctl.Up) and kills its
// `pulumi` once at says the kill point is reached.
func (s *stack) killedUp(t testing.TB, at func() bool) {
	t.Helper()
	s.killed(t, func(ctx context.Context) error {
		_, err := stackctl.Up(ctx, s.st)
		return err
	}, at)
}

// killed runs op and SIGKILLs the `pulumi` process it started once at,
// polled, says the kill point is reached.
func (s *stack) killed(t testing.TB, op func(context.Context) error, at func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- op(ctx) }()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for !at() {
		select {
		case err := <-done:
			t.Fatalf("the run ended before the kill point (err %v):\n%s", err, s.out.String())
		case <-tick.C:
		}
	}
	killed := testenv.KillChildren("pulumi", s.name)
	require.NotEmpty(t, killed, "no pulumi process to kill")
	err := <-done
	require.Error(t, err, "the killed run")
	s.record("killed", err.Error())
}

// recoverAndUp runs what make up runs after the kill: the recovery, then
// the up. It checks that the up finished, that the engine's objects of the
// project are exactly the state's, and returns the recovery's report.
func (s *stack) recoverAndUp(t *testing.T, p project) string {
	t.Helper()
	var out strings.Builder
	require.NoError(t, stackctl.Recover(context.Background(), s.st, &out), s.out.String())
	s.record("recover", out.String())
	report := out.String()
	t.Logf("the recovery's report:\n%s", report)
	assert.Contains(t, report, "removed the stale lock", "the killed run's lock")
	s.up(t)
	p.requireMatchesState(t, s)
	return report
}

// pendingOn reports whether the stack's checkpoint in the suite's file
// backend records an operation pending on a resource of typ: the engine
// writes it as the step starts, and clears it once the provider answers.
func (s *stack) pendingOn(tb testing.TB, typ string) bool {
	tb.Helper()
	dir := strings.TrimPrefix(os.Getenv("PULUMI_BACKEND_URL"), "file://")
	b, err := os.ReadFile(filepath.Join(dir, ".pulumi", "stacks", "emothe", s.name+".json"))
	if err != nil {
		return false
	}
	var file struct {
		Checkpoint struct {
			Latest struct {
				Pending []apitype.OperationV2 `json:"pending_operations"`
			} `json:"latest"`
		} `json:"checkpoint"`
	}
	if json.Unmarshal(b, &file) != nil {
		return false // being written
	}
	for _, op := range file.Checkpoint.Latest.Pending {
		if string(op.Resource.Type) == typ {
			return true
		}
	}
	return false
}

// all are the IDs of the project's containers of service (any service
// when ""), running or not.
func (p project) all(tb testing.TB, service string) []string {
	tb.Helper()
	args := []string{"ps", "--all", "--quiet", "--no-trunc", "--filter", p.filter()}
	if service != "" {
		args = append(args, "--filter", "label=com.docker.compose.service="+service)
	}
	out, err := dockertest.Docker(context.Background(), args...)
	require.NoError(tb, err)
	return strings.Fields(out)
}

// requireMatchesState checks that the project's containers, networks and
// volumes on the engine are exactly those the stack's state holds, and
// that nothing is left pending.
func (p project) requireMatchesState(tb testing.TB, s *stack) {
	tb.Helper()
	ctx := context.Background()
	dep, err := s.st.Export(ctx)
	require.NoError(tb, err)
	var state struct {
		Resources []struct {
			Type string `json:"type"`
			ID   string `json:"id"`
		} `json:"resources"`
		Pending []json.RawMessage `json:"pending_operations"`
	}
	require.NoError(tb, json.Unmarshal(dep.Deployment, &state))
	assert.Empty(tb, state.Pending, "pending operations left in the state")
	held := map[string][]string{}
	for _, r := range state.Resources {
		kind, ok := strings.CutPrefix(r.Type, "docker:index/")
		if kind, _, _ = strings.Cut(kind, ":"); ok && slices.Contains([]string{"container", "network", "volume"}, kind) {
			held[kind] = append(held[kind], r.ID)
		}
	}
	found := map[string][]string{"container": p.all(tb, "")}
	for _, kind := range []string{"network", "volume"} {
		// Quiet, a network is its full ID and a volume its name: their IDs in the state.
		args := []string{kind, "ls", "--quiet", "--filter", p.filter()}
		if kind == "network" {
			args = append(args, "--no-trunc")
		}
		out, err := dockertest.Docker(ctx, args...)
		require.NoError(tb, err)
		found[kind] = strings.Fields(out)
	}
	for _, kind := range slices.Sorted(maps.Keys(found)) {
		assert.ElementsMatch(tb, held[kind], found[kind], "%ss of project %s on the engine vs in the state:\n%s", kind, p.name, s.out.String())
	}
}
