package compose_test

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/infra"
	"github.com/emothe/emothe/infra/stack"
)

const (
	typeContainer   = "docker:index/container:Container"
	typeVolume      = "docker:index/volume:Volume"
	typeNetwork     = "docker:index/network:Network"
	typeRemoteImage = "docker:index/remoteImage:RemoteImage"
	typeImage       = "docker:index/image:Image"
	typeProvider    = "pulumi:providers:docker"
)

// registered is one resource as the program registered it.
type registered struct {
	Type, Name string
	Inputs     resource.PropertyMap
	Deps       []string // URNs
	// DeleteBeforeReplace is nil when the program left it to the provider.
	DeleteBeforeReplace  *bool
	Protect, RetainOnDel bool
}

// mocks records registrations and answers the outputs the program reads.
type mocks struct {
	mu  sync.Mutex
	got map[string]registered // by name
	// migrateExit is the migration container's exit code.
	migrateExit int
}

func (m *mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	rpc := args.RegisterRPC
	r := registered{Type: args.TypeToken, Name: args.Name, Inputs: args.Inputs, Deps: rpc.GetDependencies(),
		Protect: rpc.GetProtect(), RetainOnDel: rpc.GetRetainOnDelete()}
	if rpc.GetDeleteBeforeReplaceDefined() {
		v := rpc.GetDeleteBeforeReplace()
		r.DeleteBeforeReplace = &v
	}
	m.mu.Lock()
	m.got[args.Name] = r
	m.mu.Unlock()

	out := args.Inputs.Copy()
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
			exit = m.migrateExit
		}
		out["exitCode"] = resource.NewProperty(float64(exit))
	}
	return args.Name + "-id", out, nil
}

func (m *mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) { return args.Args, nil }

