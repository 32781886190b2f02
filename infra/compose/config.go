package compose

import (
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/emothe/emothe/infra/stack"
)

// Platform is the Compose backend as the registry (infra.Backends) knows it.
var Platform = stack.Platform{
	Name:     "compose",
	About:    "containers on a Docker host",
	Settings: settings,
	// A destroy keeps the protected volumes (retainOnDelete) and removes
	// every container and network: the data survives without a refusal.
	RetainsData: true,
	// The networks, volumes and images, and the Postgres container: not the
	// migration, the app, the proxy or the backups.
	SwitchFirst: func(app string) []string {
		return []string{
			"**docker:index/network:Network::*", "**docker:index/volume:Volume::*", "**docker:index/remoteImage:RemoteImage::*",
			"**docker:index/image:Image::*", "**docker:index/container:Container::" + dbContainer(app),
		}
	},
	Owns: func(string) []string { return []string{"**docker:index/**"} },
	OwnImage: func(ref string, _ map[string]string) string {
		if strings.HasPrefix(ref, "sha256:") {
			return "it is an image ID, which exists only on the Docker host"
		}
		return ""
	},
	Load: func(r *stack.Reader, cfg *stack.Config) stack.Deployer {
		c := Read(r, cfg)
		if r.Failed() {
			return nil
		}
		// The release image is known only as the Image step's output: the
		// containers that run it take it from there (Container.Release).
		return stack.Drive(cfg, &steps{cfg: c, spec: Plan(c, "")})
	},
}

var settings = []stack.Setting{
	{Key: "dockerHost", Kind: stack.KindString, Default: "unix:///var/run/docker.sock", Description: "Compose: Docker host, the local socket or ssh://user@host."},
	{Key: "replicas", Kind: stack.KindInteger, Default: "2", Description: "Compose: app containers behind the reverse proxy."},
	{Key: "httpPort", Kind: stack.KindInteger, Default: "8080", Description: "Compose: host port of the reverse proxy on a local stack."},
	{Key: "acmeEmail", Kind: stack.KindString, Description: "Compose: contact email for ACME certificates; required with a domain."},
	{Key: "backupRetentionDays", Kind: stack.KindInteger, Default: "7", Description: "Compose: days of pg_dump backups kept."},
	{Key: "proxyImage", Kind: stack.KindString, Default: "caddy:2.10", Description: "Compose: reverse proxy image (Caddy)."},
	{Key: "databaseUrl", Kind: stack.KindString, Secret: true, Description: "Compose: URL of an external (managed) Postgres; when set, no Postgres container runs. Set with `pulumi config set --secret`."},
	{Key: "databasePort", Kind: stack.KindInteger, Default: "0", Description: "Compose, local engine only: publish Postgres on this port of 127.0.0.1 for local tools; 0 publishes nothing."},
	{Key: "registry", Kind: stack.KindString, Description: "Compose: repository the built image is pushed to, for a remote Docker host, e.g. ghcr.io/acme/emothe. Empty: built on the Docker host, no push."},
	{Key: "registryUsername", Kind: stack.KindString, Description: "Compose: user name for emothe:registry."},
	{Key: "registryPassword", Kind: stack.KindString, Secret: true, Description: "Compose: password or token for emothe:registry. Set with `pulumi config set --secret`."},
}

// Config is a Compose stack's configuration: the shared settings and
// Compose's own.
type Config struct {
	*stack.Config
	DockerHost          string
	Replicas            int
	HTTPPort            int
	ACMEEmail           string
	BackupRetentionDays int
	ProxyImage          string
	// DatabaseURL, when set, is an external Postgres the app uses instead of
	// a Postgres container.
	DatabaseURL      stack.Secret
	DatabasePort     int
	Registry         string
	RegistryUsername string
	RegistryPassword stack.Secret
}

// LocalEngine reports whether the stack drives this machine's own Docker
// engine (a unix socket) rather than a remote host.
func (c Config) LocalEngine() bool { return strings.HasPrefix(c.DockerHost, "unix://") }

// Load reads raw as a Compose stack, for tests and tools.
func Load(raw stack.Raw) (Config, error) { return stack.LoadBackend(raw, Platform, Read) }

