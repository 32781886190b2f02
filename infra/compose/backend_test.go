package compose_test

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/infra"
	"github.com/emothe/emothe/infra/stack"
	"github.com/emothe/emothe/internal/pulumitest"
)

const (
	typeContainer   = "docker:index/container:Container"
	typeVolume      = "docker:index/volume:Volume"
	typeNetwork     = "docker:index/network:Network"
	typeRemoteImage = "docker:index/remoteImage:RemoteImage"
	typeImage       = "docker:index/image:Image"
	typeProvider    = "pulumi:providers:docker"
)

// newMocks records registrations and answers the outputs the program
// reads; migrateExit is the migration container's exit code.
func newMocks(migrateExit int) *pulumitest.Mocks {
	return &pulumitest.Mocks{Outputs: func(args pulumi.MockResourceArgs, out resource.PropertyMap) {
		switch args.TypeToken {
		case typeRemoteImage:
			out["imageId"] = resource.NewProperty(digestOf(args.Inputs["name"].StringValue()))
		case typeImage:
			out["repoDigest"] = resource.NewProperty(digestOf(args.Inputs["imageName"].StringValue()))
		case typeContainer:
			if !args.Inputs.HasValue("name") {
				out["name"] = resource.NewProperty(args.Name + "-1a2b3c4") // Pulumi's autonaming
			}
			exit := 0
			if strings.HasSuffix(args.Name, "-migrate") {
				exit = migrateExit
			}
			out["exitCode"] = resource.NewProperty(float64(exit))
		}
	}}
}

