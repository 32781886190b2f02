package workflows

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/modfile"

	"github.com/emothe/emothe/internal/testenv"
)

var workflowFiles = []string{"ci.yml", "preview.yml", "deploy.yml", "drift.yml"}

// TestActionsArePinned: every action outside this repository is pinned by
// a full commit SHA with its release in a comment.
func TestActionsArePinned(t *testing.T) {
	files := []string{filepath.Join(".github", "actions", "setup", "action.yml")}
	for _, f := range workflowFiles {
		files = append(files, filepath.Join(".github", "workflows", f))
	}
	uses := regexp.MustCompile(`(?m)^\s*(?:-\s+)?uses:\s*(\S+)(.*)$`)
	pinned := regexp.MustCompile(`^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$`)
	release := regexp.MustCompile(`^\s*#\s*v\d+\.\d+\.\d+\s*$`)
	seen := 0
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), f))
		require.NoError(t, err)
		for _, m := range uses.FindAllStringSubmatch(string(b), -1) {
			ref, comment := m[1], m[2]
			if strings.HasPrefix(ref, "./") {
				continue
			}
			seen++
			assert.Regexp(t, pinned, ref, "%s: pin %s by full commit SHA", f, ref)
			assert.Regexp(t, release, comment, "%s: name the release of %s in a comment (# vX.Y.Z)", f, ref)
		}
	}
	assert.Positive(t, seen)
}

// TestPulumiCLIMatchesGoMod: the CLI the workflows install is the version
// of the SDK the program is built with.
func TestPulumiCLIMatchesGoMod(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "go.mod"))
	require.NoError(t, err)
	mod, err := modfile.Parse("go.mod", b, nil)
	require.NoError(t, err)
	var sdk string
	for _, r := range mod.Require {
		if r.Mod.Path == "github.com/pulumi/pulumi/sdk/v3" {
			sdk = strings.TrimPrefix(r.Mod.Version, "v")
		}
	}
	require.NotEmpty(t, sdk, "go.mod requires no github.com/pulumi/pulumi/sdk/v3")
	action, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), ".github", "actions", "setup", "action.yml"))
	require.NoError(t, err)
	assert.Contains(t, string(action), "pulumi-version: "+sdk)
}

// TestStackMatrices: preview and drift cover every stack that deploys
// somewhere (every committed Pulumi.<stack>.yaml; the local one is made on
// a developer's machine from stacks/local.yaml), and deploy brings up
// exactly those.
func TestStackMatrices(t *testing.T) {
	cmd := exec.Command("git", "ls-files", "Pulumi.*.yaml")
	cmd.Dir = testenv.RepoRoot(t)
	out, err := cmd.Output()
	require.NoError(t, err)
	var stacks []string
	for _, f := range strings.Fields(string(out)) {
		stacks = append(stacks, strings.TrimSuffix(strings.TrimPrefix(f, "Pulumi."), ".yaml"))
	}
	require.NotEmpty(t, stacks)
	assert.ElementsMatch(t, stacks, load(t, "preview.yml").job(t, "preview").stacks())
	assert.ElementsMatch(t, stacks, load(t, "drift.yml").job(t, "drift").stacks())
	var deployed []string
	for _, j := range load(t, "deploy.yml").Jobs {
		deployed = append(deployed, j.Env["STACK"])
	}
	assert.ElementsMatch(t, stacks, deployed)
}

// TestPreviewPermissions: pull requests get only what the preview needs.
func TestPreviewPermissions(t *testing.T) {
	w := load(t, "preview.yml")
	assert.Equal(t, map[string]string{"contents": "read", "pull-requests": "write"}, w.Permissions)
	for id, j := range w.Jobs {
		assert.Nil(t, j.Permissions, "job %s must not widen the workflow's permissions", id)
	}
	assert.Contains(t, w.On, "pull_request")
	assert.NotContains(t, w.On, "pull_request_target", "fork code must never run with this repository's secrets")
}

