// Package migrations holds the service's SQL migrations, embedded in the binary,
// and applies them with goose.
//
// `emothe migrate` is the release command of both deploy backends, so several
// copies may run at once (two releases racing, or a retried release). A
// Postgres session advisory lock serialises them: the first applies the
// migrations, the others wait, then find nothing left to do.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed sql/*.sql
var embedded embed.FS

// source is the migrations directory as goose wants it: files at the root.
var source = func() fs.FS {
	sub, err := fs.Sub(embedded, "sql")
	if err != nil {
		panic(err) // "sql" is a literal embedded directory
	}
	return sub
}()

// Up applies every pending migration, holding the advisory lock while it does.
func Up(ctx context.Context, db *sql.DB, log *slog.Logger) error {
	// goose's default polls the lock every 5s; a waiting release command
	// should notice promptly that the first one finished. 1s × 300 = 5 minutes.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
	if err != nil {
		return fmt.Errorf("create migration lock: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, source,
		goose.WithSessionLocker(locker),
		goose.WithDisableGlobalRegistry(true)) // only our embedded SQL, no init()-registered Go migrations
	if err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	results, err := p.Up(ctx)
	var partial *goose.PartialError
	if errors.As(err, &partial) {
		results = partial.Applied
	}
	for _, r := range results {
		log.Info("migration applied", "version", r.Source.Version, "file", path.Base(r.Source.Path), "duration", r.Duration)
	}
	if err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}
	log.Info("schema is up to date", "version", Latest(), "applied_now", len(results))
	return nil
}

// Latest is the version of the newest embedded migration: the version a
// database must be at for this build to serve it.
func Latest() int64 { return latest() }

var latest = sync.OnceValue(func() int64 {
	names, err := fs.Glob(source, "*.sql")
	if err != nil {
		panic(err)
	}
	var newest int64
	for _, name := range names {
		v, err := goose.NumericComponent(name)
		if err != nil {
			panic(fmt.Sprintf("embedded migration %s: %v", name, err)) // caught by the package tests
		}
		newest = max(newest, v)
	}
	return newest
})

// Querier is the part of pgx's pool or connection that Version needs.
type Querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Version reads the database's schema version from goose's table: 0 when no
// migration has ever run. It only reads, unlike goose's own helpers, which
// create the version table, so readiness probes stay side-effect free.
func Version(ctx context.Context, q Querier) (int64, error) {
	var v *int64
	err := q.QueryRow(ctx, "SELECT max(version_id) FROM "+goose.DefaultTablename).Scan(&v)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P01" { // undefined_table: never migrated
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	if v == nil {
		return 0, nil
	}
	return *v, nil
}