func digestOf(ref string) string {
	sum := sha256.Sum256([]byte(ref))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// deploy runs the whole program (infra.Run) for the compose backend.
func deploy(t *testing.T, values map[string]string, m *mocks) error {
	t.Helper()
	if m.got == nil {
		m.got = map[string]registered{}
	}
	return pulumi.RunErr(infra.Run, pulumi.WithMocks(stack.Namespace, "local", m), func(info *pulumi.RunInfo) {
		info.Config = map[string]string{}
		for k, v := range values {
			info.Config[stack.Namespace+":"+k] = v
			if secretKeys[k] {
				info.ConfigSecretKeys = append(info.ConfigSecretKeys, stack.Namespace+":"+k)
			}
		}
	})
}

func deployed(t *testing.T, values map[string]string) *mocks {
	t.Helper()
	m := &mocks{}
	require.NoError(t, deploy(t, values, m))
	return m
}

func (m *mocks) get(t *testing.T, name string) registered {
	t.Helper()
	r, ok := m.got[name]
	require.True(t, ok, "%s was not registered", name)
	return r
}

func (m *mocks) ofType(typ string) []registered {
	var out []registered
	for _, r := range m.got {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

func (r registered) dependsOn(name string) bool {
	for _, urn := range r.Deps {
		if strings.HasSuffix(urn, "::"+name) {
			return true
		}
	}
	return false
}

// plain is the inputs with every secret's value removed, for checking that
// a secret appears nowhere else.
func plain(v resource.PropertyValue) string {
	switch {
	case v.IsSecret():
		return "[secret]"
	case v.IsArray():
		var parts []string
		for _, e := range v.ArrayValue() {
			parts = append(parts, plain(e))
		}
		return "[" + strings.Join(parts, " ") + "]"
	case v.IsObject():
		var parts []string
		for k, e := range v.ObjectValue() {
			parts = append(parts, string(k)+":"+plain(e))
		}
		return "{" + strings.Join(parts, " ") + "}"
	case v.IsOutput():
		return plain(v.OutputValue().Element)
	default:
		return v.String()
	}
}

func strs(v resource.PropertyValue) []string {
	if v.IsSecret() {
		v = v.SecretValue().Element
	}
	var out []string
	for _, e := range v.ArrayValue() {
		if e.IsSecret() {
			e = e.SecretValue().Element
		}
		out = append(out, e.StringValue())
	}
	return out
}

func TestContainersRunImagesByDigest(t *testing.T) {
	m := deployed(t, localValues("image", "registry.example.org/emothe:v1"))
	containers := m.ofType(typeContainer)
	require.Len(t, containers, 6)
	for _, c := range containers {
		assert.Regexp(t, `^sha256:[0-9a-f]{64}$`, c.Inputs["image"].StringValue(), c.Name)
	}
	assert.Equal(t, digestOf("registry.example.org/emothe:v1"), m.get(t, "emothe-local-app-1").Inputs["image"].StringValue())
	assert.Equal(t, digestOf("postgres:17"), m.get(t, "emothe-local-db-1").Inputs["image"].StringValue())
	assert.Len(t, m.ofType(typeRemoteImage), 3, "app, postgres (db and backup share it) and proxy")
	for _, img := range m.ofType(typeRemoteImage) {
		assert.True(t, img.Inputs["keepLocally"].BoolValue(), "%s: other projects may use the image", img.Name)
	}
}

func TestSecretsAreMarkedSecret(t *testing.T) {
	m := deployed(t, localValues(
		"image", "registry.example.org/emothe:v1",
		"registry", "registry.example.org/emothe", "registryUsername", "ci", "registryPassword", "registry-token-77",
	))
	secrets := []string{goodKey, dbPassword, "registry-token-77"}
	for name, r := range m.got {
		shown := plain(resource.NewObjectProperty(r.Inputs))
		for _, s := range secrets {
			assert.NotContains(t, shown, s, "%s holds a secret outside a secret value", name)
		}
	}
	secretVars := map[string]bool{"SECRET_KEY_BASE": true, "DATABASE_URL": true, "POSTGRES_PASSWORD": true}
	for _, name := range []string{"emothe-local-db-1", "emothe-local-migrate", "emothe-local-app-1", "emothe-local-backup-1"} {
		n := 0
		for _, e := range m.get(t, name).Inputs["envs"].ArrayValue() {
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
	env := strings.Join(strs(m.get(t, "emothe-local-app-1").Inputs["envs"]), "\n")
	assert.Contains(t, env, "SECRET_KEY_BASE="+goodKey)
	assert.Contains(t, env, "DATABASE_URL=postgres://emothe:"+dbPassword+"@emothe-local-db-1:5432/emothe?sslmode=disable")
	assert.Contains(t, env, "APP_HOST=localhost:8080")
	assert.Contains(t, strings.Join(strs(m.get(t, "emothe-local-db-1").Inputs["envs"]), "\n"), "POSTGRES_PASSWORD="+dbPassword)
	assert.NotContains(t, plain(m.get(t, "emothe-local-proxy-1").Inputs["envs"]), "[secret]", "the proxy gets no secret")
}

func TestContainerGraphShape(t *testing.T) {
	m := deployed(t, localValues("image", "registry.example.org/emothe:v1"))

	for _, name := range []string{"emothe-local-app-1", "emothe-local-app-2"} {
		app := m.get(t, name)
		hc := app.Inputs["healthcheck"].ObjectValue()
		assert.Equal(t, []string{"CMD", "/emothe", "healthcheck"}, strs(hc["tests"]), name)
		assert.True(t, app.Inputs["wait"].BoolValue(), "%s: a rollout waits until the new replica is healthy", name)
		nets := app.Inputs["networksAdvanced"].ArrayValue()
		require.Len(t, nets, 1)
		assert.Equal(t, "emothe-local_private", nets[0].ObjectValue()["name"].StringValue())
		assert.Equal(t, []string{"app"}, strs(nets[0].ObjectValue()["aliases"]))
		assert.Empty(t, app.Inputs["ports"].ArrayValue(), "%s: no host ports on app containers", name)
		assert.False(t, app.Inputs.HasValue("name"), "%s: autonamed, so old and new run side by side", name)
		assert.Equal(t, 256.0, app.Inputs["memory"].NumberValue())
		assert.Equal(t, "1", app.Inputs["cpus"].StringValue())
		assert.Equal(t, "unless-stopped", app.Inputs["restart"].StringValue())
		labels := map[string]string{}
		for _, l := range app.Inputs["labels"].ArrayValue() {
			labels[l.ObjectValue()["label"].StringValue()] = l.ObjectValue()["value"].StringValue()
		}
		assert.Equal(t, "emothe-local", labels["com.docker.compose.project"])
		assert.Equal(t, "app", labels["com.docker.compose.service"])
	}
	for _, name := range []string{"emothe-local-db-1", "emothe-local-proxy-1", "emothe-local-backup-1"} {
		assert.True(t, m.get(t, name).Inputs["wait"].BoolValue(), "%s: the deployment waits until it is healthy", name)
	}
	db := m.get(t, "emothe-local-db-1")
	assert.Equal(t, "emothe-local-db-1", db.Inputs["name"].StringValue())
	assert.Contains(t, strs(db.Inputs["healthcheck"].ObjectValue()["tests"]), "pg_isready")
	assert.Empty(t, db.Inputs["ports"].ArrayValue(), "no database port outside the private network")

	net := m.get(t, "emothe-local_private")
	assert.True(t, net.Inputs["internal"].BoolValue())

	prov := m.get(t, "emothe-local-docker")
	assert.Equal(t, "unix:///var/run/docker.sock", prov.Inputs["host"].StringValue())

	migrate := m.get(t, "emothe-local-migrate")
	assert.True(t, migrate.Inputs["attach"].BoolValue(), "the migration runs to completion during the deploy")
	assert.False(t, migrate.Inputs["mustRun"].BoolValue())
	assert.Equal(t, []string{"migrate"}, strs(migrate.Inputs["command"]))
}

func TestDatabasePortIsLoopbackOnly(t *testing.T) {
	m := deployed(t, localValues("databasePort", "15432"))
	ports := m.get(t, "emothe-local-db-1").Inputs["ports"].ArrayValue()
	require.Len(t, ports, 1)
	p := ports[0].ObjectValue()
	assert.Equal(t, "127.0.0.1", p["ip"].StringValue())
	assert.Equal(t, 15432.0, p["external"].NumberValue())
	assert.Equal(t, 5432.0, p["internal"].NumberValue())
}

func TestOrdering(t *testing.T) {
	m := deployed(t, localValues())
	migrate := m.get(t, "emothe-local-migrate")
	assert.True(t, migrate.dependsOn("emothe-local-db-1"), "migrations wait for the database")
	for _, name := range []string{"emothe-local-app-1", "emothe-local-app-2"} {
		app := m.get(t, name)
		assert.True(t, app.dependsOn("emothe-local-migrate"), "%s starts after the migration", name)
		require.NotNil(t, app.DeleteBeforeReplace, name)
		assert.False(t, *app.DeleteBeforeReplace, "%s: create before delete, overriding the provider's default", name)
	}
	proxy := m.get(t, "emothe-local-proxy-1")
	for _, dep := range proxy.Deps {
		assert.NotContains(t, dep, "-app-", "the proxy must not depend on the app containers")
		assert.NotContains(t, dep, "-migrate", "the proxy must not depend on the release")
	}
	db := m.get(t, "emothe-local-db-1")
	require.NotNil(t, db.DeleteBeforeReplace)
	assert.True(t, *db.DeleteBeforeReplace, "one Postgres on its volume at a time")
	assert.True(t, db.dependsOn("emothe-local_pgdata"))
}

func TestFailedMigrationStopsTheUpdate(t *testing.T) {
	m := &mocks{migrateExit: 3}
	err := deploy(t, localValues("image", "registry.example.org/emothe:v2"), m)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "exited with code 3")
	assert.Contains(t, err.Error(), "left on its previous image")
	assert.Contains(t, err.Error(), "pulumi up --replace")
	for _, c := range m.ofType(typeContainer) {
		assert.NotContains(t, c.Name, "-app-", "no app container may be registered after a failed migration")
	}
}

// An image update changes the inputs of the release containers only; the
// database, its volume, the proxy and the backups are registered exactly as
// before, so the engine leaves them alone.
func TestImageUpdateTouchesOnlyTheRelease(t *testing.T) {
	before := deployed(t, localValues("image", "registry.example.org/emothe:v1"))
	after := deployed(t, localValues("image", "registry.example.org/emothe:v2"))
	require.Equal(t, len(before.got), len(after.got))
	changed := map[string]bool{}
	for name, old := range before.got {
		updated := after.get(t, name)
		if !old.Inputs.DeepEquals(updated.Inputs) {
			changed[name] = true
		}
	}
	assert.Equal(t, map[string]bool{
		"emothe-local-app-image": true, "emothe-local-migrate": true,
		"emothe-local-app-1": true, "emothe-local-app-2": true,
	}, changed)
	for _, name := range []string{"emothe-local-app-1", "emothe-local-app-2"} {
		assert.NotEqual(t, before.get(t, name).Inputs["image"], after.get(t, name).Inputs["image"])
		assert.False(t, *after.get(t, name).DeleteBeforeReplace)
	}
}

func TestVolumesFollowProtectDatabase(t *testing.T) {
	for _, protect := range []bool{false, true} {
		m := deployed(t, localValues("protectDatabase", map[bool]string{false: "false", true: "true"}[protect]))
		for _, name := range []string{"emothe-local_pgdata", "emothe-local_backups"} {
			v := m.get(t, name)
			assert.Equal(t, protect, v.Protect, name)
			assert.Equal(t, protect, v.RetainOnDel, name)
		}
		assert.False(t, m.get(t, "emothe-local_proxy-data").Protect)
	}
}

func TestBuildOnRemoteHostPushesToRegistry(t *testing.T) {
	m := deployed(t, localValues(
		"dockerHost", "ssh://deploy@docker.example.org",
		"registry", "registry.example.org/acme/emothe", "registryUsername", "ci", "registryPassword", "registry-token-77",
	))
	img := m.get(t, "emothe-local-image")
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

	prov := m.get(t, "emothe-local-docker")
	assert.Equal(t, "ssh://deploy@docker.example.org", prov.Inputs["host"].StringValue())
	assert.Contains(t, plain(prov.Inputs["registryAuth"]), "[secret]")
	assert.Equal(t, digestOf("registry.example.org/acme/emothe:local"), m.get(t, "emothe-local-app-1").Inputs["image"].StringValue(),
		"the app runs the pushed digest")
}

func TestLocalBuildIsNotPushed(t *testing.T) {
	m := deployed(t, localValues())
	img := m.get(t, "emothe-local-image")
	assert.Equal(t, "emothe-local:local", img.Inputs["imageName"].StringValue())
	assert.True(t, img.Inputs["skipPush"].BoolValue())
	assert.False(t, img.Inputs.HasValue("registry"))
}

func TestExternalDatabaseRunsNoPostgres(t *testing.T) {
	url := "postgres://emothe:ext-pass-9@db.example.net:5432/emothe?sslmode=require"
	m := deployed(t, localValues("databaseUrl", url))
	_, hasDB := m.got["emothe-local-db-1"]
	assert.False(t, hasDB)
	env := strings.Join(strs(m.get(t, "emothe-local-app-1").Inputs["envs"]), "\n")
	assert.Contains(t, env, "DATABASE_URL="+url)
	assert.NotContains(t, plain(resource.NewObjectProperty(m.get(t, "emothe-local-app-1").Inputs)), "ext-pass-9")
}

func TestMissingDatabasePasswordRegistersNoContainer(t *testing.T) {
	values := localValues()
	delete(values, "databasePassword")
	m := &mocks{}
	err := deploy(t, values, m)
	require.ErrorIs(t, err, stack.ErrMissingSecret)
	assert.Contains(t, err.Error(), "pulumi config set --secret emothe:databasePassword <value> --stack local")
	assert.Empty(t, m.ofType(typeContainer))
	assert.Empty(t, m.ofType(typeProvider))
}

// Switching backends keeps the outputs' shape: Deploy returns them whole.
func TestOutputs(t *testing.T) {
	var url, host, backend string
	read := make(chan struct{})
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		cfg, err := stack.FromContext(ctx)
		if err != nil {
			return err
		}
		out, err := infra.Deploy(ctx, cfg, infra.Backends)
		if err != nil {
			return err
		}
		pulumi.All(out.URL, out.DatabaseHost, out.Backend).ApplyT(func(a []any) error {
			url, host, backend = a[0].(string), a[1].(string), a[2].(string)
			close(read)
			return nil
		})
		return nil
	}, pulumi.WithMocks(stack.Namespace, "local", &mocks{got: map[string]registered{}}), func(info *pulumi.RunInfo) {
		info.Config = map[string]string{}
		for k, v := range localValues() {
			info.Config[stack.Namespace+":"+k] = v
			if secretKeys[k] {
				info.ConfigSecretKeys = append(info.ConfigSecretKeys, stack.Namespace+":"+k)
			}
		}
	})
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