// TestDeployShape: prod is behind its environment, each stack's deploys
// queue in one concurrency group that never cancels a running deploy, and
// prod's image is dev's.
func TestDeployShape(t *testing.T) {
	w := load(t, "deploy.yml")
	assert.Equal(t, map[string]string{"contents": "read"}, w.Permissions)
	assert.Contains(t, w.On, "workflow_dispatch")
	for id, j := range w.Jobs {
		stack := j.Env["STACK"]
		assert.Equal(t, stack, j.environment(), "job %s deploys %s in the environment of that name", id, stack)
		require.NotNil(t, j.Concurrency, "job %s", id)
		assert.Equal(t, "deploy-"+stack, j.Concurrency.Group)
		assert.False(t, j.Concurrency.CancelInProgress, "a running deploy is never cancelled")
	}
	prod := w.job(t, "prod")
	pin := prod.step(t, "Pin the image")
	assert.Contains(t, pin.Run, `pin-image.sh "$STACK" dev`, "prod gets dev's digest")
	assert.Equal(t, "inputs.action != 'rollback'", pin.If)
	assert.Equal(t, "inputs.action != 'rollback'", prod.step(t, "Up").If)
	rollback := prod.step(t, "Roll back")
	assert.Equal(t, "inputs.action == 'rollback'", rollback.If, "a manual dispatch rolls back with make rollback's command")
	assert.Equal(t, "${{ inputs.image }}", rollback.Env["IMAGE"])
}

// TestPulumiStepsUseTheMakeEntryPoint: every Pulumi step runs the command
// the Makefile's target of the same operation runs, with the stack from
// the job; the workflow tests run those very steps.
func TestPulumiStepsUseTheMakeEntryPoint(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "Makefile"))
	require.NoError(t, err)
	makefile := string(b)
	entry := regexp.MustCompile(`go run \./tools/stack -stack "\$STACK"(?: -\w+(?: "[^"]*")?)* (\w+)`)
	ops := map[string][]string{}
	for _, f := range workflowFiles {
		w := load(t, f)
		for id, j := range w.Jobs {
			for _, s := range j.Steps {
				assert.NotContains(t, s.Run, "${{", "%s job %s step %q: pass expressions through env:, never into a script", f, id, s.Name)
				for _, m := range entry.FindAllStringSubmatch(s.Run, -1) {
					ops[f+" "+id] = append(ops[f+" "+id], m[1])
				}
				if strings.Contains(s.Run, "tools/stack") {
					assert.Regexp(t, entry, s.Run, "%s job %s step %q", f, id, s.Name)
				}
			}
		}
	}
	assert.Equal(t, map[string][]string{
		"preview.yml preview": {"preview"},
		"deploy.yml dev":      {"up"},
		"deploy.yml prod":     {"up", "rollback"},
		"drift.yml drift":     {"drift"},
	}, ops, "the Pulumi steps of each job, in order")
	for _, op := range []string{"preview", "up"} {
		assert.Contains(t, makefile, "go run ./tools/stack -stack $(STACK) "+op, "the Makefile's %s target", op)
	}
	assert.Contains(t, makefile, "go run ./tools/stack -stack $(STACK) $(if $(TO),-to $(TO)) rollback", "the Makefile's rollback target")
}

// TestForksAreToldWhy: preview jobs know whether the pull request comes from
// a fork, and check secrets before anything needs them.
func TestForksAreToldWhy(t *testing.T) {
	j := load(t, "preview.yml").job(t, "preview")
	assert.Equal(t, "${{ github.event.pull_request.head.repo.full_name != github.repository }}", j.Env["FORK"])
	names := make([]string, len(j.Steps))
	for i, s := range j.Steps {
		names[i] = s.Name
	}
	check := slices.Index(names, "Check secrets")
	require.GreaterOrEqual(t, check, 0)
	for _, s := range j.Steps[check+1:] {
		if s.Name != "Comment on the pull request" {
			assert.Contains(t, s.If, "steps.secrets.outputs.ready == 'true'", "step %q runs only with secrets", s.Name)
		}
	}
}