func digestOf(ref string) string {
	sum := sha256.Sum256([]byte(ref))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// deploy runs the whole program (infra.Run) for the compose backend.
func deploy(values map[string]string, m *pulumitest.Mocks) error {
	return m.Run(infra.Run, "local", values, secretKeys)
}

func deployed(t *testing.T, values map[string]string) *pulumitest.Mocks {
	t.Helper()
	m := newMocks(0)
	require.NoError(t, deploy(values, m))
	return m
}

func TestContainersRunImagesByDigest(t *testing.T) {
	m := deployed(t, localValues("image", "registry.example.org/emothe:v1"))
	containers := m.OfType(typeContainer)
	require.Len(t, containers, 6)
	for _, c := range containers {
		assert.Regexp(t, `^sha256:[0-9a-f]{64}$`, c.Inputs["image"].StringValue(), c.Name)
	}
	assert.Equal(t, digestOf("registry.example.org/emothe:v1"), m.Get(t, "emothe-local-app-1").Inputs["image"].StringValue())
	assert.Equal(t, digestOf("postgres:17"), m.Get(t, "emothe-local-db-1").Inputs["image"].StringValue())
	assert.Len(t, m.OfType(typeRemoteImage), 3, "app, postgres (db and backup share it) and proxy")
	for _, img := range m.OfType(typeRemoteImage) {
		assert.True(t, img.Inputs["keepLocally"].BoolValue(), "%s: other projects may use the image", img.Name)
	}
}

func TestSecretsAreMarkedSecret(t *testing.T) {
	m := deployed(t, localValues(
		"image", "registry.example.org/emothe:v1",
		"registry", "registry.example.org/emothe", "registryUsername", "ci", "registryPassword", "registry-token-77",
	))
	secrets := []string{goodKey, dbPassword, "registry-token-77"}
	for _, r := range m.Resources() {
		shown := pulumitest.Plain(resource.NewObjectProperty(r.Inputs))
		for _, s := range secrets {
			assert.NotContains(t, shown, s, "%s holds a secret outside a secret value", r.Name)
		}
	}
	secretVars := map[string]bool{"SECRET_KEY_BASE": true, "DATABASE_URL": true, "POSTGRES_PASSWORD": true}
	for _, name := range []string{"emothe-local-db-1", "emothe-local-migrate", "emothe-local-app-1", "emothe-local-backup-1"} {
		n := 0
		for _, e := range m.Get(t, name).Inputs["envs"].ArrayValue() {
			isSecret := e.IsSecret()
			if isSecret {
				e = e.SecretValue().Element
			}
			key, _, _ := strings.Cut(e.StringValue(), "=")
			assert.Equal(t, secretVars[key], isSecret, "%s: %s", name, key)
			if isSecret {
				n++
			}
		}
		assert.Positive(t, n, "%s: its env holds secrets", name)
	}
	env := strings.Join(pulumitest.Strings(m.Get(t, "emothe-local-app-1").Inputs["envs"]), "\n")
	assert.Contains(t, env, "SECRET_KEY_BASE="+goodKey)
	assert.Contains(t, env, "DATABASE_URL=postgres://emothe:"+dbPassword+"@emothe-local-db-1:5432/emothe?sslmode=disable")
	assert.Contains(t, env, "APP_HOST=localhost:8080")
	assert.Contains(t, strings.Join(pulumitest.Strings(m.Get(t, "emothe-local-db-1").Inputs["envs"]), "\n"), "POSTGRES_PASSWORD="+dbPassword)
	assert.NotContains(t, pulumitest.Plain(m.Get(t, "emothe-local-proxy-1").Inputs["envs"]), "[secret]", "the proxy gets no secret")
}

func TestContainerGraphShape(t *testing.T) {
	m := deployed(t, localValues("image", "registry.example.org/emothe:v1"))

	for _, name := range []string{"emothe-local-app-1", "emothe-local-app-2"} {
		app := m.Get(t, name)
		hc := app.Inputs["healthcheck"].ObjectValue()
		assert.Equal(t, []string{"CMD", "/emothe", "healthcheck"}, pulumitest.Strings(hc["tests"]), name)
		assert.True(t, app.Inputs["wait"].BoolValue(), "%s: a rollout waits until the new replica is healthy", name)
		nets := app.Inputs["networksAdvanced"].ArrayValue()
		require.Len(t, nets, 1)
		assert.Equal(t, "emothe-local_private", nets[0].ObjectValue()["name"].StringValue())
		assert.Equal(t, []string{"app"}, pulumitest.Strings(nets[0].ObjectValue()["aliases"]))
		assert.Empty(t, app.Inputs["ports"].ArrayValue(), "%s: no host ports on app containers", name)
		assert.False(t, app.Inputs.HasValue("name"), "%s: autonamed, so old and new run side by side", name)
		assert.Equal(t, 256.0, app.Inputs["memory"].NumberValue())
		assert.Equal(t, "1.0", app.Inputs["cpus"].StringValue(), "as the provider reads it back")
		assert.Equal(t, 256.0, app.Inputs["memorySwap"].NumberValue(), "no swap, said explicitly")
		assert.Equal(t, "unless-stopped", app.Inputs["restart"].StringValue())
		labels := map[string]string{}
		for _, l := range app.Inputs["labels"].ArrayValue() {
			labels[l.ObjectValue()["label"].StringValue()] = l.ObjectValue()["value"].StringValue()
		}
		assert.Equal(t, "emothe-local", labels["com.docker.compose.project"])
		assert.Equal(t, "app", labels["com.docker.compose.service"])
	}
	for _, name := range []string{"emothe-local-db-1", "emothe-local-proxy-1", "emothe-local-backup-1"} {
		assert.True(t, m.Get(t, name).Inputs["wait"].BoolValue(), "%s: the deployment waits until it is healthy", name)
	}
	db := m.Get(t, "emothe-local-db-1")
	assert.Equal(t, "emothe-local-db-1", db.Inputs["name"].StringValue())
	assert.Contains(t, pulumitest.Strings(db.Inputs["healthcheck"].ObjectValue()["tests"]), "pg_isready")
	assert.Empty(t, db.Inputs["ports"].ArrayValue(), "no database port outside the private network")

	net := m.Get(t, "emothe-local_private")
	assert.True(t, net.Inputs["internal"].BoolValue())

	prov := m.Get(t, "emothe-local-docker")
	assert.Equal(t, "unix:///var/run/docker.sock", prov.Inputs["host"].StringValue())

	migrate := m.Get(t, "emothe-local-migrate")
	assert.True(t, migrate.Inputs["attach"].BoolValue(), "the migration runs to completion during the deploy")
	assert.False(t, migrate.Inputs["mustRun"].BoolValue())
	assert.Equal(t, []string{"migrate"}, pulumitest.Strings(migrate.Inputs["command"]))
}

func TestDatabasePortIsLoopbackOnly(t *testing.T) {
	m := deployed(t, localValues("databasePort", "15432"))
	ports := m.Get(t, "emothe-local-db-1").Inputs["ports"].ArrayValue()
	require.Len(t, ports, 1)
	p := ports[0].ObjectValue()
	assert.Equal(t, "127.0.0.1", p["ip"].StringValue())
	assert.Equal(t, 15432.0, p["external"].NumberValue())
	assert.Equal(t, 5432.0, p["internal"].NumberValue())
}

func TestOrdering(t *testing.T) {
	m := deployed(t, localValues())
	migrate := m.Get(t, "emothe-local-migrate")
	assert.True(t, migrate.DependsOn("emothe-local-db-1"), "migrations wait for the database")
	for _, name := range []string{"emothe-local-app-1", "emothe-local-app-2"} {
		app := m.Get(t, name)
		assert.True(t, app.DependsOn("emothe-local-migrate"), "%s starts after the migration", name)
		require.NotNil(t, app.DeleteBeforeReplace, name)
		assert.False(t, *app.DeleteBeforeReplace, "%s: create before delete, overriding the provider's default", name)
	}
	proxy := m.Get(t, "emothe-local-proxy-1")
	for _, dep := range proxy.Deps {
		assert.NotContains(t, dep, "-app-", "the proxy must not depend on the app containers")
		assert.NotContains(t, dep, "-migrate", "the proxy must not depend on the release")
	}
	db := m.Get(t, "emothe-local-db-1")
	require.NotNil(t, db.DeleteBeforeReplace)
	assert.True(t, *db.DeleteBeforeReplace, "one Postgres on its volume at a time")
	assert.True(t, db.DependsOn("emothe-local_pgdata"))
}

func TestFailedMigrationStopsTheUpdate(t *testing.T) {
	m := newMocks(3)
	err := deploy(localValues("image", "registry.example.org/emothe:v2"), m)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "exited with code 3")
	assert.Contains(t, err.Error(), "left on its previous image")
	assert.Contains(t, err.Error(), "pulumi up --replace")
	for _, c := range m.OfType(typeContainer) {
		assert.NotContains(t, c.Name, "-app-", "no app container may be registered after a failed migration")
	}
}

