// Command emothe is the Emothe catalogue service.
//
//	emothe [serve]      serve HTTP on $PORT (the default subcommand)
//	emothe migrate      apply the embedded database migrations (the release command)
//	emothe healthcheck  probe the local server's /healthz (Docker's HEALTHCHECK: the image has no shell)
//
// Configuration comes only from the environment (package config checks it):
//
//	DATABASE_URL      postgres://USER:PASSWORD@HOST:5432/DB (serve, migrate; required)
//	DATABASE_DIRECT_URL  migrate prefers it: the same database, bypassing any pooler
//	SECRET_KEY_BASE   at least 64 characters, e.g. `openssl rand -hex 32` (serve; required)
//	APP_HOST          public host[:port] for absolute URLs and the Host check (default localhost:$PORT)
//	PORT              1-65535 (default 8080)
//	LOG_LEVEL         debug|info|warn|error (default info)
//	SHUTDOWN_TIMEOUT  drain time after SIGTERM/SIGINT, a Go duration (default 25s)
//
// Routes: / (HTML catalogue), /api/plays (JSON; limit, offset, author, title),
// /api/plays/{id}, /healthz (liveness, no database), /readyz (database
// reachable and schema migrated), /metrics (Prometheus).
//
// Exit codes: 0 success, 1 failure, 2 bad usage or configuration.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/emothe/emothe/app/internal/config"
	"github.com/emothe/emothe/contract"
)

const usage = `usage: emothe [serve|migrate|healthcheck]
  serve        serve HTTP on $PORT (default)
  migrate      apply the embedded database migrations
  healthcheck  exit 0 if http://127.0.0.1:$PORT/healthz answers 200, else 1
`

func main() {
	// SIGTERM from Docker, SIGINT from Fly (its default kill signal) and Ctrl-C.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole program minus the process: tests call it in-process.
// Cancelling ctx is how serve learns it must shut down.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, opts ...option) int {
	cmd := contract.Serve
	if len(args) > 0 {
		cmd = args[0]
	}
	if len(args) > 1 {
		fmt.Fprintf(stderr, "emothe %s takes no arguments, got %q\n%s", cmd, args[1:], usage)
		return 2
	}
	switch cmd {
	case contract.Serve:
		return serve(ctx, getenv, stdout, stderr, opts...)
	case contract.Release:
		return migrate(ctx, getenv, stdout, stderr)
	case contract.Healthcheck:
		return healthcheck(ctx, getenv, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "emothe: unknown subcommand %q\n%s", cmd, usage)
	return 2
}

// newLogger writes JSON lines to stdout, where Fly and Docker collect them.
func newLogger(stdout io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(stdout, &slog.HandlerOptions{Level: level}))
}

// openPool makes a pgx pool, which dials nothing until first used.
func openPool(ctx context.Context, databaseURL config.Secret) (*pgxpool.Pool, error) {
	pool, err := pgxpool.New(ctx, databaseURL.Value())
	if err != nil {
		// config has already parsed the URL the same way, so this is not
		// expected; the driver's error may quote the URL, so it is dropped.
		return nil, errors.New("DATABASE_URL is rejected by the Postgres driver")
	}
	return pool, nil
}

// configError reports invalid configuration: exit code 2.
func configError(stderr io.Writer, cmd string, err error) int {
	fmt.Fprintf(stderr, "emothe %s: %v\n", cmd, err)
	return 2
}
