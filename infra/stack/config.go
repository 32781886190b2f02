package stack

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/emothe/emothe/contract"
)

// Config is the configuration every backend shares, validated. A backend
// reads its own settings into a type of its own (see Platform.Load).
type Config struct {
	Stack       string
	Backend     string
	Environment string
	AppName     string
	Image       string
	LogLevel    string
	Domain      string

	SecretKeyBase    Secret
	DatabasePassword Secret

	// CPUs and MemoryMB size each app machine or container.
	CPUs     int
	MemoryMB int
	// PostgresVersion and PostgresImage are the self-run Postgres'
	// (Fly database = machine, Compose); the image defaults to the
	// official one of the version.
	PostgresVersion string
	PostgresImage   string
	ProtectDatabase bool
}

// Production reports whether the stack is a production environment.
func (c *Config) Production() bool { return c.Environment == "production" }

// KeepData reports whether the database and its data are protected from
// deletion and kept on destroy: asked for, or always in production.
func (c *Config) KeepData() bool { return c.ProtectDatabase || c.Production() }

// PublicURL is the app's URL on its domain, or fallback when it has none.
func (c *Config) PublicURL(fallback string) string {
	if c.Domain != "" {
		return "https://" + c.Domain
	}
	return strings.TrimSuffix(fallback, "/")
}

// Secret is a secret setting's value. It never prints itself, so a Config
// can be logged or wrapped in an error without leaking.
type Secret struct{ value string }

// NewSecret wraps a plaintext secret value.
func NewSecret(v string) Secret { return Secret{value: v} }

// Value returns the plaintext; callers hand it to pulumi.ToSecret at once.
func (s Secret) Value() string { return s.value }

// Set reports whether a value was given.
func (s Secret) Set() bool { return s.value != "" }

func (s Secret) String() string { return "[secret]" }

// GoString keeps %#v from printing the value either.
func (s Secret) GoString() string { return "[secret]" }

// Raw is what the loader reads: config values by key (without namespace),
// the keys Pulumi holds as secrets, and the backends' inputs by key.
type Raw struct {
	Stack   string
	Values  map[string]string
	Secrets map[string]bool
	Inputs  map[string]string
}

// ConfigError lists every bad setting of a stack.
type ConfigError struct{ Problems []string }

func (e *ConfigError) Error() string {
	return fmt.Sprintf("invalid stack configuration (%d problem(s)):\n  - %s",
		len(e.Problems), strings.Join(e.Problems, "\n  - "))
}

// readShared reads the shared settings; backends are the emothe:backend
// choices.
func readShared(r *Reader, backends []string) *Config {
	c := &Config{Stack: r.raw.Stack}
	c.Backend = r.OneOf(backendKey, backends...)
	c.Environment = r.OneOf("environment", "development", "production")
	c.AppName = r.appName("appName")
	c.Image = r.ImageRef("image", "registry.fly.io/emothe@sha256:<digest>")
	c.LogLevel = r.OneOf("logLevel", "debug", "info", "warn", "error")
	c.Domain = r.hostname("domain")
	c.SecretKeyBase = r.Secret("secretKeyBase")
	if n := len(c.SecretKeyBase.Value()); c.SecretKeyBase.Set() && n < contract.MinSecretKeyBase {
		r.Fail("secretKeyBase", "", fmt.Sprintf("is %d characters; it needs at least %d", n, contract.MinSecretKeyBase),
			fmt.Sprintf("make secrets STACK=%s ROTATE=secretKeyBase", r.Stack()))
	}
	r.Require("secretKeyBase", c.SecretKeyBase, "the service's "+contract.EnvSecretKeyBase)
	c.DatabasePassword = r.Secret("databasePassword")
	c.CPUs = r.OneOfInt("cpus", 1, 2, 4, 8, 16)
	c.MemoryMB = r.memory("memoryMb")
	c.PostgresVersion = r.OneOf("postgresVersion", "16", "17")
	c.PostgresImage = r.ImageRef("postgresImage", "postgres:17")
	if c.PostgresImage == "" {
		c.PostgresImage = "postgres:" + c.PostgresVersion
	}
	c.ProtectDatabase = r.Boolean("protectDatabase")

	if c.AppName == "" && !r.Bad("appName") {
		r.Missing("appName", "required", set("appName", "emothe-"+r.Stack()))
	}
	if c.Production() && c.Domain == "" && !r.Bad("domain", "environment") {
		r.Missing("domain", "required in production (it gets a TLS certificate)", set("domain", "emothe.example.org"))
	}
	return c
}

// The image build both backends run when emothe:image is empty: the
// repository's Dockerfile, from the root where the program runs, for
// x86-64 hosts (Fly's machines are).
const (
	BuildContext  = "."
	Dockerfile    = "Dockerfile"
	BuildPlatform = "linux/amd64"
)

// ImageTag is the tag a build is pushed under: the stack's name.
func (c *Config) ImageTag() string { return cmp.Or(c.Stack, "latest") }
