package main

import (
	"context"
	"fmt"
	"io"

	"github.com/emothe/emothe/app/internal/config"
	"github.com/emothe/emothe/app/internal/migrations"
	"github.com/jackc/pgx/v5/stdlib"
)

// migrate applies pending migrations. It is safe to run several at once:
// migrations.Up serialises them on an advisory lock.
func migrate(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, err := config.LoadMigrate(getenv)
	if err != nil {
		return configError(stderr, "migrate", err)
	}
	log := newLogger(stdout, cfg.LogLevel)
	pool, err := openPool(ctx, cfg.DatabaseURL)
	if err != nil {
		return configError(stderr, "migrate", err)
	}
	defer pool.Close()
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()

	if err := migrations.Up(ctx, db, log); err != nil {
		fmt.Fprintf(stderr, "emothe migrate: %v\n", err)
		return 1
	}
	return 0
}
