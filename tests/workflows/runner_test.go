package workflows

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emothe/emothe/internal/testenv"
	"github.com/emothe/emothe/tests/e2e/harness"
)

// workspace is a checkout as a runner has it: the repository's files, with
// the harness's Pulumi.yaml (naming the provider plugin it built) and stack
// files (pointing at the fake). The stack files are set back before each job,
// as each job gets a fresh checkout; steps such as pin-image.sh change them.
type workspace struct {
	dir      string
	pristine map[string][]byte
	// github is the stand-in GitHub's state: comments, issues, labels.
	github string
}

// newWorkspace lays out the checkout. Everything but the Pulumi files is a
// symlink into the repository, so `go run ./tools/stack` builds this tree;
// the directory's path is fixed per repository so those builds stay in Go's
// cache from one run of the tests to the next.
func newWorkspace(t *testing.T, stacks ...*harness.Stack) *workspace {
	t.Helper()
	repo := testenv.RepoRoot(t)
	sum := sha256.Sum256([]byte(repo))
	dir := filepath.Join(os.TempDir(), "emothe-workflows-"+hex.EncodeToString(sum[:6]))
	must(t, os.RemoveAll(dir))
	must(t, os.MkdirAll(dir, 0o700))
	t.Cleanup(func() { _ = os.RemoveAll(dir) })

	entries, err := os.ReadDir(repo)
	must(t, err)
	for _, e := range entries {
		n := e.Name()
		if n == ".git" || n == ".pulumi-state" || strings.HasPrefix(n, "Pulumi.") && strings.HasSuffix(n, ".yaml") {
			continue
		}
		must(t, os.Symlink(filepath.Join(repo, n), filepath.Join(dir, n)))
	}
	w := &workspace{dir: dir, pristine: map[string][]byte{}, github: filepath.Join(t.TempDir(), "github.json")}
	for _, s := range stacks {
		for _, f := range []string{"Pulumi.yaml", "Pulumi." + s.Name + ".yaml"} {
			b, err := os.ReadFile(filepath.Join(s.Dir, f))
			must(t, err)
			w.pristine[f] = b
		}
	}
	w.reset(t)
	return w
}

func (w *workspace) reset(t *testing.T) {
	t.Helper()
	for f, b := range w.pristine {
		must(t, os.WriteFile(filepath.Join(w.dir, f), b, 0o600))
	}
}

// jobResult is one job's run.
type jobResult struct {
	ok      bool
	steps   map[string]stepState // by step ID, or name when it has none
	log     string
	summary string
}

func (r jobResult) output(t *testing.T, stepID, name string) string {
	t.Helper()
	st, ok := r.steps[stepID]
	if !ok || st.outcome != "success" {
		t.Fatalf("step %s did not succeed (%q):\n%s", stepID, st.outcome, r.log)
	}
	return st.outputs[name]
}

// runs tells whether the job's `if:` selects it in context c.
func runs(t *testing.T, j *job, c *ghContext) bool {
	t.Helper()
	if j.If == "" {
		return true
	}
	v, err := c.eval(j.If)
	must(t, err)
	return truthy(v)
}

