package stack

// Namespace is the Pulumi config namespace (the project name) of every setting.
const Namespace = "emothe"

// Kind is a setting's type, as the README documents it. Pulumi.yaml
// declares no type: the CLI would stop a bad value with its bare "must be
// of type" before the program could name the key, the value and the fix.
// The Reader parses each setting by its kind instead (Integer, Boolean…).
type Kind string

// The kinds of setting the loader reads.
const (
	KindString  Kind = "string"
	KindInteger Kind = "integer"
	KindBoolean Kind = "boolean"
	KindArray   Kind = "array"
)

// Setting declares one stack setting.
type Setting struct {
	Key     string
	Kind    Kind
	Default string // what Pulumi.yaml declares
	// Secret settings must be stored encrypted (the loader refuses plain
	// text). Pulumi.yaml still declares them as plain strings defaulting to
	// "": a secret there can have no default, and the CLI would stop a stack
	// lacking one with its own terse message; the program instead names the
	// exact command, and only when the stack's backend needs that secret.
	Secret      bool
	Description string
}

// Input is a value a backend needs from outside its own settings: another
// package's config key, else an environment variable (the Fly token:
// flyio:token, else FLY_API_TOKEN). The loader reads it, as it reads the
// settings, so no other code reads config or the environment.
type Input struct {
	Key string // the full config key, namespace included
	Env string
}

// backendKey is the setting that selects the backend. Its choices, default
// and description come from the registry (Registry.Settings).
const backendKey = "backend"

// Settings are the settings every backend shares, in the order the README
// lists them; each backend declares its own in its folder.
var Settings = []Setting{
	{Key: backendKey, Kind: KindString},
	{Key: "environment", Kind: KindString, Default: "development", Description: "development or production. Production requires a domain and protects the database."},
	{Key: "appName", Kind: KindString, Description: "Name of the app: the Fly app name, or the Compose project name. Lowercase letters, digits and hyphens."},
	{Key: "image", Kind: KindString, Description: "Prebuilt image reference (ideally name@sha256:digest). When empty, the image is built from the Dockerfile and pushed."},
	{Key: "logLevel", Kind: KindString, Default: "info", Description: "Service log level: debug, info, warn or error."},
	{Key: "domain", Kind: KindString, Description: "Public hostname served with a TLS certificate, e.g. emothe.example.org. Required in production."},
	{Key: "secretKeyBase", Kind: KindString, Secret: true, Description: "SECRET_KEY_BASE of the service, at least 64 characters. Set with `make secrets` or `pulumi config set --secret`."},
	{Key: "databasePassword", Kind: KindString, Secret: true, Description: "Password of the self-run Postgres (Fly database=machine, Compose). Set with `make secrets` or `pulumi config set --secret`."},
	{Key: "cpus", Kind: KindInteger, Default: "1", Description: "CPUs per app machine (Fly) or app container (Compose)."},
	{Key: "memoryMb", Kind: KindInteger, Default: "256", Description: "Memory per app machine (Fly) or app container (Compose) in MB, a multiple of 256."},
	{Key: "postgresVersion", Kind: KindString, Default: "17", Description: "Postgres major version: 16 or 17."},
	{Key: "postgresImage", Kind: KindString, Description: "Postgres image of the self-run database (Fly database=machine; Compose, also for backups); empty means the official postgres image of emothe:postgresVersion."},
	{Key: "protectDatabase", Kind: KindBoolean, Default: "false", Description: "Keep the database through a destroy. Fly: protected from deletion (Pulumi protect) and kept in Fly (retainOnDelete); a destroy is refused. Compose: its data and backup volumes are kept on destroy and replacement (retainOnDelete) while everything else goes. Turn it on for production."},
}
