package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/emothe/emothe/app/internal/config"
	"github.com/emothe/emothe/app/internal/metrics"
	"github.com/emothe/emothe/app/internal/store"
	"github.com/emothe/emothe/app/internal/web"
)

// options are the seams tests use; production passes none.
type options struct {
	listener net.Listener // instead of listening on :PORT
	web      []web.Option
}

type option func(*options)

// withListener serves on ln instead of :PORT, so a test knows the address
// before the server starts.
func withListener(ln net.Listener) option {
	return func(o *options) { o.listener = ln }
}

// withRoute mounts a handler production does not have (e.g. a slow one).
func withRoute(pattern string, h http.Handler) option {
	return func(o *options) { o.web = append(o.web, web.WithRoute(pattern, h)) }
}

// serve runs the HTTP server until ctx is cancelled, then drains: /readyz
// turns 503, the listener closes, in-flight requests get SHUTDOWN_TIMEOUT to
// finish, and the pool closes. A clean drain exits 0.
func serve(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer, opts ...option) int {
	cfg, err := config.LoadServe(getenv)
	if err != nil {
		return configError(stderr, "serve", err)
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	log := newLogger(stdout, cfg.LogLevel)

	// The pool connects lazily: the server comes up (and /readyz explains)
	// even while the database is down.
	pool, err := openPool(ctx, cfg.DatabaseURL)
	if err != nil {
		return configError(stderr, "serve", err)
	}
	defer pool.Close() // after the server has drained: handlers hold connections

	ln := o.listener
	if ln == nil {
		if ln, err = net.Listen("tcp", ":"+strconv.Itoa(cfg.Port)); err != nil {
			fmt.Fprintf(stderr, "emothe serve: %v\n", err)
			return 1
		}
	}
	handler := web.New(web.Config{
		Store:   store.New(pool),
		Metrics: metrics.New(pool.Stat),
		Log:     log,
		AppHost: cfg.AppHost,
	}, o.web...)
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("serving", "addr", ln.Addr().String(), "app_host", cfg.AppHost, "shutdown_timeout", cfg.ShutdownTimeout.String())

	select {
	case err := <-served:
		fmt.Fprintf(stderr, "emothe serve: %v\n", err)
		return 1
	case <-ctx.Done():
	}

	log.Info("shutting down: draining in-flight requests", "timeout", cfg.ShutdownTimeout.String())
	handler.Drain()
	drainCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(drainCtx); err != nil {
		// Cut the stragglers off, or the deferred pool.Close would wait for them.
		_ = srv.Close()
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("requests still running after SHUTDOWN_TIMEOUT=%s", cfg.ShutdownTimeout)
		}
		fmt.Fprintf(stderr, "emothe serve: shutdown: %v\n", err)
		return 1
	}
	log.Info("stopped")
	return 0
}