// runJob runs every step of the job in order, as the runner does: `run:`
// steps with bash -eo pipefail in the workspace, actions/github-script steps
// in node against the stand-in GitHub, `if:` conditions evaluated (a failed
// step skips the rest but for always()). Checkout and the setup action are
// what the workspace and the test's own toolchain already are.
func (w *workspace) runJob(t *testing.T, wf *workflow, jobID string, c *ghContext) jobResult {
	t.Helper()
	j := wf.job(t, jobID)
	if !runs(t, j, c) {
		t.Fatalf("%s: job %s does not run for this event (if: %s)", wf.file, jobID, j.If)
	}
	w.reset(t)
	tmp := t.TempDir()
	summary := filepath.Join(tmp, "summary.md")
	c.values["runner.temp"] = tmp
	c.steps = map[string]stepState{}

	env := map[string]string{}
	for _, m := range []map[string]string{wf.Env, j.Env} {
		for k, v := range m {
			x, err := c.expand(v)
			must(t, err)
			env[k] = x
		}
	}

	var log strings.Builder
	res := jobResult{ok: true, steps: c.steps}
	for i, s := range j.Steps {
		key := s.ID
		if key == "" {
			key = s.Name
		}
		if key == "" {
			key = fmt.Sprintf("#%d", i)
		}
		run := res.ok
		if s.If != "" {
			v, err := c.eval(s.If)
			must(t, err)
			run = truthy(v) && (res.ok || strings.Contains(s.If, "always()"))
		}
		if !run {
			c.steps[key] = stepState{outcome: "skipped"}
			continue
		}
		stepEnv := maps.Clone(env)
		for k, v := range s.Env {
			x, err := c.expand(v)
			must(t, err)
			stepEnv[k] = x
		}
		outFile := filepath.Join(tmp, fmt.Sprintf("output-%d", i))
		must(t, os.WriteFile(outFile, nil, 0o600))
		stepEnv["GITHUB_OUTPUT"] = outFile
		stepEnv["GITHUB_STEP_SUMMARY"] = summary
		stepEnv["RUNNER_TEMP"] = tmp
		stepEnv["GITHUB_WORKSPACE"] = w.dir
		stepEnv["GITHUB_ACTIONS"] = "true"
		stepEnv["CI"] = "true"

		var cmd *exec.Cmd
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
		switch {
		case s.Run != "":
			script := filepath.Join(tmp, fmt.Sprintf("step-%d.sh", i))
			must(t, os.WriteFile(script, []byte(s.Run), 0o600))
			cmd = exec.CommandContext(ctx, "bash", "--noprofile", "--norc", "-eo", "pipefail", script)
		case strings.HasPrefix(s.Uses, "actions/github-script@"):
			script := filepath.Join(tmp, fmt.Sprintf("step-%d.js", i))
			must(t, os.WriteFile(script, []byte(s.With["script"]), 0o600))
			runner, err := filepath.Abs(filepath.Join("testdata", "github-script.js"))
			must(t, err)
			stepEnv["GITHUB_SCRIPT_CONTEXT"] = scriptContext(c)
			cmd = exec.CommandContext(ctx, "node", runner, script, w.github)
		case strings.HasPrefix(s.Uses, "actions/checkout@"), s.Uses == "./.github/actions/setup":
			cancel()
			c.steps[key] = stepState{outcome: "success"}
			continue
		default:
			cancel()
			t.Fatalf("%s: job %s step %q uses %s, which the test cannot run", wf.file, jobID, key, s.Uses)
		}
		cmd.Dir = w.dir
		cmd.Env = os.Environ()
		for k, v := range stepEnv {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		out, err := cmd.CombinedOutput()
		cancel()
		fmt.Fprintf(&log, "--- %s / %s: %s\n%s", jobID, key, s.Name, out)
		st := stepState{outcome: "success", outputs: readOutputs(t, outFile)}
		if err != nil {
			st.outcome = "failure"
			res.ok = false
			fmt.Fprintf(&log, "--- %s failed: %v\n", key, err)
		}
		c.steps[key] = st
	}
	res.log = log.String()
	if b, err := os.ReadFile(summary); err == nil {
		res.summary = string(b)
	}
	return res
}

// scriptContext is the github-script context the stand-in gives the script.
func scriptContext(c *ghContext) string {
	var issue int
	_, _ = fmt.Sscan(c.values["github.event.pull_request.number"], &issue)
	b, _ := json.Marshal(map[string]any{
		"owner": "emothe", "repo": "emothe", "issue": issue, "runId": 4242, "sha": "0123456789abcdef",
		"serverUrl": "https://github.com",
		"payload":   map[string]any{"pull_request": map[string]any{"head": map[string]any{"sha": "fedcba9876543210"}}},
	})
	return string(b)
}

// readOutputs parses a GITHUB_OUTPUT file of name=value lines.
func readOutputs(t *testing.T, file string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(file)
	must(t, err)
	out := map[string]string{}
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(strings.TrimSuffix(line, "\n"), "="); ok {
			out[k] = v
		}
	}
	return out
}

// ghState is the stand-in GitHub's state.
type ghState struct {
	Comments []struct {
		ID          int    `json:"id"`
		IssueNumber int    `json:"issue_number"`
		Body        string `json:"body"`
	} `json:"comments"`
	Issues []struct {
		Number int      `json:"number"`
		Title  string   `json:"title"`
		Body   string   `json:"body"`
		State  string   `json:"state"`
		Labels []string `json:"labels"`
	} `json:"issues"`
	Labels []string `json:"labels"`
}

func (w *workspace) gh(t *testing.T) ghState {
	t.Helper()
	var s ghState
	b, err := os.ReadFile(w.github)
	if os.IsNotExist(err) {
		return s
	}
	must(t, err)
	must(t, json.Unmarshal(b, &s))
	return s
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
