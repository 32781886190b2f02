// Package config reads the service's settings from the environment.
//
// Each subcommand loads only what it needs (migrate: DATABASE_DIRECT_URL or
// DATABASE_URL; healthcheck: PORT). Every bad or missing value is collected into one *Error, so a
// misconfigured deploy shows all its problems at once. Messages name the
// variable, the bad value (never for DATABASE_URL or SECRET_KEY_BASE) and the fix.
package config

import (
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/emothe/emothe/contract"
)

// Defaults for the optional settings.
const (
	DefaultPort            = contract.Port
	DefaultShutdownTimeout = contract.ShutdownTimeout
	minSecretKeyBase       = contract.MinSecretKeyBase
)

// Serve is the configuration of `emothe serve`.
type Serve struct {
	DatabaseURL Secret
	// SecretKeyBase is validated and held for features that sign data; nothing
	// signs yet, so it is never read. Secret keeps it out of logs.
	SecretKeyBase Secret
	// AppHost is the public host[:port]: the base of absolute URLs and the
	// Host header the service answers to. Defaults to localhost:PORT.
	AppHost         string
	Port            int
	LogLevel        slog.Level
	ShutdownTimeout time.Duration
}

// Migrate is the configuration of `emothe migrate`.
type Migrate struct {
	DatabaseURL Secret
	LogLevel    slog.Level
}

// Healthcheck is the configuration of `emothe healthcheck`.
type Healthcheck struct {
	Port int
}

// Getenv looks up one environment variable; os.Getenv fits.
type Getenv func(string) string

// Error lists every problem found in the environment.
type Error struct {
	Problems []string
}

func (e *Error) Error() string {
	return "invalid configuration:\n  - " + strings.Join(e.Problems, "\n  - ")
}

// loader reads variables and collects problems instead of stopping at the first.
type loader struct {
	getenv   Getenv
	problems []string
}

func (l *loader) problem(format string, args ...any) {
	l.problems = append(l.problems, fmt.Sprintf(format, args...))
}

func (l *loader) err() error {
	if len(l.problems) == 0 {
		return nil
	}
	return &Error{Problems: l.problems}
}

// LoadServe reads the configuration of `emothe serve`.
func LoadServe(getenv Getenv) (Serve, error) {
	l := &loader{getenv: getenv}
	c := Serve{
		DatabaseURL:     l.databaseURL(contract.EnvDatabaseURL),
		SecretKeyBase:   l.secretKeyBase(),
		Port:            l.port(),
		LogLevel:        l.logLevel(),
		ShutdownTimeout: l.shutdownTimeout(),
	}
	c.AppHost = l.appHost(c.Port)
	return c, l.err()
}

// LoadMigrate reads the configuration of `emothe migrate`. It prefers
// DATABASE_DIRECT_URL when set: behind a pooler (Fly Managed Postgres),
// DATABASE_URL goes through PgBouncer, and migrations need a session of their
// own (advisory locks, DDL in transactions).
func LoadMigrate(getenv Getenv) (Migrate, error) {
	l := &loader{getenv: getenv}
	name := contract.EnvDatabaseURL
	if strings.TrimSpace(getenv(contract.EnvDatabaseDirectURL)) != "" {
		name = contract.EnvDatabaseDirectURL
	}
	c := Migrate{DatabaseURL: l.databaseURL(name), LogLevel: l.logLevel()}
	return c, l.err()
}

// LoadHealthcheck reads the configuration of `emothe healthcheck`.
func LoadHealthcheck(getenv Getenv) (Healthcheck, error) {
	l := &loader{getenv: getenv}
	c := Healthcheck{Port: l.port()}
	return c, l.err()
}

// databaseURL reads the Postgres URL in the variable name. It never echoes
// the value: it usually carries the password.
func (l *loader) databaseURL(name string) Secret {
	v := strings.TrimSpace(l.getenv(name))
	if v == "" {
		l.problem("%s is not set; set it to the Postgres URL, e.g. postgres://USER:PASSWORD@HOST:5432/DB?sslmode=disable", name)
		return ""
	}
	u, err := url.Parse(v)
	if err != nil {
		// url's error quotes the input, password included: drop it.
		l.problem("%s is not a valid URL (value not shown: it may hold a password); use the form postgres://USER:PASSWORD@HOST:5432/DB, percent-encoding special characters in the password", name)
		return ""
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		l.problem("%s has scheme %q (value not shown: it may hold a password); it must start with postgres:// or postgresql://", name, u.Scheme)
		return ""
	}
	// The driver checks what a URL parser cannot: port range, sslmode, pool_* settings.
	if _, err := pgxpool.ParseConfig(v); err != nil {
		l.problem("%s is rejected by the Postgres driver (value not shown: it may hold a password); check the port and query parameters such as sslmode and pool_max_conns", name)
		return ""
	}
	return Secret(v)
}

func (l *loader) secretKeyBase() Secret {
	v := l.getenv(contract.EnvSecretKeyBase)
	const fix = "generate one with `openssl rand -hex 32` (64 hex characters)"
	switch n := len(v); {
	case n == 0:
		l.problem("%s is not set; it needs at least %d characters: %s", contract.EnvSecretKeyBase, minSecretKeyBase, fix)
	case n < minSecretKeyBase:
		l.problem("%s is %d characters; it needs at least %d: %s", contract.EnvSecretKeyBase, n, minSecretKeyBase, fix)
	}
	return Secret(v)
}

func (l *loader) port() int {
	v := l.getenv(contract.EnvPort)
	if v == "" {
		return DefaultPort
	}
	p, err := strconv.Atoi(v)
	if err != nil || p < 1 || p > 65535 {
		l.problem("%[1]s is %[2]q; it must be a whole number from 1 to 65535, e.g. %[1]s=%[3]d", contract.EnvPort, v, DefaultPort)
		return 0
	}
	return p
}

func (l *loader) logLevel() slog.Level {
	v := l.getenv(contract.EnvLogLevel)
	switch strings.ToLower(v) {
	case "", "info":
		return slog.LevelInfo
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	l.problem("%s is %q; use one of debug, info, warn, error", contract.EnvLogLevel, v)
	return slog.LevelInfo
}

func (l *loader) shutdownTimeout() time.Duration {
	v := l.getenv(contract.EnvShutdownTimeout)
	if v == "" {
		return DefaultShutdownTimeout
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		l.problem("%s is %q; it must be a positive Go duration such as 25s or 1m30s", contract.EnvShutdownTimeout, v)
		return DefaultShutdownTimeout
	}
	return d
}

// appHost accepts a bare host with an optional port, e.g. emothe.fly.dev or
// localhost:8080: the scheme of absolute URLs comes from each request.
func (l *loader) appHost(port int) string {
	v := l.getenv(contract.EnvAppHost)
	if v == "" {
		return fmt.Sprintf("localhost:%d", port)
	}
	u, err := url.Parse("http://" + v)
	if err != nil || u.Host != v || u.Hostname() == "" || u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" {
		l.problem("%s is %q; give the public host name with an optional port and no scheme or path, e.g. %[1]s=emothe.fly.dev", contract.EnvAppHost, v)
		return ""
	}
	return strings.ToLower(v)
}
