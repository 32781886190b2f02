package harness

import (
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"gopkg.in/yaml.v3"

	"github.com/emothe/emothe/infra"
	"github.com/emothe/emothe/internal/stackctl"
)

// Stack is one stack of the project, worked on in a directory of its own
// that holds copies of Pulumi.yaml and Pulumi.<stack>.yaml.
type Stack struct {
	Name string
	Dir  string
	St   auto.Stack
	// App is the stack's Fly app name (emothe:appName), throwaway on real
	// Fly; Domain is its emothe:domain, empty when it has none.
	App    string
	Domain string

	mu sync.Mutex
	// transcript is every operation's output, in order.
	transcript strings.Builder
}

// Stack opens the named stack with the inline program (infra.Run), its
// committed config, the provider pointed at the fake, and then config
// (plain values) and secrets (stored encrypted) by full key, e.g.
// "emothe:image".
func (e *Env) Stack(tb testing.TB, name string, config, secrets map[string]string) *Stack {
	tb.Helper()
	dir := filepath.Join(e.Dir, "stack-"+name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		tb.Fatal(err)
	}
	project, err := projectFile(e.Root)
	if err != nil {
		tb.Fatalf("Pulumi.yaml: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), project, 0o600); err != nil {
		tb.Fatal(err)
	}
	stackFile := "Pulumi." + name + ".yaml"
	committed, err := os.ReadFile(filepath.Join(e.Root, stackFile))
	if err != nil {
		tb.Fatalf("%s: %v", stackFile, err)
	}
	if err := os.WriteFile(filepath.Join(dir, stackFile), committed, 0o600); err != nil {
		tb.Fatal(err)
	}

	st, err := stackctl.Open(context.Background(), dir, name, infra.Run)
	if err != nil {
		tb.Fatalf("opening stack %s: %v", name, err)
	}
	var file struct{ Config map[string]any }
	if err := yaml.Unmarshal(committed, &file); err != nil {
		tb.Fatalf("%s: %v", stackFile, err)
	}
	plain := map[string]string{}
	for k, v := range file.Config {
		if str, ok := v.(string); ok {
			plain[k] = str
		}
	}
	s := &Stack{Name: name, Dir: dir, St: st, App: plain["emothe:appName"], Domain: plain["emothe:domain"]}
	values := auto.ConfigMap{}
	if e.real != nil {
		var overrides map[string]string
		overrides, s.App = e.real.configure(s, plain)
		s.Domain = overrides["emothe:domain"]
		for k, v := range overrides {
			values[k] = auto.ConfigValue{Value: v}
		}
		tb.Cleanup(func() { e.real.cleanup(tb, s) })
	}
	maps.Copy(values, e.stackConfig(config, secrets))
	s.SetConfig(tb, values)
	return s
}

// SetConfig sets config values by full key, read as paths: "emothe:regions[1]"
// sets the second region.
func (s *Stack) SetConfig(tb testing.TB, values auto.ConfigMap) {
	tb.Helper()
	if err := s.St.SetAllConfigWithOptions(context.Background(), values, &auto.ConfigOptions{Path: true}); err != nil {
		tb.Fatalf("stack %s: setting config: %v", s.Name, err)
	}
}

// Transcript is the output of every operation so far.
func (s *Stack) Transcript() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.transcript.String()
}

func (s *Stack) record(op, out string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(&s.transcript, "=== %s %s\n%s\n", op, s.Name, out)
}

// Up runs `pulumi up` and fails the test when it fails.
func (s *Stack) Up(tb testing.TB) auto.UpResult {
	tb.Helper()
	res, err := s.TryUp(tb)
	if err != nil {
		tb.Fatalf("up %s: %v", s.Name, err)
	}
	return res
}

// TryUp runs `pulumi up`, with opts besides the harness's own. The error
// carries the engine's output.
func (s *Stack) TryUp(tb testing.TB, opts ...optup.Option) (auto.UpResult, error) {
	tb.Helper()
	var out strings.Builder
	opts = append([]optup.Option{optup.ProgressStreams(&out), optup.ErrorProgressStreams(&out),
		optup.SuppressProgress()}, opts...)
	res, err := s.St.Up(context.Background(), opts...)
	s.record("up", out.String())
	return res, err
}

// Step is what the engine plans for one resource.
type Step struct {
	Op   apitype.OpType
	Type string
	// Diff is the detailed diff: property path → kind (update, add,
	// delete, and their -replace variants).
	Diff map[string]string
}

// Preview is a preview's plan.
type Preview struct {
	auto.PreviewResult
	// Steps are by resource name (the last part of the URN), stack and
	// provider resources left out.
	Steps map[string]Step
}

// Changed are the names of the resources whose step is not "same",
// sorted.
func (p Preview) Changed() []string {
	var out []string
	for name, st := range p.Steps {
		if st.Op != apitype.OpSame {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// Preview runs `pulumi preview --diff` and collects the plan per resource.
func (s *Stack) Preview(tb testing.TB) Preview {
	tb.Helper()
	ch := make(chan events.EngineEvent)
	steps := map[string]Step{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range ch {
			pre := ev.ResourcePreEvent
			if pre == nil || strings.HasPrefix(pre.Metadata.Type, "pulumi:") {
				continue
			}
			m := pre.Metadata
			st := Step{Op: m.Op, Type: m.Type, Diff: map[string]string{}}
			for path, d := range m.DetailedDiff {
				st.Diff[path] = string(d.Kind)
			}
			steps[m.URN[strings.LastIndex(m.URN, "::")+2:]] = st
		}
	}()
	var out strings.Builder
	res, err := s.St.Preview(context.Background(), optpreview.Diff(), optpreview.EventStreams(ch),
		optpreview.ProgressStreams(&out), optpreview.ErrorProgressStreams(&out))
	<-done
	s.record("preview", out.String())
	if err != nil {
		tb.Fatalf("preview %s: %v", s.Name, err)
	}
	return Preview{PreviewResult: res, Steps: steps}
}

// TryDestroy runs `pulumi destroy`.
func (s *Stack) TryDestroy(tb testing.TB) (auto.DestroyResult, error) {
	tb.Helper()
	var out strings.Builder
	res, err := s.St.Destroy(context.Background(), optdestroy.ProgressStreams(&out), optdestroy.ErrorProgressStreams(&out))
	s.record("destroy", out.String())
	return res, err
}

// Export is `pulumi stack export`: the state as the backend stores it,
// secrets encrypted. (The Automation API's Export adds --show-secrets.)
func (s *Stack) Export(tb testing.TB) string {
	tb.Helper()
	out, err := s.export()
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

func (s *Stack) export() (string, error) {
	cmd := exec.Command("pulumi", "stack", "export", "--stack", s.Name, "--non-interactive")
	cmd.Dir = s.Dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("pulumi stack export --stack %s: %w\n%s", s.Name, err, stderr.String())
	}
	return string(out), nil
}

// Outputs are the stack outputs' values (secret ones included).
func (s *Stack) Outputs(tb testing.TB) map[string]any {
	tb.Helper()
	outs, err := s.St.Outputs(context.Background())
	if err != nil {
		tb.Fatalf("outputs of %s: %v", s.Name, err)
	}
	m := map[string]any{}
	for k, v := range outs {
		m[k] = v.Value
	}
	return m
}

// Changes is an update's resource changes, without the "same" ones.
func Changes(res auto.UpResult) map[string]int {
	out := map[string]int{}
	if res.Summary.ResourceChanges == nil {
		return out
	}
	for op, n := range *res.Summary.ResourceChanges {
		if op != string(apitype.OpSame) {
			out[op] = n
		}
	}
	return out
}
