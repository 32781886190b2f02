package workflows

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/provider/fly"
	"github.com/emothe/emothe/provider/flyfake"
	"github.com/emothe/emothe/tests/e2e/harness"
)

// devImage is the digest dev's up would have built and pushed: the fake
// serves no registry, so the dev stack is given it as emothe:image.
const devImage = "registry.fly.io/emothe-dev@sha256:abababababababababababababababababababababababababababababababab"

var quickFake = flyfake.Options{
	BootDelay:          50 * time.Millisecond,
	HealthDelay:        100 * time.Millisecond,
	PostgresReadyDelay: 100 * time.Millisecond,
}

// stackSecrets are one stack's secret settings, fresh per test so that
// finding one in a log is a leak.
func stackSecrets() map[string]string {
	return map[string]string{
		"emothe:secretKeyBase": randomHex(64), "emothe:databasePassword": randomHex(16),
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// event is a GitHub context: the repository's secrets as the environments
// give them (the self-managed backend of the harness), plus fields.
func event(env *harness.Env, fields map[string]string) *ghContext {
	v := map[string]string{
		"github.repository":                             "emothe/emothe",
		"secrets.FLY_API_TOKEN":                         "FlyV1 " + env.Fake.Token(),
		"secrets.PULUMI_ACCESS_TOKEN":                   "",
		"secrets.PULUMI_BACKEND_URL":                    os.Getenv("PULUMI_BACKEND_URL"),
		"secrets.PULUMI_CONFIG_PASSPHRASE":              harness.Passphrase,
		"inputs.image":                                  "",
		"inputs.action":                                 "",
		"github.event.pull_request.number":              "",
		"github.event.pull_request.head.repo.full_name": "",
	}
	for k, x := range fields {
		v[k] = x
	}
	return &ghContext{values: v}
}

// matrix adds the matrix entry of stack to c.
func matrix(t *testing.T, j *job, stack string, c *ghContext) *ghContext {
	t.Helper()
	for _, m := range j.Strategy.Matrix.Include {
		if m["stack"] == stack {
			for k, v := range m {
				c.values["matrix."+k] = v
			}
			return c
		}
	}
	t.Fatalf("the matrix has no stack %s", stack)
	return nil
}

func pullRequest() map[string]string {
	return map[string]string{
		"github.event_name": "pull_request", "github.ref": "refs/pull/7/merge",
		"github.event.pull_request.number": "7", "github.event.pull_request.head.repo.full_name": "emothe/emothe",
	}
}

// TestWorkflowCommandsAgainstFake runs the jobs of preview.yml, deploy.yml
// and drift.yml, their own step scripts, on the committed dev and prod stacks
// against the Fly fake, in the order a project lives them: a pull request,
// a merge, a release, then nightly drift checks.
func TestWorkflowCommandsAgainstFake(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every workflow's Pulumi steps against the Fly fake")
	}
	env := harness.New(t, quickFake)
	devSecrets, prodSecrets := stackSecrets(), stackSecrets()
	dev := env.Stack(t, "dev", map[string]string{"emothe:image": devImage}, devSecrets)
	prod := env.Stack(t, "prod", nil, prodSecrets)
	ws := newWorkspace(t, dev, prod)
	preview, deploy, drift := load(t, "preview.yml"), load(t, "deploy.yml"), load(t, "drift.yml")

	var logs strings.Builder
	run := func(t *testing.T, wf *workflow, jobID string, c *ghContext) jobResult {
		t.Helper()
		r := ws.runJob(t, wf, jobID, c)
		logs.WriteString(r.log)
		return r
	}
	ok := func(t *testing.T, r jobResult) {
		t.Helper()
		require.True(t, r.ok, "the job failed:\n%s", r.log)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(logs.String())
		}
	})

	stage(t, "a pull request previews dev and comments once per push", func(t *testing.T) {
		j := preview.job(t, "preview")
		c := matrix(t, j, "dev", event(env, pullRequest()))
		r := run(t, preview, "preview", c)
		ok(t, r)
		assert.Equal(t, "true", r.output(t, "secrets", "ready"))
		assert.Equal(t, "skipped", r.steps["Pin the image"].outcome, "dev builds its own image")
		assert.Contains(t, r.log, "flyio:index:MachineGroup", "the preview plans the machines")
		assert.Empty(t, env.Fake.State().Apps, "a preview creates nothing")

		run(t, preview, "preview", matrix(t, j, "dev", event(env, pullRequest()))) // the next push
		gh := ws.gh(t)
		require.Len(t, gh.Comments, 1, "the second push edits the first comment")
		assert.Equal(t, 7, gh.Comments[0].IssueNumber)
		assert.Contains(t, gh.Comments[0].Body, "<!-- emothe-preview:dev -->")
		assert.Contains(t, gh.Comments[0].Body, "emothe-dev-machines")
		assert.Contains(t, gh.Comments[0].Body, "**Plan:** ", "the plan from the preview's events opens the comment")
	})

	stage(t, "a push to main brings up dev", func(t *testing.T) {
		push := event(env, map[string]string{"github.event_name": "push", "github.ref": "refs/heads/main"})
		assert.False(t, runs(t, deploy.job(t, "prod"), push), "a push to main leaves prod alone")
		r := run(t, deploy, "dev", push)
		ok(t, r)
		assert.Equal(t, devImage, r.output(t, "report", "image"))
		assert.Equal(t, "https://emothe-dev.fly.dev", r.output(t, "report", "url"))
		assert.Equal(t, []string{devImage}, images(t, env, "emothe-dev"))
	})

	stage(t, "a pull request previews prod with the image prod will run", func(t *testing.T) {
		j := preview.job(t, "preview")
		r := run(t, preview, "preview", matrix(t, j, "prod", event(env, pullRequest())))
		ok(t, r)
		assert.Equal(t, devImage, r.output(t, "Pin the image", "image"), "before prod's first deploy: dev's image")
		assert.Len(t, ws.gh(t).Comments, 2, "one comment per stack")
	})

	stage(t, "a release tag brings up prod with the digest dev runs", func(t *testing.T) {
		tag := event(env, map[string]string{"github.event_name": "push", "github.ref": "refs/tags/v1.0.0"})
		assert.False(t, runs(t, deploy.job(t, "dev"), tag), "a tag leaves dev alone")
		r := run(t, deploy, "prod", tag)
		ok(t, r)
		assert.Equal(t, devImage, r.output(t, "Pin the image", "image"))
		assert.Equal(t, devImage, r.output(t, "report", "image"))
		assert.Equal(t, []string{devImage}, images(t, env, "emothe-prod"), "prod runs exactly dev's digest")
	})

	dispatch := func(action, image string) *ghContext {
		return event(env, map[string]string{"github.event_name": "workflow_dispatch", "github.ref": "refs/heads/main",
			"inputs.action": action, "inputs.image": image})
	}
	const earlier = "registry.fly.io/emothe-dev@sha256:0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e"

	stage(t, "a manual rollback of prod with one release only is refused", func(t *testing.T) {
		r := run(t, deploy, "prod", dispatch("rollback", ""))
		assert.False(t, r.ok)
		assert.Equal(t, "skipped", r.steps["up"].outcome, "no promotion on a rollback")
		assert.Contains(t, r.log, "no earlier successful release than "+devImage)
		assert.Equal(t, []string{devImage}, images(t, env, "emothe-prod"))
	})

	stage(t, "a manual rollback puts back a digest given, then the previous release", func(t *testing.T) {
		r := run(t, deploy, "prod", dispatch("rollback", earlier))
		ok(t, r)
		assert.Equal(t, earlier, r.output(t, "report", "image"))
		assert.Equal(t, []string{earlier}, images(t, env, "emothe-prod"))

		r = run(t, deploy, "prod", dispatch("rollback", ""))
		ok(t, r)
		assert.Contains(t, r.log, "stack prod: rolling back from "+earlier+" to "+devImage)
		assert.Equal(t, []string{devImage}, images(t, env, "emothe-prod"))
	})

	nightly := func(stack string) *ghContext {
		c := event(env, map[string]string{"github.event_name": "schedule", "github.ref": "refs/heads/main"})
		return matrix(t, drift.job(t, "drift"), stack, c)
	}

	stage(t, "drift checks of fresh stacks are clean", func(t *testing.T) {
		for _, stack := range []string{"dev", "prod"} {
			r := run(t, drift, "drift", nightly(stack))
			ok(t, r)
			assert.Equal(t, "clean", r.output(t, "drift", "status"), stack)
			assert.Contains(t, r.summary, "no drift", stack)
		}
		assert.Empty(t, ws.gh(t).Issues)
	})

	stage(t, "a new API URL, the provider's own configuration, is not drift", func(t *testing.T) {
		pristine := ws.pristine["Pulumi.dev.yaml"]
		t.Cleanup(func() { ws.pristine["Pulumi.dev.yaml"] = pristine })
		require.Contains(t, string(pristine), "http://127.0.0.1:")
		ws.pristine["Pulumi.dev.yaml"] = []byte(strings.ReplaceAll(string(pristine), "http://127.0.0.1:", "http://localhost:"))
		r := run(t, drift, "drift", nightly("dev"))
		ok(t, r)
		assert.Equal(t, "clean", r.output(t, "drift", "status"))
		assert.Contains(t, r.summary, "Only the configuration of these providers differs")
		assert.Contains(t, r.summary, "`apiUrl`")
		assert.Empty(t, ws.gh(t).Issues)
	})

	stage(t, "an IP released behind Pulumi's back is drift, reported in one issue", func(t *testing.T) {
		client, err := fly.New(fly.Config{Token: env.Fake.Token(), BaseURL: env.APIURL})
		require.NoError(t, err)
		ip := ipOf(t, env, "emothe-dev", "v6")
		require.NoError(t, client.ReleaseIP(context.Background(), "emothe-dev", ip))

		for range 2 {
			r := run(t, drift, "drift", nightly("dev"))
			ok(t, r) // drift is reported, not a failed run
			assert.Equal(t, "drift", r.output(t, "drift", "status"))
			assert.Contains(t, r.summary, "emothe-dev-ip-v6")
		}
		gh := ws.gh(t)
		require.Len(t, gh.Issues, 1, "the second check updates the first issue")
		is := gh.Issues[0]
		assert.Equal(t, "open", is.State)
		assert.Equal(t, []string{"drift"}, is.Labels)
		assert.Contains(t, is.Body, "`flyio:index:IPAddress emothe-dev-ip-v6` | create")
		assert.Len(t, gh.Comments, 3, "the PR's two previews and one 'still drifting'")
	})

	stage(t, "the next deploy puts it back and the next check closes the issue", func(t *testing.T) {
		ok(t, run(t, deploy, "dev", event(env, map[string]string{"github.event_name": "push", "github.ref": "refs/heads/main"})))
		r := run(t, drift, "drift", nightly("dev"))
		ok(t, r)
		assert.Equal(t, "clean", r.output(t, "drift", "status"))
		assert.Equal(t, "closed", ws.gh(t).Issues[0].State)
	})

	stage(t, "a check that cannot run is an error, not drift", func(t *testing.T) {
		c := nightly("dev")
		c.values["secrets.PULUMI_CONFIG_PASSPHRASE"] = "not-the-passphrase"
		r := run(t, drift, "drift", c)
		assert.False(t, r.ok, "an errored check fails the run")
		assert.Equal(t, "error", r.output(t, "drift", "status"))
		assert.Equal(t, "failure", r.steps["Report"].outcome)
		assert.Contains(t, r.summary, "failed")
		gh := ws.gh(t)
		assert.Len(t, gh.Issues, 1)
		assert.Equal(t, "closed", gh.Issues[0].State, "no issue reopened")
	})

	stage(t, "no log holds a secret", func(t *testing.T) {
		for _, sec := range []map[string]string{devSecrets, prodSecrets} {
			for k, v := range sec {
				if v != "" {
					assert.NotContains(t, logs.String(), v, k)
				}
			}
		}
		assert.NotContains(t, logs.String(), env.Fake.Token())
	})
}

