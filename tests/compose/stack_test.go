package compose

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/infra"
	"github.com/emothe/emothe/internal/stackctl"
	"github.com/emothe/emothe/internal/testenv"
)

// passphrase encrypts the secrets of the suite's throwaway stacks.
const passphrase = "emothe-compose-test-only"

// TestMain points Pulumi at a state directory of the suite's own. Plugins
// come from the user's Pulumi home, where `make tools` installed the real
// pulumi-docker provider; Pulumi.yaml is the repository's own.
func TestMain(m *testing.M) {
	state, err := os.MkdirTemp("", "emothe-compose-state-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for k, v := range map[string]string{
		"PULUMI_BACKEND_URL":       "file://" + state,
		"PULUMI_CONFIG_PASSPHRASE": passphrase,
		"PULUMI_SKIP_UPDATE_CHECK": "true",
	} {
		_ = os.Setenv(k, v)
	}
	if home, err := os.UserHomeDir(); err == nil {
		_ = os.Setenv("PATH", filepath.Join(home, ".emothe", "bin")+string(os.PathListSeparator)+os.Getenv("PATH"))
	}
	code := m.Run()
	_ = os.RemoveAll(state)
	os.Exit(code)
}

// stack is one throwaway stack of the project, driven through the
// Automation API with infra.Run inline, exactly what `make up` runs. It
// works in the repository's root, as the CLI does, so that a build's
// context is the repository; its Pulumi.<stack>.yaml is removed at the end.
type stack struct {
	name string
	root string
	st   auto.Stack
	// out is every operation's output, for failure messages.
	out strings.Builder
}

// newStack writes Pulumi.<name>.yaml with config (plain, by key without the
// namespace), opens the stack and stores secrets encrypted. Whatever it
// deploys is destroyed when the test ends.
func newStack(tb testing.TB, config, secrets map[string]string) *stack {
	tb.Helper()
	root := testenv.RepoRoot(tb)
	s := &stack{name: "test-" + randomHex(3), root: root}
	var file strings.Builder
	file.WriteString("# A stack of tests/compose; removed when its test ends.\nconfig:\n")
	for _, k := range slices.Sorted(maps.Keys(config)) {
		fmt.Fprintf(&file, "  emothe:%s: %q\n", k, config[k])
	}
	path := filepath.Join(root, "Pulumi."+s.name+".yaml")
	require.NoError(tb, os.WriteFile(path, []byte(file.String()), 0o600))
	tb.Cleanup(func() { _ = os.Remove(path) })

	ctx := context.Background()
	st, err := stackctl.Open(ctx, root, s.name, infra.Run)
	require.NoError(tb, err, "open stack %s", s.name)
	s.st = st
	tb.Cleanup(func() {
		if !tb.Failed() || os.Getenv("EMOTHE_KEEP_FAILED") == "" {
			s.destroy(tb)
			_ = st.Workspace().RemoveStack(context.Background(), s.name)
		}
	})
	values := auto.ConfigMap{}
	for k, v := range secrets {
		values["emothe:"+k] = auto.ConfigValue{Value: v, Secret: true}
	}
	require.NoError(tb, st.SetAllConfig(ctx, values))
	return s
}

// set changes plain settings, by key without the namespace.
func (s *stack) set(tb testing.TB, config map[string]string) {
	tb.Helper()
	values := auto.ConfigMap{}
	for k, v := range config {
		values["emothe:"+k] = auto.ConfigValue{Value: v}
	}
	require.NoError(tb, s.st.SetAllConfig(context.Background(), values))
}

func (s *stack) record(op, out string) {
	fmt.Fprintf(&s.out, "==> %s %s\n%s\n", op, s.name, out)
}

// up runs `pulumi up` and returns the resources it changed, by name, with
// what it did to each.
func (s *stack) up(tb testing.TB) map[string]apitype.OpType {
	tb.Helper()
	changed, err := s.tryUp()
	require.NoError(tb, err, "up %s:\n%s", s.name, s.out.String())
	return changed
}

func (s *stack) tryUp() (map[string]apitype.OpType, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	ch, changed := collectChanges()
	res, err := stackctl.Up(ctx, s.st, optup.EventStreams(ch)) // as make up, which records the release
	s.record("up", res.StdOut+res.StdErr)
	if err != nil {
		s.record("up error", err.Error())
	}
	return <-changed, err
}

// changes previews an update, with a refresh first when asked, and returns
// the resources it would change, by name, with what it would do to each.
func (s *stack) changes(tb testing.TB, refresh bool) map[string]apitype.OpType {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	ch, changed := collectChanges()
	opts := []optpreview.Option{optpreview.Diff(), optpreview.EventStreams(ch)}
	if refresh {
		opts = append(opts, optpreview.Refresh())
	}
	res, err := s.st.Preview(ctx, opts...)
	s.record("preview", res.StdOut+res.StdErr)
	require.NoError(tb, err, "preview %s:\n%s", s.name, s.out.String())
	return <-changed
}

// collectChanges reads an operation's engine events into the resources it
// changes, the steps of a replacement counted as one replace. The map comes
// once the events' channel is closed, as the Automation API does at the end.
func collectChanges() (chan<- events.EngineEvent, <-chan map[string]apitype.OpType) {
	ch := make(chan events.EngineEvent)
	done := make(chan map[string]apitype.OpType, 1)
	go func() {
		changed := map[string]apitype.OpType{}
		for e := range ch {
			m := e.ResourcePreEvent
			if m == nil {
				continue
			}
			op := m.Metadata.Op
			switch op {
			case apitype.OpSame, apitype.OpRead, apitype.OpRefresh:
				continue
			case apitype.OpCreateReplacement, apitype.OpDeleteReplaced, apitype.OpDiscardReplaced:
				op = apitype.OpReplace
			}
			changed[m.Metadata.URN[strings.LastIndex(m.Metadata.URN, "::")+2:]] = op
		}
		done <- changed
	}()
	return ch, done
}

// requireNoChanges asserts what a no-op must be: preview proposes nothing,
// with and without a refresh from the engine first.
func (s *stack) requireNoChanges(tb testing.TB) {
	tb.Helper()
	for _, refresh := range []bool{false, true} {
		changed := s.changes(tb, refresh)
		require.Empty(tb, changed, "preview (refresh %v) of an unchanged stack proposes changes:\n%s", refresh, s.out.String())
	}
}

func (s *stack) destroy(tb testing.TB) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	res, err := s.st.Destroy(ctx, optdestroy.ContinueOnError())
	s.record("destroy", res.StdOut+res.StdErr)
	if err != nil {
		tb.Errorf("destroy %s: %v\n%s", s.name, err, s.out.String())
	}
}

// outputs are the stack's outputs as plain values.
func (s *stack) outputs(tb testing.TB) map[string]any {
	tb.Helper()
	out, err := s.st.Outputs(context.Background())
	require.NoError(tb, err)
	plain := map[string]any{}
	for k, v := range out {
		plain[k] = v.Value
	}
	return plain
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
