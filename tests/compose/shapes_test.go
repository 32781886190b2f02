package compose

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/internal/dockertest"
	"github.com/emothe/emothe/internal/stackctl"
	"github.com/emothe/emothe/internal/testenv"
)

// TestStackShapes deploys each shape of a Compose stack beyond the local
// one and holds each to the same promises: it serves, a second up with
// nothing changed changes nothing (with and without a refresh) and destroy
// leaves nothing behind. The domain shape goes through the plain CLI, as
// `pulumi up --stack <name>` runs it: the Go language host compiles main.go.
func TestStackShapes(t *testing.T) {
	t.Parallel()
	imgs := buildImages(t)

	t.Run("with a domain, through the plain CLI", func(t *testing.T) {
		t.Parallel()
		p := newProject(t, imgs.appA)
		p.config["domain"] = p.name + ".example.org"
		p.config["acmeEmail"] = "ops@example.org"
		s := newStack(t, p.config, stackSecrets())
		s.cli(t, "up", "--yes", "--skip-preview")
		// Port 80 redirects to HTTPS for the domain; the certificate itself
		// needs an ACME server this machine cannot reach.
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		req, err := http.NewRequest(http.MethodGet, "http://127.0.0.1:80/api/plays", nil)
		require.NoError(t, err)
		req.Host = p.config["domain"]
		resp, err := client.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusPermanentRedirect, resp.StatusCode)
		assert.Equal(t, "https://"+p.config["domain"]+"/api/plays", resp.Header.Get("Location"))
		s.cli(t, "preview", "--expect-no-changes", "--diff")
		s.cli(t, "preview", "--refresh", "--expect-no-changes", "--diff")
		s.cli(t, "destroy", "--yes", "--skip-preview")
		p.requireNothingLeft(t)
	})

	t.Run("with an external database", func(t *testing.T) {
		t.Parallel()
		p := newProject(t, imgs.appA)
		secrets := stackSecrets()
		delete(secrets, "databasePassword")
		secrets["databaseUrl"] = externalPostgres(t)
		s := newStack(t, p.config, secrets)
		s.up(t)
		p.waitReady(t)
		assert.Empty(t, p.ids(t, "db"), "no Postgres container with an external database")
		s.requireNoChanges(t)
		s.destroy(t)
		p.requireNothingLeft(t)
	})

	t.Run("protected: destroy keeps the data and says so", func(t *testing.T) {
		t.Parallel()
		p := newProject(t, imgs.appA)
		p.config["protectDatabase"] = "true"
		s := newStack(t, p.config, stackSecrets())
		s.up(t)
		p.waitReady(t)
		kept, err := stackctl.Destroy(context.Background(), s.st)
		require.NoError(t, err)
		volumes := []string{p.name + "_pgdata", p.name + "_backups"}
		t.Cleanup(func() {
			_, _ = dockertest.Docker(context.Background(), append([]string{"volume", "rm"}, volumes...)...)
		})
		assert.ElementsMatch(t, []string{
			"docker:index/volume:Volume " + volumes[0], "docker:index/volume:Volume " + volumes[1],
		}, kept, "destroy reports what it kept")
		ctx := context.Background()
		for _, args := range [][]string{{"ps", "--all"}, {"network", "ls"}} {
			out, err := dockertest.Docker(ctx, append(args, "--quiet", "--filter", p.filter())...)
			require.NoError(t, err)
			assert.Empty(t, out, "left after destroy: docker %s", strings.Join(args, " "))
		}
		out, err := dockertest.Docker(ctx, "volume", "ls", "--format", "{{.Name}}", "--filter", p.filter())
		require.NoError(t, err)
		assert.ElementsMatch(t, volumes, strings.Fields(out), "only the data and backup volumes are left")
	})

	t.Run("with a registry", func(t *testing.T) {
		t.Parallel()
		p := newProject(t, "")
		delete(p.config, "image")
		p.config["registry"] = "127.0.0.1:5000/" + p.name
		s := newStack(t, p.config, stackSecrets())
		s.up(t)
		p.waitReady(t)
		image, _ := s.outputs(t)["image"].(string)
		assert.True(t, strings.HasPrefix(image, p.config["registry"]+"@sha256:"), "the app runs the pushed repo digest, got %q", image)
		// The registry has it: its manifest answers by that digest.
		_, digest, _ := strings.Cut(image, "@")
		resp, err := http.Head("http://127.0.0.1:5000/v2/" + p.name + "/manifests/" + digest)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, "the pushed manifest")
		s.requireNoChanges(t)
		assert.Empty(t, s.up(t), "a second up with the same source rebuilt or rolled something")
		s.destroy(t)
		p.requireNothingLeft(t)
	})
}

// requireNothingLeft checks that no container, network or volume of the
// project is left on the engine.
func (p project) requireNothingLeft(tb testing.TB) {
	tb.Helper()
	ctx := context.Background()
	for _, args := range [][]string{
		{"ps", "--all", "--quiet", "--filter", p.filter()},
		{"network", "ls", "--quiet", "--filter", p.filter()},
		{"volume", "ls", "--quiet", "--filter", p.filter()},
	} {
		out, err := dockertest.Docker(ctx, args...)
		require.NoError(tb, err)
		assert.Empty(tb, out, "left after destroy: docker %s", strings.Join(args, " "))
	}
}

// cli runs the Pulumi CLI on the stack from the repository's root, as a
// user does.
func (s *stack) cli(tb testing.TB, args ...string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "pulumi", append(args, "--stack", s.name, "--non-interactive")...)
	cmd.Dir = s.root
	cmd.Env = os.Environ()
	out, err := cmd.CombinedOutput()
	s.record("pulumi "+strings.Join(args, " "), string(out))
	require.NoError(tb, err, "pulumi %s:\n%s", strings.Join(args, " "), s.out.String())
}

// externalPostgres runs a Postgres for the test on the host's network, so
// the stack's containers reach it at the host's docker0 address, a host
// address, as they would a managed database; it returns its URL.
func externalPostgres(tb testing.TB) string {
	tb.Helper()
	port, err := testenv.FreePort()
	require.NoError(tb, err)
	password := randomHex(12)
	c := dockertest.Run(tb, "--network", "host",
		"-e", "POSTGRES_USER=emothe", "-e", "POSTGRES_DB=emothe", "-e", "POSTGRES_PASSWORD="+password,
		"-e", "PGDATA=/var/lib/postgresql/data",
		postgresImage, "postgres", "-c", "port="+strconv.Itoa(port))
	gateway := bridgeAddress(tb)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		if _, err := dockertest.Docker(ctx, "exec", c.ID, "pg_isready", "-h", "127.0.0.1", "-p", strconv.Itoa(port)); err == nil {
			break
		}
		select {
		case <-ctx.Done():
			tb.Fatalf("the external Postgres did not start:\n%s", c.Logs())
		case <-time.After(time.Second):
		}
	}
	return "postgres://emothe:" + password + "@" + gateway + ":" + strconv.Itoa(port) + "/emothe?sslmode=disable"
}

// bridgeAddress is the host's address on Docker's default bridge, docker0:
// a host address that every container can route to.
func bridgeAddress(tb testing.TB) string {
	tb.Helper()
	iface, err := net.InterfaceByName("docker0")
	require.NoError(tb, err, "Docker's default bridge")
	addrs, err := iface.Addrs()
	require.NoError(tb, err)
	for _, a := range addrs {
		if ip, ok := a.(*net.IPNet); ok && ip.IP.To4() != nil {
			return ip.IP.String()
		}
	}
	tb.Fatal("docker0 has no IPv4 address")
	return ""
}
