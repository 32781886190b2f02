package compose_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/infra"
	"github.com/emothe/emothe/infra/stack"
)

// The settings the Compose backend reads are checked before anything is
// registered, each problem naming the key, the value and the fix.
func TestComposeConfigValidation(t *testing.T) {
	cases := []struct {
		name   string
		values map[string]string
		want   []string
	}{
		{"bad host URL", localValues("dockerHost", "docker.example.org:2375"),
			[]string{`emothe:dockerHost = "docker.example.org:2375"`, "not a Docker host URL", "ssh://deploy@docker.example.org"}},
		{"ssh host without a host", localValues("dockerHost", "ssh://"), []string{`emothe:dockerHost = "ssh://"`}},
		{"no replicas", localValues("replicas", "0"), []string{`emothe:replicas = "0"`, "from 1 to 20"}},
		{"domain without ACME email", localValues("domain", "emothe.example.org"),
			[]string{"emothe:acmeEmail", "required with a domain", "pulumi config set emothe:acmeEmail"}},
		{"bad http port", localValues("httpPort", "70000"), []string{`emothe:httpPort = "70000"`}},
		{"retention of zero days", localValues("backupRetentionDays", "0"), []string{`emothe:backupRetentionDays = "0"`, "from 1 to 365"}},
		{"remote host without registry or image", localValues("dockerHost", "ssh://deploy@docker.example.org"),
			[]string{"emothe:registry", "required for a remote Docker host", "pulumi config set emothe:registry"}},
		{"registry user without password", localValues("registry", "ghcr.io/acme/emothe", "registryUsername", "ci"),
			[]string{"emothe:registryPassword", "pulumi config set --secret emothe:registryPassword"}},
		{"registry with a tag", localValues("registry", "ghcr.io/acme/emothe:v1"),
			[]string{`emothe:registry = "ghcr.io/acme/emothe:v1"`, "no tag"}},
		{"registry without a host", localValues("registry", "emothe"), []string{`emothe:registry = "emothe"`}},
		{"untagged postgres image", localValues("postgresImage", "postgres"),
			[]string{`emothe:postgresImage = "postgres"`, "tag or digest", "pulumi config set emothe:postgresImage postgres:17"}},
		{"bad proxy image", localValues("proxyImage", "Caddy Latest"), []string{`emothe:proxyImage = "Caddy Latest"`}},
		{"database port on a remote host", localValues("databasePort", "5432", "dockerHost", "ssh://deploy@docker.example.org", "registry", "ghcr.io/acme/emothe"),
			[]string{`emothe:databasePort = "5432"`, "local engine", "pulumi config set emothe:databasePort 0"}},
		{"database port with an external database", localValues("databasePort", "5432", "databaseUrl", "postgres://u:p@db.example.net/emothe"),
			[]string{`emothe:databasePort = "5432"`}},
		{"external database URL that is not Postgres", localValues("databaseUrl", "mysql://u:hunter2@db.example.net/emothe"),
			[]string{"emothe:databaseUrl = [secret]", "not a Postgres URL", "pulumi config set --secret emothe:databaseUrl"}},
		{"external database URL without a database", localValues("databaseUrl", "postgres://u:hunter2@db.example.net"),
			[]string{"emothe:databaseUrl = [secret]"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := infra.Backends.Load(stack.Raw{Stack: "local", Values: tc.values, Secrets: secretKeys})
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			for _, s := range []string{goodKey, dbPassword, "hunter2"} {
				assert.NotContains(t, err.Error(), s, "a secret leaked into the error")
			}
		})
	}
}

func TestComposeSettingsIgnoredByFly(t *testing.T) {
	// A remote host without a registry matters only to the Compose backend.
	values := localValues("backend", "fly", "dockerHost", "ssh://deploy@docker.example.org", "appName", "emothe-dev", "image", imageA)
	_, err := infra.Backends.Load(stack.Raw{Stack: "dev", Values: values, Secrets: secretKeys})
	assert.NoError(t, err)
}

func TestComposeConfigAccepts(t *testing.T) {
	for name, values := range map[string]map[string]string{
		"local defaults":        localValues(),
		"local database port":   localValues("databasePort", "15432"),
		"remote with registry":  localValues("dockerHost", "ssh://deploy@203.0.113.7", "registry", "ghcr.io/acme/emothe", "registryUsername", "ci", "registryPassword", "tok"),
		"remote prebuilt image": localValues("dockerHost", "tcp://10.0.0.5:2376", "image", imageA),
		"production on a server": localValues("environment", "production", "domain", "emothe.example.org", "acmeEmail", "ops@example.org",
			"dockerHost", "ssh://deploy@203.0.113.7", "image", imageA, "protectDatabase", "true"),
		"external database":  localValues("databaseUrl", "postgresql://u:p@db.example.net:5432/emothe?sslmode=require"),
		"registry on a port": localValues("registry", "127.0.0.1:5000/emothe"),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := infra.Backends.Load(stack.Raw{Stack: "local", Values: values, Secrets: secretKeys})
			assert.NoError(t, err)
		})
	}
}
