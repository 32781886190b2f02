package main

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5"
	"github.com/pressly/goose/v3"
)

// Release commands racing (e.g. a retried deploy) must end in one schema with
// each migration recorded once, the seed data inserted once, and no error.
func TestConcurrentMigrateAppliesOnce(t *testing.T) {
	t.Run("fresh database", func(t *testing.T) {
		testConcurrentMigrate(t, pg.NewDatabase(t))
	})
	// Once goose's version table exists, goose's own retry around creating it
	// no longer spaces the copies out: without the advisory lock they all see
	// "nothing applied" at once and collide on the first migration.
	t.Run("version table already created", func(t *testing.T) {
		dsn := pg.NewDatabase(t)
		createVersionTable(t, dsn)
		testConcurrentMigrate(t, dsn)
	})
}

// createVersionTable has goose create its table, applying nothing.
func createVersionTable(t *testing.T, dsn string) {
	t.Helper()
	db, err := sql.Open("pgx", dsn) // driver registered by migrate.go's pgx/stdlib import
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fsys := fstest.MapFS{"00001_unused.sql": {Data: []byte("-- +goose Up\nSELECT 1;\n")}}
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.GetVersions(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func testConcurrentMigrate(t *testing.T, dsn string) {
	getenv := environ("DATABASE_URL=" + dsn)

	const copies = 8
	codes := make([]int, copies)
	stderrs := make([]bytes.Buffer, copies)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range copies {
		wg.Go(func() {
			<-start
			codes[i] = run(context.Background(), []string{"migrate"}, getenv, io.Discard, &stderrs[i])
		})
	}
	close(start)
	wg.Wait()
	for i, code := range codes {
		if code != 0 {
			t.Errorf("migrate copy %d exited %d: %s", i, code, stderrs[i].String())
		}
	}

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT version_id, count(*) FROM goose_db_version GROUP BY version_id ORDER BY version_id")
	if err != nil {
		t.Fatal(err)
	}
	type versionCount struct{ Version, Count int64 }
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[versionCount])
	if err != nil {
		t.Fatal(err)
	}
	want := []versionCount{{0, 1}, {1, 1}, {2, 1}} // goose's own row 0, then ours
	if len(got) != len(want) {
		t.Fatalf("goose_db_version rows = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("goose_db_version rows = %v, want %v", got, want)
		}
	}
	var plays int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM plays").Scan(&plays); err != nil {
		t.Fatal(err)
	}
	if plays != 11 {
		t.Fatalf("plays = %d after concurrent migrations, want the 11 seeded once", plays)
	}
}

func TestMigrateFailsClearlyWhenDatabaseIsDown(t *testing.T) {
	var stderr bytes.Buffer
	// Port 1 on loopback: nothing listens there.
	code := run(context.Background(), []string{"migrate"},
		environ("DATABASE_URL=postgres://emothe:hunter2pw@127.0.0.1:1/emothe?sslmode=disable&connect_timeout=2"), io.Discard, &stderr)
	if code != 1 {
		t.Fatalf("migrate exited %d, want 1", code)
	}
	msg := stderr.String()
	if !strings.Contains(msg, "emothe migrate:") || !strings.Contains(msg, "127.0.0.1") {
		t.Errorf("stderr %q does not say which database failed", msg)
	}
	if strings.Contains(msg, "hunter2pw") {
		t.Errorf("stderr leaks the password: %q", msg)
	}
}

func TestReadyzFlipsAfterMigrate(t *testing.T) {
	dsn := pg.NewDatabase(t)
	a := startApp(t, dsn, nil)

	var body map[string]string
	if code := getJSON(t, a.url+"/readyz", &body); code != 503 {
		t.Fatalf("/readyz before migrate = %d, want 503", code)
	}
	if !strings.Contains(body["reason"], "schema is at version 0") || !strings.Contains(body["reason"], "emothe migrate") {
		t.Fatalf("/readyz reason %q does not explain the missing migration", body["reason"])
	}
	if code := getJSON(t, a.url+"/healthz", nil); code != 200 {
		t.Fatalf("/healthz = %d, want 200 whatever the schema", code)
	}

	if code := run(context.Background(), []string{"migrate"}, environ("DATABASE_URL="+dsn), io.Discard, io.Discard); code != 0 {
		t.Fatalf("migrate exited %d", code)
	}
	if code := getJSON(t, a.url+"/readyz", &body); code != 200 {
		t.Fatalf("/readyz after migrate = %d (%v), want 200", code, body)
	}
}

func TestReadyzWhenDatabaseIsDown(t *testing.T) {
	a := startApp(t, "postgres://emothe:hunter2pw@127.0.0.1:1/emothe?sslmode=disable&connect_timeout=2", nil)
	var body map[string]string
	if code := getJSON(t, a.url+"/readyz", &body); code != 503 {
		t.Fatalf("/readyz = %d, want 503", code)
	}
	if body["reason"] != "database unreachable" {
		t.Fatalf("/readyz reason = %q, want \"database unreachable\"", body["reason"])
	}
	if code := getJSON(t, a.url+"/healthz", nil); code != 200 {
		t.Fatalf("/healthz = %d, want 200: liveness never touches the database", code)
	}
	if out := a.stdout.String(); strings.Contains(out, "hunter2pw") {
		t.Fatalf("logs leak the database password:\n%s", out)
	}
}
