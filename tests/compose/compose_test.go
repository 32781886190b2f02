// Package compose proves the Compose backend on a real Docker engine with
// the real pulumi-docker provider plugin: it runs the project's program
// (infra.Run, as `make up` does) through the Automation API, and once
// through the plain CLI, which compiles main.go with the Go language host.
// The Postgres and proxy images are the local stack's, built from Debian
// packages by `make tools` (images/) and named through emothe:postgresImage
// and emothe:proxyImage, since no image can be pulled here.
package compose

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/internal/dockertest"
	"github.com/emothe/emothe/internal/testenv"
)

// loadRate is the steady load during an update, in requests per second.
const loadRate = 50

// project is the settings of one test stack, and where its proxy answers.
type project struct {
	name   string // the Compose project, emothe:appName
	config map[string]string
	base   string // the proxy, on loopback
}

// newProject is a local stack's settings: two replicas behind the proxy on
// a free loopback port, running image.
func newProject(tb testing.TB, image string) project {
	tb.Helper()
	port, err := testenv.FreePort()
	require.NoError(tb, err)
	name := "emothe-it-" + randomHex(3)
	return project{
		name: name,
		config: map[string]string{
			"backend": "compose", "appName": name, "logLevel": "warn", "image": image,
			"replicas": "2", "httpPort": strconv.Itoa(port),
			"postgresImage": postgresImage, "proxyImage": proxyImage,
		},
		base: "http://127.0.0.1:" + strconv.Itoa(port),
	}
}

// stackSecrets are fresh values of the secrets a Compose stack needs.
func stackSecrets() map[string]string {
	return map[string]string{"secretKeyBase": randomHex(64), "databasePassword": randomHex(16) + "/+@"}
}

// deployed is a stack of two replicas running image A, brought up and
// answering through the proxy.
func deployed(tb testing.TB) (images, project, *stack) {
	tb.Helper()
	imgs := buildImages(tb)
	p := newProject(tb, imgs.appA)
	s := newStack(tb, p.config, stackSecrets())
	s.up(tb)
	p.waitReady(tb)
	return imgs, p, s
}

// waitReady waits until the app answers /readyz through the proxy.
func (p project) waitReady(tb testing.TB) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(tb, dockertest.WaitHTTP(ctx, p.base+"/readyz", http.StatusOK), "through the proxy")
}

// filter selects the project's containers, networks or volumes by the
// label Compose itself uses.
func (p project) filter() string { return "label=com.docker.compose.project=" + p.name }

// ids are the project's containers of service, by their ID.
func (p project) ids(tb testing.TB, service string) []string {
	tb.Helper()
	out, err := dockertest.Docker(context.Background(), "ps", "--quiet", "--no-trunc", "--filter", p.filter(),
		"--filter", "label=com.docker.compose.service="+service)
	require.NoError(tb, err)
	return strings.Fields(out)
}

