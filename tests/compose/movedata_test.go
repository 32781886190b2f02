package compose

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	infrastack "github.com/emothe/emothe/infra/stack"
	"github.com/emothe/emothe/internal/datamove"
	"github.com/emothe/emothe/internal/dockertest"
	"github.com/emothe/emothe/internal/flystandin"
	"github.com/emothe/emothe/internal/pgtest"
	"github.com/emothe/emothe/internal/stackctl"
	"github.com/emothe/emothe/provider/fly"
	"github.com/emothe/emothe/provider/flyapi"
	"github.com/emothe/emothe/provider/flyfake"
)

// seededPlays is how many plays a fresh deploy's migrations insert.
const seededPlays = 11

// pair is two Compose stacks, for moving data between them.
type pair struct {
	a, b   *stack
	pa, pb project
}

// newPair brings up two stacks side by side, one replica each.
func newPair(tb testing.TB) pair {
	tb.Helper()
	imgs := buildImages(tb)
	p := pair{pa: newProject(tb, imgs.appA), pb: newProject(tb, imgs.appA)}
	for _, pr := range []project{p.pa, p.pb} {
		pr.config["replicas"] = "1"
	}
	p.a, p.b = newStack(tb, p.pa.config, stackSecrets()), newStack(tb, p.pb.config, stackSecrets())
	// Both ups at once: the engine, not this machine's cores, is what
	// they wait on.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, s := range []*stack{p.a, p.b} {
		wg.Go(func() { _, errs[i] = s.tryUp() })
	}
	wg.Wait()
	for i, s := range []*stack{p.a, p.b} {
		require.NoError(tb, errs[i], "up %s:\n%s", s.name, s.out.String())
	}
	p.pa.waitReady(tb)
	p.pb.waitReady(tb)
	return p
}

// psql runs one statement in the project's db container and returns its
// unaligned output.
func (p project) psql(tb testing.TB, sql string) string {
	tb.Helper()
	db := p.ids(tb, "db")
	require.Len(tb, db, 1)
	out, err := dockertest.Docker(context.Background(), "exec", db[0], "psql", "-U", "emothe", "-d", "emothe", "-XAtc", sql)
	require.NoError(tb, err)
	return out
}

// seed adds n plays to the project's catalogue.
func (p project) seed(tb testing.TB, n int) {
	tb.Helper()
	p.psql(tb, fmt.Sprintf(`INSERT INTO plays (title, original_title, author, year, genre, language)
		SELECT 'Play ' || i, 'Obra ' || i, 'Author ' || (i %% 997), 1400 + i %% 400, 'comedia', 'Spanish' FROM generate_series(1, %d) i`, n))
}

// catalogue digests every play, to compare two databases' content.
const catalogue = `SELECT md5(string_agg(p::text, ',' ORDER BY id)) FROM plays p`

// total is the catalogue's size as the app serves it through the proxy
// (/api/plays' "total").
func (p project) total(tb testing.TB) int {
	tb.Helper()
	p.waitReady(tb)
	resp, err := http.Get(p.base + "/api/plays")
	require.NoError(tb, err)
	defer resp.Body.Close()
	require.Equal(tb, http.StatusOK, resp.StatusCode)
	var page struct {
		Total *int `json:"total"`
	}
	require.NoError(tb, json.NewDecoder(resp.Body).Decode(&page))
	require.NotNil(tb, page.Total, "/api/plays has a total")
	return *page.Total
}