// An image update changes the inputs of the release containers only; the
// database, its volume, the proxy and the backups are registered exactly as
// before, so the engine leaves them alone.
func TestImageUpdateTouchesOnlyTheRelease(t *testing.T) {
	before := deployed(t, localValues("image", "registry.example.org/emothe:v1"))
	after := deployed(t, localValues("image", "registry.example.org/emothe:v2"))
	require.Equal(t, len(before.Resources()), len(after.Resources()))
	changed := map[string]bool{}
	for _, old := range before.Resources() {
		updated := after.Get(t, old.Name)
		if !old.Inputs.DeepEquals(updated.Inputs) {
			changed[old.Name] = true
		}
	}
	assert.Equal(t, map[string]bool{
		"emothe-local-app-image": true, "emothe-local-migrate": true,
		"emothe-local-app-1": true, "emothe-local-app-2": true,
	}, changed)
	for _, name := range []string{"emothe-local-app-1", "emothe-local-app-2"} {
		assert.NotEqual(t, before.Get(t, name).Inputs["image"], after.Get(t, name).Inputs["image"])
		assert.False(t, *after.Get(t, name).DeleteBeforeReplace)
	}
}

func TestVolumesFollowProtectDatabase(t *testing.T) {
	for _, protect := range []bool{false, true} {
		m := deployed(t, localValues("protectDatabase", map[bool]string{false: "false", true: "true"}[protect]))
		for _, name := range []string{"emothe-local_pgdata", "emothe-local_backups"} {
			v := m.Get(t, name)
			assert.Equal(t, protect, v.RetainOnDelete, name)
			assert.False(t, v.Protect, "%s: not protected, so destroy removes everything else and keeps it", name)
		}
		assert.False(t, m.Get(t, "emothe-local_proxy-data").RetainOnDelete)
	}
}

