package compose_test

import (
	"fmt"
	"maps"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/emothe/emothe/contract"
	"github.com/emothe/emothe/infra/compose"
	"github.com/emothe/emothe/infra/postgres"
	"github.com/emothe/emothe/infra/stack"
)

const (
	goodKey    = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	dbPassword = "db-pass-4f9a71c2"
	imageA     = "registry.example.org/emothe@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	imageB     = "registry.example.org/emothe@sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

// localValues is the local stack's configuration, secrets included.
func localValues(kv ...string) map[string]string {
	v := map[string]string{
		"backend": "compose", "appName": "emothe-local", "logLevel": "debug",
		"secretKeyBase": goodKey, "databasePassword": dbPassword,
	}
	for i := 0; i < len(kv); i += 2 {
		v[kv[i]] = kv[i+1]
	}
	return v
}

var secretKeys = map[string]bool{"secretKeyBase": true, "databasePassword": true, "databaseUrl": true, "registryPassword": true}

func load(t *testing.T, values map[string]string) compose.Config {
	t.Helper()
	cfg, err := compose.Load(stack.Raw{Stack: "local", Values: values, Secrets: secretKeys})
	require.NoError(t, err)
	return cfg
}

func byName(t *testing.T, s compose.Spec, name string) compose.Container {
	t.Helper()
	for _, c := range s.Containers {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no container %s in the spec", name)
	return compose.Container{}
}

func TestPlanLocalStack(t *testing.T) {
	s := compose.Plan(load(t, localValues()), imageA)

	var names []string
	for _, c := range s.Containers {
		names = append(names, c.Name)
		assert.Equal(t, "emothe-local", c.Labels["com.docker.compose.project"], c.Name)
		assert.Equal(t, c.Service, c.Labels["com.docker.compose.service"], c.Name)
		assert.Equal(t, "False", c.Labels["com.docker.compose.oneoff"], c.Name)
		assert.Equal(t, c.Release, c.Image == imageA, "%s: only migrate and app run the release image", c.Name)
		if c.Run == compose.Service {
			require.NotNil(t, c.Health, "%s has no healthcheck", c.Name)
			assert.Equal(t, "unless-stopped", c.Restart, c.Name)
		}
	}
	assert.Equal(t, []string{
		"emothe-local-db-1", "emothe-local-migrate", "emothe-local-app-1", "emothe-local-app-2",
		"emothe-local-proxy-1", "emothe-local-backup-1",
	}, names)

	assert.Equal(t, []compose.Network{
		{Name: "emothe-local_private", Internal: true, Labels: map[string]string{"com.docker.compose.project": "emothe-local", "com.docker.compose.network": "private"}},
		{Name: "emothe-local_edge", Labels: map[string]string{"com.docker.compose.project": "emothe-local", "com.docker.compose.network": "edge"}},
	}, s.Networks)
	var volumes []string
	for _, v := range s.Volumes {
		volumes = append(volumes, v.Name)
		assert.False(t, v.Keep, "%s: a development stack does not protect its volumes", v.Name)
	}
	assert.Equal(t, []string{"emothe-local_pgdata", "emothe-local_backups", "emothe-local_proxy-data"}, volumes)

	db := byName(t, s, "emothe-local-db-1")
	assert.Equal(t, "postgres:17", db.Image, "the official image of emothe:postgresVersion")
	assert.Equal(t, []string{postgres.EnvPassword}, db.Secrets)
	assert.Equal(t, []compose.Attachment{{Network: "emothe-local_private", Aliases: []string{"db"}}}, db.Networks)
	assert.Equal(t, []compose.Mount{{Volume: "emothe-local_pgdata", Target: "/var/lib/postgresql/data"}}, db.Mounts)
	assert.Empty(t, db.Ports, "no database port is published unless emothe:databasePort asks")
	assert.Equal(t, compose.Recreate, db.Rollout)

	migrate := byName(t, s, "emothe-local-migrate")
	assert.Equal(t, compose.Task, migrate.Run)
	assert.Equal(t, []string{"migrate"}, migrate.Command)
	assert.Equal(t, []string{"db"}, migrate.After)

	for _, app := range s.Service("app") {
		assert.Equal(t, []string{"CMD", "/emothe", "healthcheck"}, app.Health.Test)
		assert.Equal(t, []string{"migrate"}, app.After, "migrations run before the app")
		assert.Equal(t, compose.StartFirst, app.Rollout)
		assert.Empty(t, app.Ports, "app containers are reached through the proxy only")
		assert.Equal(t, []compose.Attachment{{Network: "emothe-local_private", Aliases: []string{"app"}}}, app.Networks)
		assert.Equal(t, "localhost:8080", app.Env["APP_HOST"])
		assert.Equal(t, "debug", app.Env["LOG_LEVEL"])
		assert.ElementsMatch(t, []string{contract.EnvDatabaseURL, contract.EnvSecretKeyBase}, app.Secrets)
		assert.Equal(t, 256, app.MemoryMB)
		assert.Equal(t, 1, app.CPUs)
		assert.Greater(t, app.StopGrace.Seconds(), 25.0, "the stop outlasts the app's 25s drain")
	}

	proxy := byName(t, s, "emothe-local-proxy-1")
	assert.Empty(t, proxy.After, "the proxy waits for nothing, so app updates leave it running")
	assert.Equal(t, []compose.Port{{HostIP: "127.0.0.1", Host: 8080, Container: 80}}, proxy.Ports)
	require.Len(t, proxy.Files, 1)
	conf := proxy.Files[0].Content
	for _, want := range []string{"auto_https off", ":80 {", "dynamic a", "name app", "port 8080", "lb_try_duration"} {
		assert.Contains(t, conf, want)
	}

	backup := byName(t, s, "emothe-local-backup-1")
	assert.Equal(t, db.Image, backup.Image, "pg_dump matches the server's major version")
	assert.Equal(t, "7", backup.Env["BACKUP_RETENTION_DAYS"])
	assert.Equal(t, []compose.Mount{{Volume: "emothe-local_backups", Target: "/backups"}}, backup.Mounts)

	assert.Equal(t, "http://localhost:8080", s.URL)
	assert.Equal(t, "emothe-local-db-1", s.DatabaseHost)
	assert.Empty(t, s.DNSRecords)
}

// A published database port is bound to loopback only, and the loader
// refuses one anywhere but a development stack on the local engine.
func TestPlanPublishesTheDatabaseOnLoopbackOnly(t *testing.T) {
	s := compose.Plan(load(t, localValues("databasePort", "15432")), imageA)
	db := byName(t, s, "emothe-local-db-1")
	assert.Equal(t, []compose.Port{{HostIP: "127.0.0.1", Host: 15432, Container: 5432}}, db.Ports)
	assert.Equal(t, "emothe-local_edge", db.Networks[len(db.Networks)-1].Network,
		"publishing needs a routed network: the private one is internal")

	for _, bad := range []map[string]string{
		localValues("databasePort", "15432", "dockerHost", "ssh://deploy@203.0.113.7", "image", imageA),
		localValues("databasePort", "15432", "environment", "production", "domain", "emothe.example.org", "acmeEmail", "ops@example.org"),
	} {
		_, err := compose.Load(stack.Raw{Stack: "local", Values: bad, Secrets: secretKeys})
		require.Error(t, err)
		assert.Contains(t, err.Error(), `emothe:databasePort = "15432"`)
	}
}

func TestPlanDomainServesHTTPS(t *testing.T) {
	s := compose.Plan(load(t, localValues(
		"environment", "production", "domain", "emothe.example.org", "acmeEmail", "ops@example.org",
		"dockerHost", "ssh://deploy@203.0.113.7", "image", imageA,
	)), imageA)
	proxy := byName(t, s, "emothe-local-proxy-1")
	assert.Equal(t, []compose.Port{{Host: 80, Container: 80}, {Host: 443, Container: 443}}, proxy.Ports)
	conf := proxy.Files[0].Content
	assert.Contains(t, conf, "email ops@example.org")
	assert.Contains(t, conf, "emothe.example.org {")
	assert.NotContains(t, conf, "auto_https off")
	assert.Equal(t, "https://emothe.example.org", s.URL)
	assert.Equal(t, []string{"emothe.example.org A 203.0.113.7"}, s.DNSRecords)
	for _, app := range s.Service("app") {
		assert.Equal(t, "emothe.example.org", app.Env["APP_HOST"])
	}
	for _, v := range s.Volumes {
		// Certificates are re-issued; the data and its backups are not.
		assert.Equal(t, v.Name != "emothe-local_proxy-data", v.Keep, "%s: production keeps its data volumes", v.Name)
	}
}

func TestPlanExternalDatabase(t *testing.T) {
	url := "postgres://emothe:s3cret@db.example.net:5432/emothe?sslmode=require"
	s := compose.Plan(load(t, localValues("databaseUrl", url)), imageA)
	assert.Empty(t, s.Service("db"), "no Postgres container with an external database")
	for _, v := range s.Volumes {
		assert.NotEqual(t, "emothe-local_pgdata", v.Name)
	}
	assert.False(t, s.Networks[0].Internal, "the app must reach the external database")
	assert.Equal(t, "db.example.net", s.DatabaseHost)
	assert.Empty(t, byName(t, s, "emothe-local-migrate").After)
	assert.Empty(t, byName(t, s, "emothe-local-backup-1").After)
	assert.NotContains(t, fmt.Sprintf("%#v", s), "s3cret")
}

// An image update changes the release containers and nothing else: the
// database, its volume and the proxy plan identically.
func TestPlanImageUpdateChangesOnlyTheRelease(t *testing.T) {
	cfg := load(t, localValues())
	a, b := compose.Plan(cfg, imageA), compose.Plan(cfg, imageB)
	assert.Equal(t, a.Networks, b.Networks)
	assert.Equal(t, a.Volumes, b.Volumes)
	require.Len(t, b.Containers, len(a.Containers))
	for i, old := range a.Containers {
		updated := b.Containers[i]
		if !old.Release {
			assert.True(t, reflect.DeepEqual(old, updated), "%s changed with the image", old.Name)
			continue
		}
		assert.Equal(t, imageB, updated.Image)
		assert.Equal(t, compose.StartFirst, updated.Rollout, "%s must start before the old one stops", old.Name)
		const hash = "com.docker.compose.config-hash"
		assert.NotEqual(t, old.Labels[hash], updated.Labels[hash], "%s: the config hash follows the image", old.Name)
		old.Image = updated.Image
		old.Labels = maps.Clone(old.Labels)
		old.Labels[hash] = updated.Labels[hash]
		assert.True(t, reflect.DeepEqual(old, updated), "%s changed beyond its image", old.Name)
	}
}

func TestPlanHoldsNoSecret(t *testing.T) {
	s := compose.Plan(load(t, localValues()), imageA)
	dump := fmt.Sprintf("%#v", s)
	assert.NotContains(t, dump, goodKey)
	assert.NotContains(t, dump, dbPassword)
	url := s.DatabaseURL("p@ss/word")
	assert.Equal(t, "postgres://emothe:p%40ss%2Fword@emothe-local-db-1:5432/emothe?sslmode=disable", url)
	assert.True(t, strings.HasPrefix(url, "postgres://emothe:"))
}

// stacks/local.yaml, the stack behind `make up`, is a valid Compose stack
// on the local engine, served on localhost.
func TestLocalStackFile(t *testing.T) {
	b, err := os.ReadFile("../../stacks/local.yaml")
	require.NoError(t, err)
	var f struct {
		Config map[string]any `yaml:"config"`
	}
	require.NoError(t, yaml.Unmarshal(b, &f))
	values := map[string]string{"secretKeyBase": goodKey, "databasePassword": dbPassword}
	for k, v := range f.Config {
		_, isSecret := v.(map[string]any)
		require.False(t, isSecret, "%s: no secret may be committed", k)
		values[strings.TrimPrefix(k, stack.Namespace+":")] = fmt.Sprint(v)
	}
	cfg := load(t, values)
	assert.Equal(t, "compose", cfg.Backend)
	assert.True(t, cfg.LocalEngine())
	s := compose.Plan(cfg, imageA)
	assert.Equal(t, "http://localhost:8080", s.URL)
	for _, c := range s.Containers {
		for _, p := range c.Ports {
			assert.Equal(t, "127.0.0.1", p.HostIP, "%s publishes beyond loopback", c.Name)
		}
	}
}
