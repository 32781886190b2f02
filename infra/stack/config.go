package stack

import (
	"errors"
	"fmt"
	"strings"
)

// Config is a stack's whole configuration, loaded and validated in one place
// (Load) before any resource is registered.
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

	Fly     FlyConfig
	Compose ComposeConfig
}

// FlyConfig holds the settings only the Fly backend reads.
type FlyConfig struct {
	PrimaryRegion      string
	Regions            []string
	MachinesPerRegion  int
	CPUKind            string
	CPUs               int
	MemoryMB           int
	Autostop           string
	MinMachinesRunning int
	Strategy           string
	MaxUnavailable     int
	DedicatedIPv4      bool
	Database           string
	PostgresPlan       string
	PostgresDiskGB     int
	PostgresVersion    string
	ProtectDatabase    bool
	// Registry is the host the built image is pushed to.
	Registry string
	// PostgresImage is the self-run Postgres' image (database = machine),
	// the same setting as Compose's.
	PostgresImage string
}

// ComposeConfig holds the settings only the Compose backend reads.
type ComposeConfig struct {
	DockerHost          string
	Replicas            int
	HTTPPort            int
	ACMEEmail           string
	BackupRetentionDays int
	PostgresImage       string
	ProxyImage          string
	// DatabaseURL, when set, is an external Postgres the app uses instead of
	// a Postgres container.
	DatabaseURL      Secret
	DatabasePort     int
	Registry         string
	RegistryUsername string
	RegistryPassword Secret
}

// LocalEngine reports whether the Compose backend drives this machine's own
// Docker engine (a unix socket) rather than a remote host.
func (k ComposeConfig) LocalEngine() bool { return strings.HasPrefix(k.DockerHost, "unix://") }

// Production reports whether the stack is a production environment.
func (c *Config) Production() bool { return c.Environment == "production" }

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

// Raw is what Load reads: config values by key (without namespace) and the
// keys Pulumi holds as secrets.
type Raw struct {
	Stack   string
	Values  map[string]string
	Secrets map[string]bool
}

// Load turns raw stack config into a validated Config. Every problem is
// reported at once, each naming the key, the bad value and the fix.
func Load(raw Raw) (*Config, error) {
	r := reader{raw: raw}
	c := &Config{Stack: raw.Stack}
	c.Backend = r.oneOf("backend", "fly", "compose")
	c.Environment = r.oneOf("environment", "development", "production")
	c.AppName = r.appName("appName")
	c.Image = r.image("image")
	c.LogLevel = r.oneOf("logLevel", "debug", "info", "warn", "error")
	c.Domain = r.hostname("domain")
	c.SecretKeyBase = r.secret("secretKeyBase")
	c.DatabasePassword = r.secret("databasePassword")

	f := &c.Fly
	f.PrimaryRegion = r.region("primaryRegion")
	f.Regions = r.regions("regions", f.PrimaryRegion)
	f.MachinesPerRegion = r.integer("machinesPerRegion", 1, 100)
	f.CPUKind = r.oneOf("cpuKind", "shared", "performance")
	f.CPUs = r.oneOfInt("cpus", 1, 2, 4, 8, 16)
	f.MemoryMB = r.memory("memoryMb", f.CPUKind, f.CPUs)
	f.Autostop = r.oneOf("autostop", "off", "stop", "suspend")
	f.MinMachinesRunning = r.integer("minMachinesRunning", 0, 100)
	f.Strategy = r.oneOf("strategy", "rolling", "bluegreen", "immediate")
	f.MaxUnavailable = r.integer("maxUnavailable", 1, 100)
	f.DedicatedIPv4 = r.boolean("dedicatedIpv4")
	f.Database = r.oneOf("database", "managed", "machine")
	f.PostgresPlan = strings.ToLower(r.oneOf("postgresPlan", "basic", "starter", "launch", "scale", "performance"))
	f.PostgresDiskGB = r.integer("postgresDiskGb", 1, 500)
	f.PostgresVersion = r.oneOf("postgresVersion", "16", "17")
	f.ProtectDatabase = r.boolean("protectDatabase")
	f.Registry = r.registryHost("flyRegistry")

	k := &c.Compose
	k.DockerHost = r.dockerHost("dockerHost")
	k.Replicas = r.integer("replicas", 1, 20)
	k.HTTPPort = r.integer("httpPort", 1, 65535)
	k.ACMEEmail = r.email("acmeEmail")
	k.BackupRetentionDays = r.integer("backupRetentionDays", 1, 365)
	k.PostgresImage = r.imageRef("postgresImage", "postgres:17")
	if k.PostgresImage == "" {
		k.PostgresImage = "postgres:" + f.PostgresVersion
	}
	f.PostgresImage = k.PostgresImage
	k.ProxyImage = r.imageRef("proxyImage", "caddy:2.10")
	k.DatabaseURL = r.postgresURL("databaseUrl")
	k.DatabasePort = r.integer("databasePort", 0, 65535)
	k.Registry = r.repository("registry")
	k.RegistryUsername = r.get("registryUsername")
	k.RegistryPassword = r.secret("registryPassword")

	r.crossCheck(c)
	if len(r.errs) > 0 {
		return nil, &ConfigError{Problems: r.errs}
	}
	return c, nil
}

