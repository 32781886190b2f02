// Package contract is what the Emothe service (app/) promises the platforms
// that run it, and what it expects of them: the port it serves on, the
// environment it reads, its commands, its probes and how long it drains.
// The service and every backend (infra/fly, infra/compose) use these names,
// so a renamed variable or a moved probe is one edit that the compiler
// carries everywhere.
package contract

import "time"

// Port is where `emothe serve` listens by default, and the port every
// backend sets PORT to.
const Port = 8080

// The environment the service reads.
const (
	// EnvPort is the port to listen on (default Port).
	EnvPort = "PORT"
	// EnvAppHost is the public host[:port]: the base of absolute URLs and
	// the Host header the service answers to.
	EnvAppHost = "APP_HOST"
	// EnvLogLevel is debug, info, warn or error.
	EnvLogLevel = "LOG_LEVEL"
	// EnvShutdownTimeout is the drain time after SIGTERM, a Go duration.
	EnvShutdownTimeout = "SHUTDOWN_TIMEOUT"
	// EnvSecretKeyBase is the service's signing secret (secret).
	EnvSecretKeyBase = "SECRET_KEY_BASE"
	// EnvDatabaseURL is the Postgres URL the service serves with, pooled
	// where the platform has a pooler (secret).
	EnvDatabaseURL = "DATABASE_URL"
	// EnvDatabaseDirectURL bypasses any pooler; the release command prefers
	// it to EnvDatabaseURL (secret).
	EnvDatabaseDirectURL = "DATABASE_DIRECT_URL"
)

// MinSecretKeyBase is the shortest EnvSecretKeyBase the service accepts.
const MinSecretKeyBase = 64

// The image's commands: its ENTRYPOINT is Binary, and a platform sets only
// the argument (Fly's init.cmd, a container's command).
const (
	Binary = "/emothe"
	// Serve serves HTTP; it is the image's default command.
	Serve = "serve"
	// Release runs the migrations to completion: the release command, run
	// before new code takes traffic.
	Release = "migrate"
	// Healthcheck probes the local server's HealthPath (Docker's
	// HEALTHCHECK: the image has no shell).
	Healthcheck = "healthcheck"
)

// The probes the service answers on any Host header.
const (
	// HealthPath is liveness: 200 while the process serves, no database.
	HealthPath = "/healthz"
	// ReadyPath is readiness: 200 once the database is reachable and
	// migrated, 503 from the start of a drain.
	ReadyPath = "/readyz"
	// MetricsPath serves Prometheus metrics.
	MetricsPath = "/metrics"
)

// Draining: on StopSignal the service fails ReadyPath, finishes in-flight
// requests for up to ShutdownTimeout, then exits. A platform waits
// StopTimeout, which outlasts the drain, before it kills the process.
const (
	StopSignal      = "SIGTERM"
	ShutdownTimeout = 25 * time.Second
	StopTimeout     = ShutdownTimeout + 5*time.Second
)