// testMoveData moves the data of a, a Compose stack that is up, to a
// second one through `make move-data`'s code (stackctl.MoveData), on the
// real engine, then to a Fly stack's database (behind the stand-in fly
// proxy) and back. TestRollbackUnderLoad runs it on its stack, so that the
// suite brings up one stack fewer.
func testMoveData(t *testing.T, imgs images, a *stack, pa project) {
	pb := newProject(t, imgs.appA)
	pb.config["replicas"] = "1"
	b := newStack(t, pb.config, stackSecrets())
	b.up(t)
	pb.waitReady(t)
	p := pair{a: a, b: b, pa: pa, pb: pb}
	const added = 500
	p.pa.seed(t, added)
	root := p.a.root
	ctx := context.Background()
	appB := p.pb.ids(t, "app")
	require.Len(t, appB, 1)

	t.Run("bad input is refused before anything stops", func(t *testing.T) {
		_, err := stackctl.MoveData(ctx, root, p.a.name, p.a.name, datamove.Options{})
		require.ErrorContains(t, err, "the same stack")
		_, err = stackctl.MoveData(ctx, root, p.a.name, "no-such-stack-"+randomHex(3), datamove.Options{})
		require.ErrorContains(t, err, "unknown stack")
		assert.Equal(t, appB, p.pb.ids(t, "app"), "stack b's app kept running")
	})

	t.Run("a target with data is refused unless forced", func(t *testing.T) {
		_, err := stackctl.MoveData(ctx, root, p.a.name, p.b.name, datamove.Options{})
		require.ErrorIs(t, err, datamove.ErrNotEmpty)
		assert.Contains(t, err.Error(), fmt.Sprintf("public.plays (%d rows)", seededPlays))
		assert.Contains(t, err.Error(), "FORCE=1")
		assert.Equal(t, appB, p.pb.ids(t, "app"), "stack b's app kept running")
		assert.Equal(t, seededPlays, p.pb.total(t))
	})

	t.Run("FORCE=1 copies, verifies, and b serves a's data", func(t *testing.T) {
		var out strings.Builder
		rep, err := stackctl.MoveData(ctx, root, p.a.name, p.b.name, datamove.Options{Force: true, Out: &out})
		require.NoError(t, err, out.String())
		t.Log(out.String())
		assert.Contains(t, rep.Tables, datamove.Table{Name: "public.plays", Source: seededPlays + added, Target: seededPlays + added})
		assert.Contains(t, out.String(), fmt.Sprintf("move-data: stopping the app of stack %s", p.b.name))
		assert.Contains(t, out.String(), fmt.Sprintf("move-data: starting the app of stack %s again", p.b.name))
		assert.Equal(t, p.pa.psql(t, catalogue), p.pb.psql(t, catalogue), "the same plays")
		assert.Equal(t, appB, p.pb.ids(t, "app"), "b's app runs again, the same container")
		assert.Equal(t, seededPlays+added, p.pb.total(t))
	})

	t.Run("to a Fly database and back", func(t *testing.T) {
		// The Fly side: a throwaway Postgres behind the stand-in fly
		// proxy, its app's machine on the fake Fly API.
		pg := pgtest.Start(t)
		dsn := pg.NewDatabase(t)
		fake := flyfake.New(flyfake.Options{})
		srv := httptest.NewServer(fake)
		t.Cleanup(srv.Close)
		client, err := fly.New(fly.Config{Token: fake.Token(), BaseURL: srv.URL})
		require.NoError(t, err)
		_, err = client.CreateApp(ctx, flyapi.CreateAppRequest{Name: new("emothe-fly"), OrgSlug: new("personal")})
		require.NoError(t, err)
		_, err = client.CreateMachine(ctx, "emothe-fly", flyapi.CreateMachineRequest{Region: new("mad"), Config: &flyapi.FlyMachineConfig{Image: new("emothe:test")}}, "")
		require.NoError(t, err)
		standin := flystandin.Install(t)
		flyEnd := standin.MachineEndpoint(t, "fly", "emothe-fly", dsn, datamove.FlyAPI{BaseURL: srv.URL, Token: infrastack.NewSecret(fake.Token())})
		st, err := stackctl.Open(ctx, root, p.b.name, nil)
		require.NoError(t, err)
		composeEnd, err := stackctl.Endpoint(ctx, st)
		require.NoError(t, err)

		_, err = datamove.Move(ctx, composeEnd, flyEnd, datamove.Options{})
		require.NoError(t, err, "an empty database needs no FORCE")
		var plays int
		conn, err := pgx.Connect(ctx, dsn)
		require.NoError(t, err)
		defer conn.Close(ctx)
		require.NoError(t, conn.QueryRow(ctx, "SELECT count(*) FROM plays").Scan(&plays))
		assert.Equal(t, seededPlays+added, plays)

		_, err = conn.Exec(ctx, `INSERT INTO plays (title, original_title, author, year, genre, language) VALUES ('On Fly', 'En Fly', 'Someone', 1650, 'comedia', 'Spanish')`)
		require.NoError(t, err)
		rep, err := datamove.Move(ctx, flyEnd, composeEnd, datamove.Options{Force: true, StopSource: true})
		require.NoError(t, err)
		assert.Contains(t, rep.Tables, datamove.Table{Name: "public.plays", Source: seededPlays + added + 1, Target: seededPlays + added + 1})
		assert.Equal(t, seededPlays+added+1, p.pb.total(t))
		for _, m := range fake.State().Apps[0].Machines {
			assert.Equal(t, "started", m.State, "the Fly app runs again")
			assert.False(t, m.Cordoned)
		}
	})
}
