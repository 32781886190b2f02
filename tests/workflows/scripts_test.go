package workflows

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/internal/testenv"
)

// script runs a .github/scripts shell script as a step would, with env
// alone (none of the test process's), and returns its output, the
// GITHUB_OUTPUT it wrote, the summary and whether it succeeded.
func script(t *testing.T, name string, env map[string]string, args ...string) (out string, outputs map[string]string, summary string, ok bool) {
	t.Helper()
	dir := t.TempDir()
	outFile, sumFile := filepath.Join(dir, "output"), filepath.Join(dir, "summary")
	must(t, os.WriteFile(outFile, nil, 0o600))
	cmd := exec.Command(filepath.Join(testenv.RepoRoot(t), ".github", "scripts", name), args...)
	cmd.Dir = testenv.RepoRoot(t)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "GITHUB_OUTPUT=" + outFile, "GITHUB_STEP_SUMMARY=" + sumFile}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	b, err := cmd.CombinedOutput()
	s, _ := os.ReadFile(sumFile)
	return string(b), readOutputs(t, outFile), string(s), err == nil
}

func TestRequireSecrets(t *testing.T) {
	const token, cloud, pass = "FlyV1 fm2_secret", "pul-secret", "passphrase-secret"
	tests := []struct {
		name    string
		env     map[string]string
		ok      bool
		ready   string
		mention []string
	}{{
		name:  "Pulumi Cloud",
		env:   map[string]string{"FLY_API_TOKEN": token, "PULUMI_ACCESS_TOKEN": cloud},
		ok:    true,
		ready: "true",
	}, {
		name:  "a self-managed backend",
		env:   map[string]string{"FLY_API_TOKEN": token, "PULUMI_BACKEND_URL": "s3://state", "PULUMI_CONFIG_PASSPHRASE": pass},
		ok:    true,
		ready: "true",
	}, {
		name:    "a self-managed backend without its passphrase",
		env:     map[string]string{"FLY_API_TOKEN": token, "PULUMI_BACKEND_URL": "s3://state", "ENVIRONMENT": "dev-readonly"},
		ready:   "false",
		mention: []string{"PULUMI_CONFIG_PASSPHRASE", "gh secret set NAME --env dev-readonly"},
	}, {
		name:    "no Fly token",
		env:     map[string]string{"PULUMI_ACCESS_TOKEN": cloud},
		ready:   "false",
		mention: []string{"FLY_API_TOKEN not set in the repository"},
	}, {
		name:    "a fork's pull request, which gets no secrets",
		env:     map[string]string{"FORK": "true"},
		ok:      true,
		ready:   "false",
		mention: []string{"fork", "no secrets", "FLY_API_TOKEN PULUMI_ACCESS_TOKEN"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.env["STACK"] = "dev"
			out, outputs, summary, ok := script(t, "require-secrets.sh", tt.env)
			assert.Equal(t, tt.ok, ok, out)
			assert.Equal(t, tt.ready, outputs["ready"])
			for _, m := range tt.mention {
				assert.Contains(t, out, m)
				assert.Contains(t, summary, m)
			}
			for _, secret := range []string{token, cloud, pass} {
				assert.NotContains(t, out+summary, secret)
			}
		})
	}
}

func TestPinImageRefusesAnUnpinnedReference(t *testing.T) {
	out, _, _, ok := script(t, "pin-image.sh", nil, "prod", "registry.fly.io/emothe-dev:latest")
	assert.False(t, ok)
	assert.Contains(t, out, "image 'registry.fly.io/emothe-dev:latest' is not pinned by digest")
	assert.Contains(t, out, "name@sha256:<digest>")
}

// previewComment runs the preview step's github-script against the
// stand-in GitHub, for a preview that printed text, summed up as plan (none
// when empty), and ended in outcome.
func previewComment(t *testing.T, state, stack, text, plan, outcome string) (string, bool) {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "preview.txt")
	must(t, os.WriteFile(file, []byte(text), 0o600))
	if plan != "" {
		must(t, os.WriteFile(filepath.Join(dir, "plan.md"), []byte(plan), 0o600))
	}
	step := load(t, "preview.yml").job(t, "preview").step(t, "Comment on the pull request")
	js := filepath.Join(dir, "step.js")
	must(t, os.WriteFile(js, []byte(step.With["script"]), 0o600))
	runner, err := filepath.Abs(filepath.Join("testdata", "github-script.js"))
	must(t, err)
	cmd := exec.Command("node", runner, js, state)
	cmd.Dir = testenv.RepoRoot(t)
	cmd.Env = append(os.Environ(), "STACK="+stack, "PREVIEW="+file, "PLAN="+filepath.Join(dir, "plan.md"), "OUTCOME="+outcome,
		"GITHUB_STEP_SUMMARY="+filepath.Join(dir, "summary"),
		"GITHUB_SCRIPT_CONTEXT="+scriptContext(&ghContext{values: map[string]string{"github.event.pull_request.number": "12"}}))
	out, err := cmd.CombinedOutput()
	return string(out), err == nil
}

