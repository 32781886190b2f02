// Package compose proves, on a real Docker engine, that the containers the
// Compose backend specifies work together: it runs the very Spec that
// infra/compose plans (same images, env, commands, healthchecks, networks,
// ports and order) through the Engine API and the docker CLI, since
// pulumi-docker's provider plugin cannot be installed here. The Postgres and
// proxy images are local stand-ins built from Debian packages (images/).
package compose

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	deploy "github.com/emothe/emothe/infra/compose"
	"github.com/emothe/emothe/infra/stack"
	"github.com/emothe/emothe/internal/dockertest"
	"github.com/emothe/emothe/internal/testenv"
)

// loadRate is the steady load during an update, in requests per second.
const loadRate = 50

// project is one stack of the suite: its configuration and secrets.
type project struct {
	cfg     *stack.Config
	secrets map[string]string // by stack setting
	base    string            // the proxy, on loopback
}

func newProject(tb testing.TB) project {
	tb.Helper()
	port, err := testenv.FreePort()
	require.NoError(tb, err)
	values := map[string]string{
		"backend": "compose", "appName": "emothe-it-" + randomHex(3), "logLevel": "warn",
		"replicas": "2", "httpPort": strconv.Itoa(port),
		"postgresImage": postgresImage, "proxyImage": proxyImage,
		"secretKeyBase": randomHex(64), "databasePassword": randomHex(16) + "/+@",
	}
	cfg, err := stack.Load(stack.Raw{Stack: "it", Values: values,
		Secrets: map[string]bool{"secretKeyBase": true, "databasePassword": true}})
	require.NoError(tb, err)
	return project{cfg: cfg, secrets: values, base: "http://127.0.0.1:" + strconv.Itoa(port)}
}

// env is the secret variables' values, as the backend supplies them.
func (p project) env(spec deploy.Spec) map[string]string {
	return map[string]string{
		deploy.EnvSecretKeyBase:    p.secrets["secretKeyBase"],
		deploy.EnvPostgresPassword: p.secrets["databasePassword"],
		deploy.EnvDatabaseURL:      spec.DatabaseURL(p.secrets["databasePassword"]),
	}
}

func (p project) up(tb testing.TB, image string) *deployment {
	tb.Helper()
	spec := deploy.Plan(p.cfg, image)
	d := up(tb, spec, p.env(spec))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := dockertest.WaitHTTP(ctx, p.base+"/readyz", http.StatusOK); err != nil {
		tb.Fatalf("through the proxy: %v", err)
	}
	return d
}

func TestComposeStack(t *testing.T) {
	imgs := buildImages(t)
	p := newProject(t)
	d := p.up(t, imgs.appA)
	ctx := context.Background()
	project := "label=com.docker.compose.project=" + d.spec.Project

	t.Run("serves the seeded plays through the proxy", func(t *testing.T) {
		resp, err := http.Get(p.base + "/api/plays")
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		n, err := countPlays(body)
		require.NoError(t, err)
		assert.Positive(t, n, "want the seeded catalogue")
	})

	t.Run("compose labels find every container", func(t *testing.T) {
		out, err := dockertest.Docker(ctx, "ps", "--all", "--filter", project,
			"--format", `{{.Label "com.docker.compose.service"}} {{.State}}`)
		require.NoError(t, err)
		assert.ElementsMatch(t, []string{
			"db running", "migrate exited", "app running", "app running", "proxy running", "backup running",
		}, strings.Split(out, "\n"))
	})

	t.Run("docker compose -p <project> ps and logs see the stack", func(t *testing.T) {
		out, err := dockertest.Docker(ctx, "compose", "-p", d.spec.Project, "ps", "--all",
			"--format", "{{.Service}} {{.State}}")
		require.NoError(t, err)
		assert.ElementsMatch(t, []string{
			"db running", "migrate exited", "app running", "app running", "proxy running", "backup running",
		}, strings.Split(out, "\n"))
		// The stack logs at warn; Postgres's start-up lines come regardless.
		logs, err := dockertest.Docker(ctx, "compose", "-p", d.spec.Project, "logs", "--no-color", "db")
		require.NoError(t, err)
		assert.Contains(t, logs, "database system is ready to accept connections", "a service's logs, by its name")
	})

	t.Run("only the proxy publishes a port, on loopback", func(t *testing.T) {
		for name, id := range d.ids {
			out, err := dockertest.Docker(ctx, "port", id)
			require.NoError(t, err)
			if strings.HasSuffix(name, "-proxy-1") {
				assert.Equal(t, "80/tcp -> "+strings.TrimPrefix(p.base, "http://"), out)
				continue
			}
			assert.Empty(t, out, "%s publishes a port", name)
		}
	})

	t.Run("the backup writes a dump pg_restore reads", func(t *testing.T) {
		id := d.ids[d.spec.Project+"-backup-1"]
		wait, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		require.NoError(t, (&dockertest.Container{ID: id}).WaitHealthy(wait))
		out, err := dockertest.Docker(ctx, "exec", id, "sh", "-c", `pg_restore --list "$(ls -t /backups/*.dump | head -n 1)"`)
		require.NoError(t, err)
		assert.Contains(t, out, "TABLE DATA public plays")
	})

	t.Run("an image update under load fails no request", func(t *testing.T) {
		dbID := d.ids[d.spec.Project+"-db-1"]
		proxyID := d.ids[d.spec.Project+"-proxy-1"]
		volume := d.spec.Project + "_pgdata"
		volumeCreated := dockertest.Inspect(t, volume, "{{.CreatedAt}}")

		oldApps := map[string]bool{}
		for _, c := range d.spec.Service("app") {
			oldApps[d.ids[c.Name]] = true
		}
		next := deploy.Plan(p.cfg, imgs.appB)
		since := time.Now()
		l := startLoad(p.base+"/api/plays", loadRate)
		changed := d.rollout(t, next)
		sent, failed, first := l.finish()
		assertStartedFirst(t, d.spec.Project, oldApps, since)

		assert.Equal(t, []string{d.spec.Project + "-migrate", d.spec.Project + "-app-1", d.spec.Project + "-app-2"}, changed)
		t.Logf("%d requests during the update, %d failed", sent, failed)
		assert.Zero(t, failed, "first failure: %s", first)
		assert.Positive(t, sent)

		assert.Equal(t, "running", dockertest.Inspect(t, dbID, "{{.State.Status}}"), "the database container was touched")
		assert.Equal(t, "running", dockertest.Inspect(t, proxyID, "{{.State.Status}}"), "the proxy was touched")
		assert.Equal(t, volumeCreated, dockertest.Inspect(t, volume, "{{.CreatedAt}}"), "the data volume was replaced")
		out, err := dockertest.Docker(ctx, "ps", "--filter", project, "--filter", "label=com.docker.compose.service=app", "--quiet")
		require.NoError(t, err)
		apps := strings.Fields(out)
		assert.Len(t, apps, 2, "the old replicas are gone")
		for _, id := range apps {
			assert.Equal(t, imgs.appB, dockertest.Inspect(t, id, "{{.Image}}"))
		}
	})
}

