package stack

// Namespace is the Pulumi config namespace (the project name) of every setting.
const Namespace = "emothe"

// Kind is a setting's type as Pulumi.yaml declares it.
type Kind string

// The config types Pulumi.yaml's typed `config:` block accepts.
const (
	KindString  Kind = "string"
	KindInteger Kind = "integer"
	KindBoolean Kind = "boolean"
	KindArray   Kind = "array"
)

// Setting declares one stack setting. Settings is the single list the loader
// reads; a test holds Pulumi.yaml to it, so the two cannot drift apart.
type Setting struct {
	Key     string
	Kind    Kind
	Default string // what Pulumi.yaml declares
	// Secret settings must be stored encrypted (the loader refuses plain
	// text). Pulumi.yaml still declares them as plain strings defaulting to
	// "": a secret there can have no default, and the CLI would stop a stack
	// lacking one with its own terse message; the program instead names the
	// exact `pulumi config set --secret` command, and only when the stack's
	// backend needs that secret.
	Secret      bool
	Description string
}

// Settings are all of the project's settings, in the order the README lists them.
var Settings = []Setting{
	{Key: "backend", Kind: KindString, Default: "fly", Description: "Where Emothe runs: fly (Fly.io) or compose (containers on a Docker host)."},
	{Key: "environment", Kind: KindString, Default: "development", Description: "development or production. Production requires a domain and protects the database."},
	{Key: "appName", Kind: KindString, Description: "Name of the app: the Fly app name, or the Compose project name. Lowercase letters, digits and hyphens."},
	{Key: "image", Kind: KindString, Description: "Prebuilt image reference (ideally name@sha256:digest). When empty, the image is built from the Dockerfile and pushed."},
	{Key: "logLevel", Kind: KindString, Default: "info", Description: "Service log level: debug, info, warn or error."},
	{Key: "domain", Kind: KindString, Description: "Public hostname served with a TLS certificate, e.g. emothe.example.org. Required in production."},
	{Key: "secretKeyBase", Kind: KindString, Secret: true, Description: "SECRET_KEY_BASE of the service, at least 64 characters. Set with `make secrets` or `pulumi config set --secret`."},
	{Key: "databasePassword", Kind: KindString, Secret: true, Description: "Password of the self-run Postgres (Fly database=machine, Compose). Set with `make secrets` or `pulumi config set --secret`."},

	{Key: "primaryRegion", Kind: KindString, Default: "mad", Description: "Fly primary region code (PRIMARY_REGION); the database and release command run here."},
	{Key: "regions", Kind: KindArray, Default: "[]", Description: "Fly regions that run app machines. Defaults to the primary region alone."},
	{Key: "machinesPerRegion", Kind: KindInteger, Default: "1", Description: "App machines in each region."},
	{Key: "cpuKind", Kind: KindString, Default: "shared", Description: "Fly CPU kind: shared or performance."},
	{Key: "cpus", Kind: KindInteger, Default: "1", Description: "CPUs per app machine (Fly) or app container (Compose)."},
	{Key: "memoryMb", Kind: KindInteger, Default: "256", Description: "Memory per app machine (Fly) or app container (Compose) in MB, a multiple of 256."},
	{Key: "autostop", Kind: KindString, Default: "stop", Description: "What Fly's proxy does with idle machines: off, stop or suspend."},
	{Key: "minMachinesRunning", Kind: KindInteger, Default: "0", Description: "Machines kept running in the primary region when autostop is on."},
	{Key: "strategy", Kind: KindString, Default: "rolling", Description: "Rollout strategy for new releases: rolling, bluegreen or immediate."},
	{Key: "maxUnavailable", Kind: KindInteger, Default: "1", Description: "Rolling strategy: machines updated at once."},
	{Key: "dedicatedIpv4", Kind: KindBoolean, Default: "false", Description: "Allocate a dedicated IPv4 instead of the shared one."},
	{Key: "database", Kind: KindString, Default: "managed", Description: "Fly database: managed (Fly Managed Postgres) or machine (a single Postgres machine on its own app)."},
	{Key: "postgresPlan", Kind: KindString, Default: "basic", Description: "Fly Managed Postgres plan: basic, starter, launch, scale or performance."},
	{Key: "postgresDiskGb", Kind: KindInteger, Default: "10", Description: "Postgres disk size in GB."},
	{Key: "postgresVersion", Kind: KindString, Default: "17", Description: "Postgres major version: 16 or 17."},
	{Key: "flyRegistry", Kind: KindString, Default: "registry.fly.io", Description: "Fly: registry host the built image is pushed to, under the app's name. Keep Fly's own; another host (e.g. a local registry, 127.0.0.1:5000) is for tests against a fake Fly API."},
	{Key: "protectDatabase", Kind: KindBoolean, Default: "false", Description: "Protect the database from deletion and keep it on destroy (Pulumi protect and retainOnDelete). Turn it on for production."},

	{Key: "dockerHost", Kind: KindString, Default: "unix:///var/run/docker.sock", Description: "Compose: Docker host, the local socket or ssh://user@host."},
	{Key: "replicas", Kind: KindInteger, Default: "2", Description: "Compose: app containers behind the reverse proxy."},
	{Key: "httpPort", Kind: KindInteger, Default: "8080", Description: "Compose: host port of the reverse proxy on a local stack."},
	{Key: "acmeEmail", Kind: KindString, Description: "Compose: contact email for ACME certificates; required with a domain."},
	{Key: "backupRetentionDays", Kind: KindInteger, Default: "7", Description: "Compose: days of pg_dump backups kept."},
	{Key: "postgresImage", Kind: KindString, Description: "Postgres image of the self-run database (Fly database=machine; Compose, also for backups); empty means the official postgres image of emothe:postgresVersion."},
	{Key: "proxyImage", Kind: KindString, Default: "caddy:2.10", Description: "Compose: reverse proxy image (Caddy)."},
	{Key: "databaseUrl", Kind: KindString, Secret: true, Description: "Compose: URL of an external (managed) Postgres; when set, no Postgres container runs. Set with `pulumi config set --secret`."},
	{Key: "databasePort", Kind: KindInteger, Default: "0", Description: "Compose, local engine only: publish Postgres on this port of 127.0.0.1 for local tools; 0 publishes nothing."},
	{Key: "registry", Kind: KindString, Description: "Compose: repository the built image is pushed to, for a remote Docker host, e.g. ghcr.io/acme/emothe. Empty: built on the Docker host, no push."},
	{Key: "registryUsername", Kind: KindString, Description: "Compose: user name for emothe:registry."},
	{Key: "registryPassword", Kind: KindString, Secret: true, Description: "Compose: password or token for emothe:registry. Set with `pulumi config set --secret`."},
}
