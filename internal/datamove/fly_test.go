package datamove_test

import (
	"context"
	"net/http/httptest"
	"path"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/infra/stack"
	"github.com/emothe/emothe/internal/datamove"
	"github.com/emothe/emothe/internal/flystandin"
	"github.com/emothe/emothe/internal/pgtest"
	"github.com/emothe/emothe/provider/fly"
	"github.com/emothe/emothe/provider/flyapi"
	"github.com/emothe/emothe/provider/flyfake"
)

// schema is a deployed database's shape: goose's bookkeeping, the
// catalogue, and a table in a schema of its own.
const schema = `
CREATE TABLE goose_db_version (id serial PRIMARY KEY, version_id bigint NOT NULL, is_applied boolean NOT NULL, tstamp timestamp DEFAULT now());
INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true), (1, true), (2, true);
CREATE TABLE plays (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, title text NOT NULL, year integer NOT NULL);
CREATE SCHEMA archive;
CREATE TABLE archive.notes (id serial PRIMARY KEY, body text NOT NULL);`

// TestMoveBetweenFlyDatabases moves data between two Fly stacks' databases,
// one a Postgres machine reached through `fly proxy`, the other Managed
// Postgres through `fly mpg proxy`, both stood in for by a throwaway
// Postgres behind the stand-in fly; the apps' machines are the fake Fly
// API's.
func TestMoveBetweenFlyDatabases(t *testing.T) {
	ctx := context.Background()
	pg := pgtest.Start(t)
	srcURL, dstURL := pg.NewDatabase(t), pg.NewDatabase(t)
	exec(t, srcURL, schema,
		`INSERT INTO plays (title, year) SELECT 'play ' || i, 1500 + i % 300 FROM generate_series(1, 2000) i`,
		`INSERT INTO archive.notes (body) SELECT 'note ' || i FROM generate_series(1, 7) i`)
	// A fresh deploy: the catalogue the migrations seed.
	exec(t, dstURL, schema, `INSERT INTO plays (title, year) SELECT 'seed ' || i, 1600 FROM generate_series(1, 11) i`)

	fake := flyfake.New(flyfake.Options{})
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	client, err := fly.New(fly.Config{Token: fake.Token(), BaseURL: srv.URL})
	require.NoError(t, err)
	for app, n := range map[string]int{"emothe-a": 1, "emothe-b": 2} {
		_, err := client.CreateApp(ctx, flyapi.CreateAppRequest{Name: new(app), OrgSlug: new("personal")})
		require.NoError(t, err)
		for range n {
			_, err := client.CreateMachine(ctx, app, flyapi.CreateMachineRequest{Region: new("mad"), Config: &flyapi.FlyMachineConfig{Image: new("emothe:test")}}, "")
			require.NoError(t, err)
		}
	}

	standin := flystandin.Install(t)
	api := datamove.FlyAPI{BaseURL: srv.URL, Token: stack.NewSecret(fake.Token())}
	from := standin.MachineEndpoint(t, "a", "emothe-a", srcURL, api)
	to := standin.ClusterEndpoint(t, "b", "emothe-b", "cluster-b", dstURL, api)

	t.Run("flyctl missing", func(t *testing.T) {
		_, err := datamove.Move(ctx, from, to, datamove.Options{Fly: "fly-not-installed"})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "flyctl is not on PATH")
		assert.Contains(t, err.Error(), "install flyctl")
	})

	t.Run("a target with data is refused before anything stops", func(t *testing.T) {
		fake.ResetCalls()
		_, err := datamove.Move(ctx, from, to, datamove.Options{})
		require.ErrorIs(t, err, datamove.ErrNotEmpty)
		assert.Contains(t, err.Error(), "public.plays (11 rows)")
		assert.Contains(t, err.Error(), "FORCE=1")
		assert.Zero(t, fake.Calls().Writes, "no machine was touched")
		assert.Equal(t, int64(11), count(t, dstURL, "plays"))
	})

	t.Run("a failed restore leaves the target as it was and its app running", func(t *testing.T) {
		// An object of the target's own that depends on a table the
		// restore drops: the drop fails, and the transaction with it.
		exec(t, dstURL, `CREATE VIEW recent AS SELECT * FROM plays WHERE year > 1700`)
		t.Cleanup(func() { exec(t, dstURL, `DROP VIEW IF EXISTS recent`) })
		_, err := datamove.Move(ctx, from, to, datamove.Options{Force: true})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "pg_restore")
		assert.Contains(t, err.Error(), "depend", "pg_restore's own reason")
		assert.Contains(t, err.Error(), "stack b's database is as it was")
		assert.Equal(t, int64(11), count(t, dstURL, "plays"))
		requireServing(t, fake, "emothe-b", 2)
	})

	t.Run("FORCE=1 copies, verifies, and restarts both apps", func(t *testing.T) {
		exec(t, dstURL, `DROP VIEW IF EXISTS recent`)
		fake.ResetCalls()
		var out strings.Builder
		rep, err := datamove.Move(ctx, from, to, datamove.Options{Force: true, StopSource: true, Out: &out})
		require.NoError(t, err, out.String())
		assert.Equal(t, []datamove.Table{
			{Name: "archive.notes", Source: 7, Target: 7},
			{Name: "public.goose_db_version", Source: 3, Target: 3},
			{Name: "public.plays", Source: 2000, Target: 2000},
		}, rep.Tables)
		assert.Equal(t, int64(2010), rep.Rows)
		assert.Positive(t, rep.Bytes)
		assert.Contains(t, out.String(), "public.plays                    2000         2000\n")
		assert.Contains(t, out.String(), "total                           2010         2010\n")
		assert.Equal(t, checksum(t, srcURL), checksum(t, dstURL), "the same rows")
		requireServing(t, fake, "emothe-a", 1)
		requireServing(t, fake, "emothe-b", 2)
		ops := map[string]int{}
		for _, c := range fake.Calls().Log {
			if c.MachineID != "" && c.Write {
				ops[path.Base(c.Path)]++
			}
		}
		assert.Equal(t, map[string]int{"cordon": 3, "stop": 3, "start": 3, "uncordon": 3}, ops, "each machine stopped and started once")
		// A further identity value continues after the copied rows.
		exec(t, dstURL, `INSERT INTO plays (title, year) VALUES ('new', 1650)`)
		assert.Equal(t, int64(1), count(t, dstURL, "plays WHERE id = 2001"), "the new row took the next id")
	})

	t.Run("a source whose app is gone has nothing to stop", func(t *testing.T) {
		released := from
		released.App = "emothe-released" // a switch released it; its database stays
		_, err := datamove.Move(ctx, released, to, datamove.Options{Force: true, StopSource: true})
		require.NoError(t, err)
	})

	t.Run("flyctl was asked for each proxy, with a token and no password", func(t *testing.T) {
		calls := standin.Calls(t)
		require.NotEmpty(t, calls)
		for _, c := range calls {
			assert.True(t, strings.HasSuffix(c, "(token)"), c)
			assert.NotContains(t, c, fake.Token())
			assert.NotContains(t, c, from.Fly.Password.Value())
		}
		assert.Contains(t, calls, "mpg proxy cluster-b (token)")
		assert.Contains(t, calls, "proxy 0:5432 emothe-a-db.internal --app emothe-a-db (token)")
	})
}