// Read reads and validates Compose's settings, recording every problem in r.
func Read(r *stack.Reader, cfg *stack.Config) Config {
	c := Config{Config: cfg}
	c.DockerHost = dockerHost(r, "dockerHost")
	c.Replicas = r.Integer("replicas", 1, 20)
	c.HTTPPort = r.Integer("httpPort", 1, 65535)
	c.ACMEEmail = email(r, "acmeEmail")
	c.BackupRetentionDays = r.Integer("backupRetentionDays", 1, 365)
	c.ProxyImage = r.ImageRef("proxyImage", "caddy:2.10")
	c.DatabaseURL = postgresURL(r, "databaseUrl")
	c.DatabasePort = r.Integer("databasePort", 0, 65535)
	c.Registry = repository(r, "registry")
	c.RegistryUsername = r.Get("registryUsername")
	c.RegistryPassword = r.Secret("registryPassword")
	crossCheck(r, c)
	return c
}

// crossCheck validates the rules between settings, each only when the
// settings it spans are good.
func crossCheck(r *stack.Reader, c Config) {
	if !c.DatabaseURL.Set() && !r.Bad("databaseUrl") {
		r.Require("databasePassword", c.DatabasePassword, "the password of the Compose Postgres")
	}
	if c.ACMEEmail == "" && c.Domain != "" && !r.Bad("acmeEmail", "domain") {
		r.Missing("acmeEmail", "required with a domain on compose (ACME needs a contact)",
			"pulumi config set emothe:acmeEmail ops@example.org")
	}
	remote := !c.LocalEngine() && !r.Bad("dockerHost")
	if remote && c.Image == "" && c.Registry == "" && !r.Bad("registry", "image") {
		r.Missing("registry", "required for a remote Docker host ("+c.DockerHost+") when emothe:image is empty: the built image is pushed there",
			"pulumi config set emothe:registry ghcr.io/acme/emothe, or set emothe:image to a prebuilt image")
	}
	if c.RegistryUsername != "" && !c.RegistryPassword.Set() && !r.Bad("registryPassword") {
		r.Missing("registryPassword", "required with emothe:registryUsername",
			"pulumi config set --secret emothe:registryPassword <token>")
	}
	if c.RegistryPassword.Set() && c.RegistryUsername == "" {
		r.Missing("registryUsername", "required with emothe:registryPassword",
			"pulumi config set emothe:registryUsername <user>")
	}
	if c.DatabasePort != 0 && !r.Bad("databasePort", "dockerHost", "environment") && (remote || c.Production() || c.DatabaseURL.Set()) {
		r.Fail("databasePort", strconv.Itoa(c.DatabasePort),
			"publishes the Postgres container's port, which only a development stack on the local engine (unix://) with its own Postgres may do",
			"pulumi config set emothe:databasePort 0")
	}
}

func dockerHost(r *stack.Reader, key string) string {
	v := r.Get(key)
	u, err := url.Parse(v)
	ok := err == nil && ((u.Scheme == "unix" && u.Path != "") || (u.Scheme == "ssh" && u.Host != "") ||
		(u.Scheme == "tcp" && u.Host != ""))
	if !ok {
		r.Fail(key, v, "is not a Docker host URL (unix:///path, ssh://user@host or tcp://host:port)",
			fmt.Sprintf("pulumi config set %s:%s ssh://deploy@docker.example.org", stack.Namespace, key))
	}
	return v
}

func email(r *stack.Reader, key string) string {
	v := r.Get(key)
	if v == "" {
		return v
	}
	if a, err := mail.ParseAddress(v); err != nil || a.Address != v {
		r.Fail(key, v, "is not an email address", fmt.Sprintf("pulumi config set %s:%s ops@example.org", stack.Namespace, key))
	}
	return v
}

// repositoryRE is an image repository without tag or digest, on a registry
// host: images are pushed there under a tag of the program's choosing.
var repositoryRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)+$`)

func repository(r *stack.Reader, key string) string {
	v := r.Get(key)
	if v != "" && (!repositoryRE.MatchString(v) || !strings.ContainsAny(registryHost(v), ".:")) {
		r.Fail(key, v, "is not an image repository on a registry host (no tag, no digest)",
			fmt.Sprintf("pulumi config set %s:%s ghcr.io/acme/emothe", stack.Namespace, key))
	}
	return v
}

// postgresURL reads a secret Postgres connection URL; a bad one is reported
// without its value, which holds a password.
func postgresURL(r *stack.Reader, key string) stack.Secret {
	s := r.Secret(key)
	if !s.Set() {
		return s
	}
	u, err := url.Parse(s.Value())
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Hostname() == "" || u.Path == "" || u.Path == "/" {
		r.Fail(key, "", "is not a Postgres URL with a host and a database",
			fmt.Sprintf("pulumi config set --secret %s:%s 'postgres://USER:PASSWORD@HOST:5432/DB?sslmode=require'", stack.Namespace, key))
	}
	return s
}