func TestComposeStack(t *testing.T) {
	t.Parallel()
	imgs := buildImages(t)
	p := newProject(t, imgs.appA)
	s := newStack(t, p.config, stackSecrets())
	created := s.up(t)
	assert.Len(t, created, 17, "resources created by the first up")
	p.waitReady(t)
	ctx := context.Background()

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
		assert.Equal(t, "http://localhost:"+p.config["httpPort"], s.outputs(t)["url"])
	})

	t.Run("docker compose -p <project> ps and logs see the stack", func(t *testing.T) {
		out, err := dockertest.Docker(ctx, "compose", "-p", p.name, "ps", "--all", "--format", "{{.Service}} {{.State}}")
		require.NoError(t, err)
		assert.ElementsMatch(t, []string{
			"db running", "migrate exited", "app running", "app running", "proxy running", "backup running",
		}, strings.Split(out, "\n"))
		// The stack logs at warn; Postgres's start-up lines come regardless.
		logs, err := dockertest.Docker(ctx, "compose", "-p", p.name, "logs", "--no-color", "db")
		require.NoError(t, err)
		assert.Contains(t, logs, "database system is ready to accept connections", "a service's logs, by its name")
	})

	t.Run("only the proxy publishes a port, on loopback", func(t *testing.T) {
		out, err := dockertest.Docker(ctx, "ps", "--all", "--filter", p.filter(),
			"--format", `{{.Label "com.docker.compose.service"}} {{.Ports}}`)
		require.NoError(t, err)
		for _, line := range strings.Split(out, "\n") {
			service, ports, _ := strings.Cut(line, " ")
			var published []string // what an image EXPOSEs alone is not
			for _, port := range strings.Split(ports, ", ") {
				if strings.Contains(port, "->") {
					published = append(published, port)
				}
			}
			if service == "proxy" {
				assert.Equal(t, []string{strings.TrimPrefix(p.base, "http://") + "->80/tcp"}, published)
				continue
			}
			assert.Empty(t, published, "%s publishes a port", service)
		}
	})

	t.Run("the backup writes a dump pg_restore reads", func(t *testing.T) {
		id := p.ids(t, "backup")[0]
		wait, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		require.NoError(t, (&dockertest.Container{ID: id}).WaitHealthy(wait))
		out, err := dockertest.Docker(ctx, "exec", id, "sh", "-c", `pg_restore --list "$(ls -t /backups/*.dump | head -n 1)"`)
		require.NoError(t, err)
		assert.Contains(t, out, "TABLE DATA public plays")
	})

	t.Run("a second up changes nothing", func(t *testing.T) {
		s.requireNoChanges(t)
		assert.Empty(t, s.up(t), "a no-op up changed resources")
	})

	t.Run("an image update under load fails no request", func(t *testing.T) {
		dbID, proxyID := p.ids(t, "db")[0], p.ids(t, "proxy")[0]
		volume := p.name + "_pgdata"
		volumeCreated := dockertest.Inspect(t, volume, "{{.CreatedAt}}")
		old := map[string]bool{}
		for _, id := range p.ids(t, "app") {
			old[id] = true
		}

		s.set(t, map[string]string{"image": imgs.appB})
		events := watchAppEvents(t, p.name)
		l := startLoad(p.base+"/api/plays", loadRate)
		changed := s.up(t)
		load := l.finish()
		assertStartedFirst(t, events(old), old)

		p.assertNoFailures(t, "during the update", load)
		assert.Equal(t, map[string]apitype.OpType{
			p.name + "-app-image": apitype.OpReplace, p.name + "-migrate": apitype.OpReplace,
			p.name + "-app-1": apitype.OpReplace, p.name + "-app-2": apitype.OpReplace,
		}, changed, "an image update replaces the migration and the replicas, nothing else")
		assert.Equal(t, []string{dbID}, p.ids(t, "db"), "the database container was touched")
		assert.Equal(t, []string{proxyID}, p.ids(t, "proxy"), "the proxy was touched")
		assert.Equal(t, volumeCreated, dockertest.Inspect(t, volume, "{{.CreatedAt}}"), "the data volume was replaced")
		apps := p.ids(t, "app")
		assert.Len(t, apps, 2, "the old replicas are gone")
		for _, id := range apps {
			assert.Equal(t, imgs.appB, dockertest.Inspect(t, id, "{{.Image}}"))
		}
		s.requireNoChanges(t)
	})

	t.Run("a config change touches only what it changes", func(t *testing.T) {
		before := p.ids(t, "app")
		s.set(t, map[string]string{"replicas": "3"})
		changed := s.up(t)
		assert.Equal(t, map[string]apitype.OpType{p.name + "-app-3": apitype.OpCreate}, changed)
		after := p.ids(t, "app")
		assert.Len(t, after, 3)
		assert.Subset(t, after, before, "the running replicas were replaced")
		p.waitReady(t)
		s.requireNoChanges(t)
	})

	t.Run("destroy leaves nothing behind", func(t *testing.T) {
		s.destroy(t)
		for _, kind := range []string{"container", "network", "volume"} {
			args := []string{kind, "ls", "--quiet", "--filter", p.filter()}
			if kind == "container" {
				args = []string{"ps", "--all", "--quiet", "--filter", p.filter()}
			}
			out, err := dockertest.Docker(ctx, args...)
			require.NoError(t, err)
			assert.Empty(t, out, "%ss of %s left after destroy", kind, p.name)
		}
	})
}

// watchAppEvents streams the engine's events for the project's app
// containers from now on, as "<container ID> <action>" lines. They are read
// as they come, not asked for afterwards with --since: the engine keeps only
// its last 256 events, which a busy engine's healthchecks overwrite within
// an update. The function it returns waits until every container of old has
// been destroyed (the replacement is over), stops the stream and returns it.
func watchAppEvents(t *testing.T, project string) func(old map[string]bool) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, "docker", "events",
		"--filter", "type=container", "--filter", "label=com.docker.compose.project="+project,
		"--filter", "label=com.docker.compose.service=app",
		"--format", "{{.Actor.ID}} {{.Action}}")
	var mu sync.Mutex
	var out strings.Builder
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	read := make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			mu.Lock()
			out.WriteString(sc.Text() + "\n")
			mu.Unlock()
		}
	}()
	return func(old map[string]bool) string {
		destroyed := func() bool {
			mu.Lock()
			defer mu.Unlock()
			for id := range old {
				if !strings.Contains(out.String(), id+" destroy\n") {
					return false
				}
			}
			return true
		}
		deadline := time.Now().Add(time.Minute)
		for !destroyed() && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		cancel()
		<-read
		_ = cmd.Wait()
		mu.Lock()
		defer mu.Unlock()
		return out.String()
	}
}

// assertStartedFirst checks the events of an update: every new app replica
// reported healthy before any old one was stopped. The proxy's retries
// would hide a short gap from the load, so the order itself is checked.
func assertStartedFirst(t *testing.T, out string, old map[string]bool) {
	t.Helper()
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
	require.GreaterOrEqual(t, healthy, len(old), "new replicas that turned healthy; events:\n%s", out)
	require.GreaterOrEqual(t, firstStop, 0, "no old replica was stopped; events:\n%s", out)
	assert.Less(t, lastHealthy, firstStop, "an old replica stopped before every new one was healthy; events:\n%s", out)
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
