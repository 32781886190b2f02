package fly_test

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/infra"
	"github.com/emothe/emothe/internal/pulumitest"
)

const (
	goodKey    = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	dbPassword = "db-pass-with/odd@chars"
	flyToken   = "FlyV1 fm2_tok3n-for-tests"
	repoDigest = "registry.fly.io/emothe-dev@sha256:1111111111111111111111111111111111111111111111111111111111111111"
	prebuilt   = "registry.fly.io/emothe@sha256:2222222222222222222222222222222222222222222222222222222222222222"

	typeApp       = "flyio:index:App"
	typeSecrets   = "flyio:index:AppSecrets"
	typeGroup     = "flyio:index:MachineGroup"
	typeVolume    = "flyio:index:Volume"
	typeIP        = "flyio:index:IPAddress"
	typeCert      = "flyio:index:Certificate"
	typePostgres  = "flyio:index:ManagedPostgres"
	typeImage     = "docker:index/image:Image"
	secretVersion = 7
)

// outputs answers what Fly's providers and the image build would compute.
func outputs(args pulumi.MockResourceArgs, out resource.PropertyMap) {
	switch args.TypeToken {
	case typeImage:
		out["repoDigest"] = resource.NewProperty(repoDigest)
	case typeSecrets:
		out["version"] = resource.NewProperty(float64(secretVersion))
	case typePostgres:
		out["poolerHost"] = resource.NewProperty("pooler.abc.flympg.net")
		out["connectionUri"] = resource.MakeSecret(resource.NewProperty("postgres://u:mpgpw@pooler.abc.flympg.net/db"))
		out["directUri"] = resource.MakeSecret(resource.NewProperty("postgres://u:mpgpw@direct.abc.flympg.net/db"))
	case typeIP:
		addr := "66.241.124.1"
		if args.Inputs["type"].StringValue() == "v6" {
			addr = "2a09:8280:1::1"
		}
		out["address"] = resource.NewProperty(addr)
	case typeCert:
		out["dnsRecords"] = resource.NewProperty([]resource.PropertyValue{resource.NewProperty(resource.PropertyMap{
			"name": resource.NewProperty("emothe.example.org"), "type": resource.NewProperty("AAAA"),
			"value": resource.NewProperty("2a09:8280:1::1"), "purpose": resource.NewProperty("routing"),
		})})
	}
}