// assertStartedFirst checks the engine's event log since the update began:
// every new app replica reported healthy before any old one was stopped.
// The proxy's retries would hide a short gap from the load, so the order
// itself is checked.
func assertStartedFirst(t *testing.T, project string, old map[string]bool, since time.Time) {
	t.Helper()
	out, err := dockertest.Docker(context.Background(), "events",
		"--since", unixTime(since), "--until", unixTime(time.Now()),
		"--filter", "type=container", "--filter", "label=com.docker.compose.project="+project,
		"--filter", "label=com.docker.compose.service=app",
		"--format", "{{.Actor.ID}} {{.Action}}")
	require.NoError(t, err)
	lastHealthy, firstStop, healthy := -1, -1, 0
	for i, line := range strings.Split(out, "\n") {
		id, action, _ := strings.Cut(line, " ")
		switch {
		case !old[id] && action == "health_status: healthy":
			lastHealthy = i
			healthy++
		case old[id] && (action == "kill" || action == "stop") && firstStop < 0:
			firstStop = i
		}
	}
	require.Equal(t, len(old), healthy, "new replicas that turned healthy; events:\n%s", out)
	require.GreaterOrEqual(t, firstStop, 0, "no old replica was stopped; events:\n%s", out)
	assert.Less(t, lastHealthy, firstStop, "an old replica stopped before every new one was healthy; events:\n%s", out)
}

func unixTime(t time.Time) string { return fmt.Sprintf("%d.%09d", t.Unix(), t.Nanosecond()) }

// BenchmarkImageUpdateUnderLoad rolls the app between two images with a
// steady load through the proxy, and reports the requests that failed per
// update (the goal is zero) and the update's wall time.
func BenchmarkImageUpdateUnderLoad(b *testing.B) {
	imgs := buildImages(b)
	p := newProject(b)
	d := p.up(b, imgs.appA)
	next := []string{imgs.appB, imgs.appA}
	var updates, sent, failed int64
	var took time.Duration
	for b.Loop() {
		spec := deploy.Plan(p.cfg, next[updates%2])
		l := startLoad(p.base+"/api/plays", loadRate)
		start := time.Now()
		d.rollout(b, spec)
		took += time.Since(start)
		s, f, first := l.finish()
		if f > 0 {
			b.Logf("update %d: %d of %d requests failed; first: %s", updates+1, f, s, first)
		}
		updates++
		sent += s
		failed += f
	}
	b.ReportMetric(float64(failed)/float64(updates), "failed")
	b.ReportMetric(took.Seconds()/float64(updates), "update-s")
	b.ReportMetric(float64(sent)/float64(updates), "requests")
}

// countPlays reads a GET /api/plays answer.
func countPlays(body []byte) (int, error) {
	var page struct {
		Plays []json.RawMessage `json:"plays"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return 0, fmt.Errorf("decode /api/plays: %w", err)
	}
	return len(page.Plays), nil
}