func TestBuildOnRemoteHostPushesToRegistry(t *testing.T) {
	m := deployed(t, localValues(
		"dockerHost", "ssh://deploy@docker.example.org",
		"registry", "registry.example.org/acme/emothe", "registryUsername", "ci", "registryPassword", "registry-token-77",
	))
	img := m.Get(t, "emothe-local-image")
	assert.Equal(t, "registry.example.org/acme/emothe:local", img.Inputs["imageName"].StringValue())
	assert.False(t, img.Inputs["skipPush"].BoolValue())
	build := img.Inputs["build"].ObjectValue()
	assert.Equal(t, ".", build["context"].StringValue())
	assert.Equal(t, "Dockerfile", build["dockerfile"].StringValue())
	assert.Equal(t, "linux/amd64", build["platform"].StringValue())
	reg := img.Inputs["registry"].ObjectValue()
	assert.Equal(t, "registry.example.org", reg["server"].StringValue())
	assert.Equal(t, "ci", reg["username"].StringValue())
	assert.True(t, reg["password"].IsSecret())

	prov := m.Get(t, "emothe-local-docker")
	assert.Equal(t, "ssh://deploy@docker.example.org", prov.Inputs["host"].StringValue())
	assert.Contains(t, pulumitest.Plain(prov.Inputs["registryAuth"]), "[secret]")
	assert.Equal(t, digestOf("registry.example.org/acme/emothe:local"), m.Get(t, "emothe-local-app-1").Inputs["image"].StringValue(),
		"the app runs the pushed digest")
}

func TestLocalBuildIsNotPushed(t *testing.T) {
	m := deployed(t, localValues())
	img := m.Get(t, "emothe-local-image")
	assert.Equal(t, "emothe-local:local", img.Inputs["imageName"].StringValue())
	assert.True(t, img.Inputs["skipPush"].BoolValue())
	assert.False(t, img.Inputs.HasValue("registry"))
}

func TestExternalDatabaseRunsNoPostgres(t *testing.T) {
	url := "postgres://emothe:ext-pass-9@db.example.net:5432/emothe?sslmode=require"
	m := deployed(t, localValues("databaseUrl", url))
	assert.False(t, m.Has("emothe-local-db-1"))
	env := strings.Join(pulumitest.Strings(m.Get(t, "emothe-local-app-1").Inputs["envs"]), "\n")
	assert.Contains(t, env, "DATABASE_URL="+url)
	assert.NotContains(t, pulumitest.Plain(resource.NewObjectProperty(m.Get(t, "emothe-local-app-1").Inputs)), "ext-pass-9")
}

func TestMissingDatabasePasswordRegistersNoContainer(t *testing.T) {
	values := localValues()
	delete(values, "databasePassword")
	m := newMocks(0)
	err := deploy(values, m)
	var ce *stack.ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Contains(t, err.Error(), "pulumi config set --secret emothe:databasePassword <value> --stack local")
	assert.Empty(t, m.OfType(typeContainer))
	assert.Empty(t, m.OfType(typeProvider))
}

// Switching backends keeps the outputs' shape: Deploy returns them whole.
func TestOutputs(t *testing.T) {
	var url, host, backend string
	read := make(chan struct{})
	err := newMocks(0).Run(func(ctx *pulumi.Context) error {
		st, err := infra.Backends.FromContext(ctx)
		if err != nil {
			return err
		}
		out, err := infra.Deploy(ctx, st)
		if err != nil {
			return err
		}
		pulumi.All(out.URL, out.DatabaseHost, out.Backend).ApplyT(func(a []any) error {
			url, host, backend = a[0].(string), a[1].(string), a[2].(string)
			close(read)
			return nil
		})
		return nil
	}, "local", localValues(), secretKeys)
	require.NoError(t, err)
	select {
	case <-read:
	case <-time.After(10 * time.Second):
		t.Fatal("the outputs never resolved")
	}
	assert.Equal(t, "http://localhost:8080", url)
	assert.Equal(t, "emothe-local-db-1", host)
	assert.Equal(t, "compose", backend)
}