// values is a stack's config: base settings, then key/value pairs.
func values(base map[string]string, kv ...string) map[string]string {
	out := map[string]string{"secretKeyBase": goodKey}
	for k, v := range base {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

var (
	dev = map[string]string{
		"appName": "emothe-dev", "database": "machine", "postgresDiskGb": "1", "databasePassword": dbPassword,
		"image": prebuilt,
	}
	prod = map[string]string{
		"appName": "emothe-prod", "environment": "production", "domain": "emothe.example.org",
		"regions": `["mad","cdg"]`, "machinesPerRegion": "2", "strategy": "bluegreen", "autostop": "off",
		"database": "managed", "postgresPlan": "starter", "protectDatabase": "true", "image": prebuilt,
	}
	secretKeys = map[string]bool{"secretKeyBase": true, "databasePassword": true, "flyio:token": true}
)

// result is what one run registered and exported.
type result struct {
	*pulumitest.Mocks
	outputs map[string]any
}

// deploy runs the whole program (infra.Run) on a stack named st.
func deploy(t *testing.T, st string, config map[string]string) (result, error) {
	t.Helper()
	res := result{Mocks: &pulumitest.Mocks{Outputs: outputs}, outputs: map[string]any{}}
	program := func(ctx *pulumi.Context) error {
		st, err := infra.Backends.FromContext(ctx)
		if err != nil {
			return err
		}
		out, err := infra.Deploy(ctx, st)
		if err != nil {
			return err
		}
		for name, o := range map[string]pulumi.Output{"url": out.URL, "image": out.Image, "databaseHost": out.DatabaseHost, "dnsRecords": out.DNSRecords} {
			v, err := internals.UnsafeAwaitOutput(ctx.Context(), o)
			if err != nil {
				return err
			}
			res.outputs[name] = v.Value
		}
		return nil
	}
	return res, res.Run(program, st, config, secretKeys)
}

func deployed(t *testing.T, st string, config map[string]string) result {
	t.Helper()
	r, err := deploy(t, st, config)
	require.NoError(t, err)
	return r
}

// names is what of type typ was registered.
func (r result) names(typ string) []string { return pulumitest.Names(r.OfType(typ)) }

func TestBuildPushesToFlysRegistry(t *testing.T) {
	r := deployed(t, "dev", values(dev, "image", "", "flyio:token", flyToken))
	img := r.Get(t, "emothe-dev-image")
	assert.Equal(t, typeImage, img.Type)
	in := img.Inputs
	assert.Equal(t, "registry.fly.io/emothe-dev:dev", in["imageName"].StringValue())
	build := in["build"].ObjectValue()
	assert.Equal(t, ".", build["context"].StringValue())
	assert.Equal(t, "Dockerfile", build["dockerfile"].StringValue())
	assert.Equal(t, "linux/amd64", build["platform"].StringValue())
	assert.False(t, in["skipPush"].BoolValue(), "the image is pushed")
	reg := in["registry"].ObjectValue()
	assert.Equal(t, "registry.fly.io", reg["server"].StringValue())
	assert.Equal(t, "x", reg["username"].StringValue())
	pw := reg["password"]
	assert.True(t, pw.IsSecret() || (pw.IsOutput() && pw.OutputValue().Secret), "the registry password is a secret")
	assert.Equal(t, "fm2_tok3n-for-tests", pulumitest.Reveal(pw).StringValue(), "the token without its scheme")
	assert.True(t, img.DependsOn("emothe-dev"), "the app's repository exists once the app does")

	cfg := r.Get(t, "emothe-dev-machines").Inputs["config"].ObjectValue()
	assert.Equal(t, repoDigest, pulumitest.Reveal(cfg["image"]).StringValue(), "machines run the pushed digest")
	assert.Equal(t, repoDigest, r.outputs["image"])
}

func TestBuildTokenFallsBackToTheEnvironment(t *testing.T) {
	t.Setenv("FLY_API_TOKEN", "FlyV1 fm2_from_env")
	r := deployed(t, "dev", values(dev, "image", ""))
	pw := r.Get(t, "emothe-dev-image").Inputs["registry"].ObjectValue()["password"]
	assert.Equal(t, "fm2_from_env", pulumitest.Reveal(pw).StringValue())
}

func TestBuildWithoutTokenSaysHowToFixIt(t *testing.T) {
	t.Setenv("FLY_API_TOKEN", "")
	r, err := deploy(t, "dev", values(dev, "image", ""))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "pulumi config set --secret flyio:token")
	assert.Contains(t, err.Error(), "FLY_API_TOKEN")
	assert.Contains(t, err.Error(), "emothe:image")
	assert.Empty(t, r.Resources(), "nothing is registered")
}

func TestPrebuiltImageIsNotBuilt(t *testing.T) {
	r := deployed(t, "dev", values(dev))
	assert.Empty(t, r.names(typeImage))
	cfg := r.Get(t, "emothe-dev-machines").Inputs["config"].ObjectValue()
	assert.Equal(t, prebuilt, pulumitest.Reveal(cfg["image"]).StringValue())
	assert.Equal(t, prebuilt, r.outputs["image"])
}

func TestDevRunsPostgresOnItsOwnApp(t *testing.T) {
	r := deployed(t, "dev", values(dev))
	assert.ElementsMatch(t, []string{"emothe-dev", "emothe-dev-db"}, r.names(typeApp))
	assert.Empty(t, r.names(typePostgres))

	vol := r.Get(t, "emothe-dev-db-data")
	assert.Equal(t, "pg_data", vol.Inputs["name"].StringValue())
	assert.Equal(t, "mad", vol.Inputs["region"].StringValue())
	assert.Equal(t, 1.0, vol.Inputs["sizeGb"].NumberValue())
	assert.False(t, vol.Protect, "dev's database is not protected")

	dbSecrets := pulumitest.Reveal(r.Get(t, "emothe-dev-db-secrets").Inputs["values"]).ObjectValue()
	assert.Equal(t, dbPassword, pulumitest.Reveal(dbSecrets["POSTGRES_PASSWORD"]).StringValue())

	db := r.Get(t, "emothe-dev-db-machines")
	assert.Equal(t, "emothe-dev-db", pulumitest.Reveal(db.Inputs["app"]).StringValue())
	assert.Equal(t, float64(secretVersion), pulumitest.Reveal(db.Inputs["minSecretsVersion"]).NumberValue())
	assert.True(t, db.DependsOn("emothe-dev-db-data") && db.DependsOn("emothe-dev-db-secrets"))
	cfg := pulumitest.Reveal(db.Inputs["config"]).ObjectValue()
	assert.Equal(t, "postgres:17", cfg["image"].StringValue())
	assert.False(t, cfg.HasValue("services"), "no public service")

	app := pulumitest.Reveal(r.Get(t, "emothe-dev-secrets").Inputs["values"]).ObjectValue()
	want := "postgres://emothe:db-pass-with%2Fodd%40chars@emothe-dev-db.internal:5432/emothe?sslmode=disable"
	assert.Equal(t, want, pulumitest.Reveal(app["DATABASE_URL"]).StringValue())
	assert.Equal(t, want, pulumitest.Reveal(app["DATABASE_DIRECT_URL"]).StringValue())
	assert.Equal(t, "emothe-dev-db.internal", r.outputs["databaseHost"])
	assert.Equal(t, "https://emothe-dev.fly.dev", r.outputs["url"])
	assert.Empty(t, r.outputs["dnsRecords"])
	assert.Empty(t, r.names(typeCert))
}

// A protected Postgres machine is kept whole, so that it stays reachable
// once its stack lets go of it (a destroy, a switch to Compose).
func TestProtectedPostgresMachineIsKeptWhole(t *testing.T) {
	r := deployed(t, "dev", values(dev, "protectDatabase", "true"))
	for _, name := range []string{"emothe-dev-db", "emothe-dev-db-data", "emothe-dev-db-secrets", "emothe-dev-db-machines"} {
		res := r.Get(t, name)
		assert.True(t, res.Protect && res.RetainOnDelete, "%s: protect and retainOnDelete", name)
	}
	app := r.Get(t, "emothe-dev-machines")
	assert.False(t, app.Protect || app.RetainOnDelete, "the app's machines go with the stack")
}

func TestDevNeedsTheDatabasePassword(t *testing.T) {
	cfg := values(dev)
	delete(cfg, "databasePassword")
	r, err := deploy(t, "dev", cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "pulumi config set --secret emothe:databasePassword <value> --stack dev")
	assert.Empty(t, r.Resources(), "nothing is registered")
}

func TestProdUsesProtectedManagedPostgres(t *testing.T) {
	r := deployed(t, "prod", values(prod))
	assert.Equal(t, []string{"emothe-prod"}, r.names(typeApp))
	pg := r.Get(t, "emothe-prod-db")
	assert.Equal(t, typePostgres, pg.Type)
	assert.True(t, pg.Protect, "protect")
	assert.True(t, pg.RetainOnDelete, "retainOnDelete")
	assert.Equal(t, "starter", pg.Inputs["plan"].StringValue())
	assert.Equal(t, "mad", pg.Inputs["region"].StringValue())
	assert.Equal(t, "emothe-prod", pulumitest.Reveal(pg.Inputs["attachApps"].ArrayValue()[0]).StringValue())

	s := pulumitest.Reveal(r.Get(t, "emothe-prod-secrets").Inputs["values"]).ObjectValue()
	assert.Equal(t, "postgres://u:mpgpw@pooler.abc.flympg.net/db", pulumitest.Reveal(s["DATABASE_URL"]).StringValue(), "the app goes through the pooler")
	assert.Equal(t, "postgres://u:mpgpw@direct.abc.flympg.net/db", pulumitest.Reveal(s["DATABASE_DIRECT_URL"]).StringValue(), "migrations go direct")
	assert.Equal(t, goodKey, pulumitest.Reveal(s["SECRET_KEY_BASE"]).StringValue())
	assert.Equal(t, "pooler.abc.flympg.net", r.outputs["databaseHost"])

	cert := r.Get(t, "emothe-prod-cert")
	assert.Equal(t, "emothe.example.org", cert.Inputs["hostname"].StringValue())
	assert.True(t, cert.DependsOn("emothe-prod-ip-shared_v4") && cert.DependsOn("emothe-prod-ip-v6"),
		"the certificate is read after the IPs, so its DNS records list them")
	assert.Equal(t, []string{"emothe.example.org A 66.241.124.1 (routing)", "emothe.example.org AAAA 2a09:8280:1::1 (routing)"},
		r.outputs["dnsRecords"], "the IPs' own addresses route the domain")
	assert.Equal(t, "https://emothe.example.org", r.outputs["url"])
}

// A destroy deletes the guard first; protected, it stops the destroy
// before anything else goes.
func TestDestroyGuardStandsBeforeEverything(t *testing.T) {
	r := deployed(t, "prod", values(prod))
	g := r.Get(t, "emothe-prod-destroy-guard")
	assert.True(t, g.Protect, "protected with the database")
	for _, leaf := range []string{"emothe-prod-machines", "emothe-prod-cert", "emothe-prod-ip-shared_v4", "emothe-prod-ip-v6"} {
		assert.True(t, g.DependsOn(leaf), "the guard must go before %s", leaf)
	}
	assert.False(t, deployed(t, "dev", values(dev)).Get(t, "emothe-dev-destroy-guard").Protect)
}

func TestMachinesBootWithTheSecretsVersion(t *testing.T) {
	r := deployed(t, "prod", values(prod))
	g := r.Get(t, "emothe-prod-machines")
	assert.Equal(t, float64(secretVersion), pulumitest.Reveal(g.Inputs["minSecretsVersion"]).NumberValue())
	assert.True(t, g.DependsOn("emothe-prod-secrets"), "machines wait for their secrets")
	assert.True(t, g.DependsOn("emothe-prod-db"), "and for their database")
	assert.Equal(t, []string{"migrate"}, pulumitest.Strings(g.Inputs["releaseCommand"]))
	assert.Equal(t, []string{"mad", "cdg"}, pulumitest.Strings(g.Inputs["regions"]))
	assert.Equal(t, "bluegreen", g.Inputs["strategy"].ObjectValue()["type"].StringValue())
}

func TestIPAddresses(t *testing.T) {
	r := deployed(t, "dev", values(dev))
	assert.ElementsMatch(t, []string{"emothe-dev-ip-shared_v4", "emothe-dev-ip-v6"}, r.names(typeIP))
	r = deployed(t, "dev", values(dev, "dedicatedIpv4", "true"))
	assert.ElementsMatch(t, []string{"emothe-dev-ip-v4", "emothe-dev-ip-v6"}, r.names(typeIP))
	assert.Equal(t, "v4", r.Get(t, "emothe-dev-ip-v4").Inputs["type"].StringValue())
}

func TestSecretsAreMarkedSecret(t *testing.T) {
	for st, cfg := range map[string]map[string]string{
		"dev":  values(dev, "image", "", "flyio:token", flyToken),
		"prod": values(prod),
	} {
		r := deployed(t, st, cfg)
		for _, reg := range r.Resources() {
			shown := pulumitest.Plain(resource.NewObjectProperty(reg.Inputs))
			for _, s := range []string{goodKey, "db-pass-with", "fm2_tok3n", "mpgpw"} {
				assert.NotContains(t, shown, s, "%s/%s holds a secret outside a secret value", st, reg.Name)
			}
		}
	}
}