// ConfigError lists every bad setting of a stack.
type ConfigError struct{ Problems []string }

func (e *ConfigError) Error() string {
	return fmt.Sprintf("invalid stack configuration (%d problem(s)):\n  - %s",
		len(e.Problems), strings.Join(e.Problems, "\n  - "))
}

// crossCheck validates rules that span settings.
func (r *reader) crossCheck(c *Config) {
	if c.AppName == "" && !r.bad["appName"] {
		r.fail("appName", "", "is required", "pulumi config set emothe:appName emothe-"+orDefault(c.Stack, "dev"))
	}
	if c.Production() && c.Domain == "" && !r.bad["domain"] {
		r.fail("domain", "", "is required in production (it gets a TLS certificate)",
			"pulumi config set emothe:domain emothe.example.org")
	}
	if c.Fly.MinMachinesRunning > c.Fly.MachinesPerRegion && !r.bad["minMachinesRunning"] {
		r.fail("minMachinesRunning", fmt.Sprint(c.Fly.MinMachinesRunning),
			fmt.Sprintf("exceeds the %d machine(s) per region", c.Fly.MachinesPerRegion),
			"lower emothe:minMachinesRunning or raise emothe:machinesPerRegion")
	}
	if c.Compose.ACMEEmail == "" && c.Domain != "" && c.Backend == "compose" && !r.bad["acmeEmail"] {
		r.fail("acmeEmail", "", "is required with a domain on compose (ACME needs a contact)",
			"pulumi config set emothe:acmeEmail ops@example.org")
	}
	if c.Backend == "compose" {
		r.crossCheckCompose(c)
	}
}

// crossCheckCompose validates the rules between Compose settings.
func (r *reader) crossCheckCompose(c *Config) {
	k := c.Compose
	remote := !k.LocalEngine() && !r.bad["dockerHost"]
	if remote && c.Image == "" && k.Registry == "" && !r.bad["registry"] {
		r.fail("registry", "", "is required for a remote Docker host ("+k.DockerHost+") when emothe:image is empty: the built image is pushed there",
			"pulumi config set emothe:registry ghcr.io/acme/emothe, or set emothe:image to a prebuilt image")
	}
	if k.RegistryUsername != "" && !k.RegistryPassword.Set() {
		r.fail("registryPassword", "", "is required with emothe:registryUsername",
			"pulumi config set --secret emothe:registryPassword <token>")
	}
	if k.RegistryPassword.Set() && k.RegistryUsername == "" {
		r.fail("registryUsername", "", "is required with emothe:registryPassword",
			"pulumi config set emothe:registryUsername <user>")
	}
	if k.DatabasePort != 0 && !r.bad["databasePort"] && (remote || c.Production() || k.DatabaseURL.Set()) {
		r.fail("databasePort", fmt.Sprint(k.DatabasePort),
			"publishes the Postgres container's port, which only a development stack on the local engine (unix://) with its own Postgres may do",
			"pulumi config set emothe:databasePort 0")
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// ErrMissingSecret marks a required secret that is not set; the message
// carries the exact command to set it.
var ErrMissingSecret = errors.New("missing secret")

// RequireSecret fails with the command that sets key on the stack.
func RequireSecret(c *Config, key string, s Secret, hint string) error {
	if s.Set() {
		return nil
	}
	return fmt.Errorf("%w: %s:%s is not set: run `pulumi config set --secret %s:%s <value> --stack %s` (%s), or `make secrets STACK=%s` to generate it",
		ErrMissingSecret, Namespace, key, Namespace, key, c.Stack, hint, c.Stack)
}