func TestPreviewComment(t *testing.T) {
	state := filepath.Join(t.TempDir(), "github.json")
	w := &workspace{github: state}
	must(t, os.WriteFile(state, []byte(`{"comments": [
		{"id": 100, "issue_number": 12, "body": "<!-- emothe-preview:dev -->\nquoted by a person", "user": {"type": "User"}}
	], "issues": [], "labels": [], "nextId": 1}`), 0o600))

	const plan = "> [!WARNING]\n> - **replace** volume `emothe-dev-db-data`, forced by `region`\n\n**Plan:** 0 to create, 0 to update, 1 to replace, 0 to delete.\n"
	out, ok := previewComment(t, state, "dev", "+ flyio:index:App emothe-dev create\n```\n", plan, "success")
	require.True(t, ok, out)
	gh := w.gh(t)
	require.Len(t, gh.Comments, 2, "a person's comment with the marker is not the bot's")
	first := gh.Comments[1]
	assert.True(t, strings.HasPrefix(first.Body, "<!-- emothe-preview:dev -->\n### Preview of stack `dev`"))
	assert.Contains(t, first.Body, "+ flyio:index:App emothe-dev create")
	warning, details := strings.Index(first.Body, "> [!WARNING]"), strings.Index(first.Body, "<details><summary>")
	assert.True(t, warning > 0 && warning < details, "the plan, its warning first, comes before the folded diff:\n%s", first.Body)
	assert.Contains(t, first.Body, "fedcba9", "names the pull request's head commit")
	assert.Equal(t, 1, strings.Count(first.Body, "```\n")-1, "the output's own fence is defused")

	out, ok = previewComment(t, state, "dev", "error: boom", "", "failure")
	require.True(t, ok, out)
	gh = w.gh(t)
	require.Len(t, gh.Comments, 2, "the next push edits the comment")
	assert.Equal(t, first.ID, gh.Comments[1].ID)
	assert.Contains(t, gh.Comments[1].Body, "Preview failed of stack `dev`")
	assert.Contains(t, gh.Comments[1].Body, "<details open>")
	assert.Equal(t, "<!-- emothe-preview:dev -->\nquoted by a person", gh.Comments[0].Body)

	long := strings.Repeat("x", 70000) + "THE END"
	out, ok = previewComment(t, state, "prod", long, "", "success")
	require.True(t, ok, out)
	gh = w.gh(t)
	require.Len(t, gh.Comments, 3, "another stack, another comment")
	assert.Less(t, len(gh.Comments[2].Body), 65536, "under GitHub's limit")
	assert.Contains(t, gh.Comments[2].Body, "THE END", "the end of a long preview, where the summary is, is kept")
}

// TestActionlint: the workflows are clean, and the lint fails on a finding.
func TestActionlint(t *testing.T) {
	run := func(dir string) (string, bool) {
		cmd := exec.Command("bash", filepath.Join(dir, "scripts", "actionlint.sh"))
		out, err := cmd.CombinedOutput()
		return string(out), err == nil
	}
	out, ok := run(testenv.RepoRoot(t))
	require.True(t, ok, out)
	assert.Contains(t, out, "workflows clean")

	// A copy of the scripts beside a broken workflow: a shell bug and an
	// unknown context.
	dir := t.TempDir()
	for _, f := range []string{"actionlint.sh", "lib.sh"} {
		b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "scripts", f))
		require.NoError(t, err)
		must(t, os.MkdirAll(filepath.Join(dir, "scripts"), 0o755))
		must(t, os.WriteFile(filepath.Join(dir, "scripts", f), b, 0o755))
	}
	must(t, os.MkdirAll(filepath.Join(dir, ".github", "workflows"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, ".github", "workflows", "broken.yml"), []byte(`name: broken
on: push
jobs:
  x:
    runs-on: ubuntu-latest
    steps:
      - run: echo ${{ secrets.TOKEN }} $undefined_but_quoted_wrong
      - run: echo "${{ matrix.nope }}"
`), 0o644))
	out, ok = run(dir)
	assert.False(t, ok, out)
	assert.Contains(t, out, "broken.yml")
	assert.Contains(t, out, "matrix")
}
