// Package switching runs `make switch`'s code (stackctl.Switch) end to end:
// a Fly stack on the in-repo fake of the Fly API (tests/e2e/harness) moves
// to Compose on the real Docker engine with the real pulumi-docker plugin,
// and back, with its data. The Fly side's database is a throwaway Postgres
// (internal/pgtest) that the stand-in flyctl (internal/flystandin) reaches
// as `fly proxy` would reach the Postgres machine: the fake runs no
// machine, and Fly cannot be reached here.
package switching

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/internal/dockertest"
	"github.com/emothe/emothe/internal/flystandin"
	"github.com/emothe/emothe/internal/pgtest"
	"github.com/emothe/emothe/internal/stackctl"
	"github.com/emothe/emothe/internal/testenv"
	"github.com/emothe/emothe/provider/flyfake"
	"github.com/emothe/emothe/tests/e2e/harness"
)

func TestMain(m *testing.M) { harness.Main(m) }

// seeded is how many plays the migrations seed.
const seeded = 11

// fast is a fake whose machines boot and pass their checks at once.
var fast = flyfake.Options{BootDelay: 50 * time.Millisecond, HealthDelay: 100 * time.Millisecond, PostgresReadyDelay: 100 * time.Millisecond}

// world is one stack of the committed dev template (a Postgres machine) on
// the fake, with the Compose settings it needs once switched (inert on
// Fly), and the Postgres that stands in for its Fly database.
type world struct {
	env     *harness.Env
	stack   *harness.Stack
	app     string // emothe:appName: the Fly app, the Compose project
	image   string
	pg      *pgtest.Server
	pgAddr  string // host:port of pg
	dbPass  string
	base    string // the Compose proxy, on loopback
	standin *flystandin.Standin
}

func newWorld(tb testing.TB, protect bool) *world {
	tb.Helper()
	if testing.Short() {
		tb.Skip("runs the Pulumi CLI, the fake and the Docker engine")
	}
	dockertest.RequireLocalImages(tb)
	w := &world{env: harness.New(tb, fast), app: "emothe-switch-" + randomHex(3), dbPass: randomHex(16)}
	// A tag, not an image ID: Fly runs it too (the fake pulls nothing).
	w.image = "emothe:switch-test"
	dockertest.Build(tb, w.image, "VERSION=switch-test", "REVISION=switch-test")
	port, err := testenv.FreePort()
	require.NoError(tb, err)
	w.base = "http://127.0.0.1:" + strconv.Itoa(port)
	tb.Cleanup(func() { w.removeDocker(tb) })

	w.pg = pgtest.Start(tb)
	u, err := url.Parse(w.pg.DSN())
	require.NoError(tb, err)
	w.pgAddr = u.Host
	w.freshDatabase(tb)
	w.standin = flystandin.Install(tb)
	w.standin.Route(tb, w.app+"-db.internal", w.pgAddr)

	w.stack = w.env.Stack(tb, "dev", map[string]string{
		"emothe:appName": w.app, "emothe:image": w.image, "emothe:logLevel": "warn",
		"emothe:protectDatabase": strconv.FormatBool(protect),
		// Compose's settings, read only once the stack is on Compose.
		"emothe:replicas": "1", "emothe:httpPort": strconv.Itoa(port),
		"emothe:postgresImage": dockertest.LocalPostgres, "emothe:proxyImage": dockertest.LocalCaddy,
	}, map[string]string{"emothe:secretKeyBase": randomHex(64), "emothe:databasePassword": w.dbPass})
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("transcript of %s:\n%s", w.stack.Name, w.stack.Transcript())
		}
	})
	return w
}

// freshDatabase (re)creates the empty database a new Postgres machine of
// the stack starts with: its owner and password from the stack's settings.
func (w *world) freshDatabase(tb testing.TB) {
	tb.Helper()
	w.exec(tb, w.pg.DSN(), "DROP DATABASE IF EXISTS emothe WITH (FORCE)")
	w.exec(tb, w.pg.DSN(), "DROP ROLE IF EXISTS emothe")
	w.exec(tb, w.pg.DSN(), fmt.Sprintf("CREATE ROLE emothe LOGIN PASSWORD '%s'", w.dbPass))
	w.exec(tb, w.pg.DSN(), "CREATE DATABASE emothe OWNER emothe")
}

// flyDSN is the Fly database as the app reaches it.
func (w *world) flyDSN() string {
	return fmt.Sprintf("postgres://emothe:%s@%s/emothe?sslmode=disable", w.dbPass, w.pgAddr)
}

// marker is the title of the one play seed adds by hand.
const marker = "The Switch, a Comedy"

// seed runs the image's release command on the Fly database, as the Fly
// side's release machine would, and adds extra plays and the marker.
func (w *world) seed(tb testing.TB, extra int) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, err := dockertest.Docker(ctx, "run", "--rm", "--network", "host", "--env", "DATABASE_URL="+w.flyDSN(), w.image, "migrate")
	require.NoError(tb, err, "migrate the Fly database")
	w.exec(tb, w.flyDSN(), fmt.Sprintf(`INSERT INTO plays (title, original_title, author, year, genre, language)
		SELECT 'Play ' || i, 'Obra ' || i, 'Author ' || (i %% 997), 1400 + (i %% 400), 'comedia', 'Spanish'
		FROM generate_series(1, %d) AS i`, extra))
	w.exec(tb, w.flyDSN(), `INSERT INTO plays (title, original_title, author, year, genre, language)
		VALUES ('`+marker+`', 'La mudanza', 'Anonymous', 1650, 'comedia', 'Spanish')`)
}