func exec(t *testing.T, dsn string, statements ...string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer conn.Close(ctx)
	for _, s := range statements {
		_, err := conn.Exec(ctx, s)
		require.NoError(t, err, s)
	}
}

func query(t *testing.T, dsn, q string, dest any) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer conn.Close(ctx)
	require.NoError(t, conn.QueryRow(ctx, q).Scan(dest), q)
}

func count(t *testing.T, dsn, from string) int64 {
	t.Helper()
	var n int64
	query(t, dsn, "SELECT count(*) FROM "+from, &n)
	return n
}

// checksum digests the rows of both data tables.
func checksum(t *testing.T, dsn string) string {
	t.Helper()
	var sum string
	query(t, dsn, `SELECT md5((SELECT string_agg(p::text, ',' ORDER BY id) FROM plays p) || (SELECT string_agg(n::text, ',' ORDER BY id) FROM archive.notes n))`, &sum)
	return sum
}

// requireServing checks that app's n machines are started and not
// cordoned.
func requireServing(t *testing.T, fake *flyfake.Fake, app string, n int) {
	t.Helper()
	for _, a := range fake.State().Apps {
		if a.Name != app {
			continue
		}
		require.Len(t, a.Machines, n)
		for _, m := range a.Machines {
			assert.Equal(t, "started", m.State, "machine %s of %s", m.ID, app)
			assert.False(t, m.Cordoned, "machine %s of %s", m.ID, app)
		}
		return
	}
	t.Fatalf("no app %s in the fake", app)
}