// stage runs one stage of a sequence; later stages build on earlier ones.
func stage(t *testing.T, name string, fn func(t *testing.T)) {
	t.Helper()
	if !t.Run(name, fn) {
		t.FailNow()
	}
}

// images are the images the app's live machines run.
func images(t *testing.T, env *harness.Env, app string) []string {
	t.Helper()
	seen := map[string]bool{}
	var out []string
	for _, a := range env.Fake.State().Apps {
		if a.Name != app {
			continue
		}
		for _, m := range a.Machines {
			if m.State == "destroyed" || m.Config.Metadata == nil || (*m.Config.Metadata)[fly.MetaProcessGroup] != "app" {
				continue
			}
			if img := *m.Config.Image; !seen[img] {
				seen[img] = true
				out = append(out, img)
			}
		}
	}
	if out == nil {
		b, _ := json.Marshal(env.Fake.State())
		t.Fatalf("app %s runs no machines: %s", app, b)
	}
	return out
}

// ipOf is the app's address of the given type.
func ipOf(t *testing.T, env *harness.Env, app, typ string) string {
	t.Helper()
	for _, a := range env.Fake.State().Apps {
		for _, ip := range a.IPs {
			if a.Name == app && ip.Type == typ {
				return ip.IP
			}
		}
	}
	t.Fatalf("app %s has no %s address", app, typ)
	return ""
}