func (w *world) exec(tb testing.TB, dsn, sql string) {
	tb.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(tb, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	require.NoError(tb, err, sql)
}

// flyPlays counts the Fly database's plays, and those titled title.
func (w *world) flyPlays(tb testing.TB, title string) (all, titled int) {
	tb.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, w.flyDSN())
	require.NoError(tb, err)
	defer conn.Close(ctx)
	require.NoError(tb, conn.QueryRow(ctx, "SELECT count(*), count(*) FILTER (WHERE title = $1) FROM plays", title).Scan(&all, &titled))
	return all, titled
}

// switchTo runs what `make switch STACK=<stack> TO=<to> [FORCE=1]` runs
// and returns its output.
func (w *world) switchTo(tb testing.TB, to string, force bool) (string, error) {
	tb.Helper()
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	err := stackctl.Switch(ctx, w.stack.St, stackctl.SwitchOptions{
		To: to, Force: force, Out: &out, Fly: w.standin.Bin,
		Up: []optup.Option{optup.ProgressStreams(&out)},
	})
	return out.String(), err
}

// config is the stack's file, and state its exported state.
func (w *world) files(tb testing.TB) (config, state string) {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(w.stack.Dir, "Pulumi."+w.stack.Name+".yaml"))
	require.NoError(tb, err)
	return string(b), w.stack.Export(tb)
}

// project lists the Compose project's containers ("service state"),
// volumes or networks, by the label Compose itself uses.
func (w *world) project(tb testing.TB, what string) []string {
	tb.Helper()
	args := []string{"ps", "--all", "--filter", "label=com.docker.compose.project=" + w.app,
		"--format", `{{.Label "com.docker.compose.service"}} {{.State}}`}
	if what == "volumes" || what == "networks" {
		args = []string{strings.TrimSuffix(what, "s"), "ls", "--quiet", "--filter", "label=com.docker.compose.project=" + w.app}
	}
	out, err := dockertest.Docker(context.Background(), args...)
	require.NoError(tb, err)
	return strings.Fields(strings.ReplaceAll(out, " ", "_"))
}

// removeDocker removes what the test left of its Compose project on a
// failure: its containers, networks and volumes, all labelled with it.
func (w *world) removeDocker(tb testing.TB) {
	ctx := context.Background()
	filter := "label=com.docker.compose.project=" + w.app
	for _, kind := range []string{"container", "network", "volume"} {
		ids, err := dockertest.Docker(ctx, kind, "ls", "--quiet", "--filter", filter)
		if kind == "container" {
			ids, err = dockertest.Docker(ctx, "ps", "--all", "--quiet", "--filter", filter)
		}
		if err != nil || strings.TrimSpace(ids) == "" {
			continue
		}
		args := append([]string{kind, "rm"}, strings.Fields(ids)...)
		if kind == "container" {
			args = append([]string{"rm", "--force"}, strings.Fields(ids)...)
		}
		if _, err := dockertest.Docker(ctx, args...); err != nil {
			tb.Logf("removing the test's %ss: %v", kind, err)
		}
	}
}

// destroyFlyApp does what `fly apps destroy <name> --yes` does, through the
// fake's API (flyctl is not stood in for that).
func (w *world) destroyFlyApp(tb testing.TB, name string) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodDelete, w.env.APIURL+"/v1/apps/"+name, nil)
	require.NoError(tb, err)
	req.Header.Set("Authorization", "Bearer "+w.env.Token())
	resp, err := http.DefaultClient.Do(req)
	require.NoError(tb, err)
	_ = resp.Body.Close()
	require.Less(tb, resp.StatusCode, 300, "delete app %s", name)
}

// flyApps are the fake's apps by name.
func (w *world) flyApps(tb testing.TB) map[string]flyfake.AppState {
	tb.Helper()
	apps := map[string]flyfake.AppState{}
	for _, a := range w.env.State(tb).Apps {
		apps[a.Name] = a
	}
	return apps
}

// machines counts an app's machines in state.
func machines(a flyfake.AppState, state string) int {
	n := 0
	for _, m := range a.Machines {
		if m.State == state {
			n++
		}
	}
	return n
}

// composePlays asks the Compose side's proxy how many plays it serves, and
// how many titled title.
func (w *world) composePlays(tb testing.TB, title string) (all, titled int) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(tb, dockertest.WaitHTTP(ctx, w.base+"/readyz", http.StatusOK))
	return total(tb, w.base+"/api/plays?limit=1"), total(tb, w.base+"/api/plays?limit=1&title="+url.QueryEscape(title))
}

// total is the total of an /api/plays page.
func total(tb testing.TB, u string) int {
	tb.Helper()
	resp, err := http.Get(u)
	require.NoError(tb, err)
	defer resp.Body.Close()
	require.Equal(tb, http.StatusOK, resp.StatusCode, u)
	var page struct{ Total int }
	require.NoError(tb, json.NewDecoder(resp.Body).Decode(&page))
	return page.Total
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
