package fly

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/emothe/emothe/contract"
	"github.com/emothe/emothe/infra/postgres"
	"github.com/emothe/emothe/infra/stack"
	"github.com/emothe/emothe/sdk/go/flyio"
)

const goodKey = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// stackValues is the committed Pulumi.<name>.yaml as raw settings, with
// over applied (key, value pairs) and the secrets set.
func stackValues(t *testing.T, name string, over ...string) stack.Raw {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "Pulumi."+name+".yaml"))
	require.NoError(t, err)
	var f struct {
		Config map[string]any `yaml:"config"`
	}
	require.NoError(t, yaml.Unmarshal(b, &f))
	raw := stack.Raw{Stack: name, Values: map[string]string{}, Secrets: map[string]bool{}, Inputs: map[string]string{tokenKey: "FlyV1 tok"}}
	for k, v := range f.Config {
		key := k[len(stack.Namespace)+1:]
		if list, ok := v.([]any); ok {
			j, _ := json.Marshal(list)
			raw.Values[key] = string(j)
			continue
		}
		raw.Values[key] = fmt.Sprint(v)
	}
	raw.Values["secretKeyBase"], raw.Secrets["secretKeyBase"] = goodKey, true
	raw.Values["databasePassword"], raw.Secrets["databasePassword"] = "pg pass/with@odd:chars", true
	for i := 0; i+1 < len(over); i += 2 {
		raw.Values[over[i]] = over[i+1]
	}
	return raw
}

func planOf(t *testing.T, name string, over ...string) Plan {
	t.Helper()
	cfg, err := Load(stackValues(t, name, over...))
	require.NoError(t, err)
	return NewPlan(cfg)
}

func TestDevPlan(t *testing.T) {
	p := planOf(t, "dev")
	assert.Equal(t, "emothe-dev", p.App)
	assert.Equal(t, "https://emothe-dev.fly.dev", p.URL)
	assert.Equal(t, []flyio.IPType{flyio.IPTypeSharedV4, flyio.IPTypeV6}, p.IPs)
	assert.Empty(t, p.Domain, "no certificate without a domain")

	g := p.Machines
	assert.Equal(t, []string{"mad"}, g.Regions)
	assert.Equal(t, "mad", g.PrimaryRegion)
	assert.Equal(t, 1, g.CountPerRegion)
	assert.Equal(t, "rolling", *g.Strategy.Type)
	assert.Equal(t, 1, *g.Strategy.MaxUnavailable)
	assert.Equal(t, "emothe-dev.fly.dev", g.Config.Env["APP_HOST"])
	assert.Equal(t, "debug", g.Config.Env["LOG_LEVEL"])
	assert.Equal(t, "stop", *g.Config.Services[0].Autostop)
	assert.Equal(t, 0, *g.Config.Services[0].MinMachinesRunning)
	assert.Equal(t, 256, *g.Config.Guest.MemoryMb)

	require.Nil(t, p.Database.Managed)
	db := p.Database.Machine
	require.NotNil(t, db)
	assert.False(t, p.Database.Protect)
	assert.Equal(t, "emothe-dev-db", db.App)
	assert.Equal(t, "emothe-dev-db.internal", db.Host)
	assert.Equal(t, 1, db.VolumeGB)
	assert.Equal(t, "postgres:17", db.Machines.Config.Image, "the official image of emothe:postgresVersion")
	assert.Empty(t, db.Machines.Config.Services, "the database is on the private network only")
	assert.Empty(t, db.Machines.ReleaseCommand)
	assert.Equal(t, []flyio.VolumeMount{{Volume: "pg_data", Path: "/data"}}, db.Machines.Config.Mounts)
	assert.Equal(t, "/data/pgdata", db.Machines.Config.Env["PGDATA"], "initdb refuses the volume root (lost+found)")
	assert.NotContains(t, db.Machines.Config.Env, postgres.EnvPassword, "the password is a secret, not env")
}

func TestMachineDatabaseURLEscapesThePassword(t *testing.T) {
	db := planOf(t, "dev").Database.Machine
	u, err := url.Parse(db.URL("pg pass/with@odd:chars"))
	require.NoError(t, err)
	pw, _ := u.User.Password()
	assert.Equal(t, "pg pass/with@odd:chars", pw)
	assert.Equal(t, "emothe-dev-db.internal:5432", u.Host)
	assert.Equal(t, "/emothe", u.Path)
	assert.Equal(t, "emothe", u.User.Username())
}

func TestProdPlan(t *testing.T) {
	p := planOf(t, "prod")
	assert.Equal(t, "https://emothe.example.org", p.URL)
	assert.Equal(t, "emothe.example.org", p.Domain)

	g := p.Machines
	assert.Equal(t, []string{"mad", "cdg"}, g.Regions)
	assert.Equal(t, 2, g.CountPerRegion)
	assert.Equal(t, "bluegreen", *g.Strategy.Type)
	assert.Nil(t, g.Strategy.MaxUnavailable, "maxUnavailable is for rolling only")
	assert.Equal(t, "emothe.example.org", g.Config.Env["APP_HOST"])
	svc := g.Config.Services[0]
	assert.Equal(t, "off", *svc.Autostop)
	assert.Equal(t, 2, *svc.MinMachinesRunning)

	require.Nil(t, p.Database.Machine)
	m := p.Database.Managed
	require.NotNil(t, m)
	assert.True(t, p.Database.Protect)
	assert.Equal(t, ManagedPostgres{Name: "emothe-prod-db", Region: "mad", Plan: "starter", Version: "17", DiskGB: 20}, *m)
}

func TestProductionAlwaysProtectsTheDatabase(t *testing.T) {
	p := planOf(t, "prod", "protectDatabase", "false")
	assert.True(t, p.Database.Protect)
	assert.True(t, planOf(t, "dev", "protectDatabase", "true").Database.Protect)
}

func TestAppMachinesServeTheService(t *testing.T) {
	g := planOf(t, "dev").Machines
	assert.Equal(t, []string{"migrate"}, g.ReleaseCommand, "the image's ENTRYPOINT is /emothe")
	require.Len(t, g.Config.Services, 1)
	svc := g.Config.Services[0]
	assert.Equal(t, 8080, svc.InternalPort)
	assert.Equal(t, []flyio.ServicePort{
		{Port: 443, Handlers: []string{"tls", "http"}},
		{Port: 80, Handlers: []string{"http"}, ForceHttps: new(true)},
	}, svc.Ports)
	require.Len(t, svc.Checks, 1)
	assert.Equal(t, "/readyz", *svc.Checks[0].Path, "the proxy routes only to ready machines")
	assert.Equal(t, "/healthz", *g.Config.Checks["healthz"].Path)
	assert.Equal(t, 8080, *g.Config.Checks["healthz"].Port, "machine checks need a port")
	assert.Equal(t, "8080", g.Config.Env["PORT"])
	assert.Empty(t, g.Config.Image, "the image comes from the Image step")
	for k := range g.Config.Env {
		assert.NotContains(t, []string{contract.EnvSecretKeyBase, contract.EnvDatabaseURL, contract.EnvDatabaseDirectURL}, k, "secrets are not env")
	}
}

func TestSizingAndNetworkFollowConfig(t *testing.T) {
	p := planOf(t, "dev", "regions", `["ams","sin"]`, "machinesPerRegion", "3", "cpuKind", "performance",
		"cpus", "2", "memoryMb", "4096", "autostop", "suspend", "dedicatedIpv4", "true", "strategy", "immediate",
		"postgresImage", "registry.example.org/pg:17.2")
	g := p.Machines
	assert.Equal(t, []string{"ams", "sin"}, g.Regions)
	assert.Equal(t, "mad", g.PrimaryRegion, "the release command runs in the primary region")
	assert.Equal(t, 3, g.CountPerRegion)
	assert.Equal(t, flyio.MachineGuest{CpuKind: new("performance"), Cpus: new(2), MemoryMb: new(4096)}, *g.Config.Guest)
	assert.Equal(t, "suspend", *g.Config.Services[0].Autostop)
	assert.Equal(t, "immediate", *g.Strategy.Type)
	assert.Equal(t, []flyio.IPType{flyio.IPTypeV4, flyio.IPTypeV6}, p.IPs)
	assert.Equal(t, "registry.example.org/pg:17.2", p.Database.Machine.Machines.Config.Image)
}

func TestBuildGoesToTheAppsRepository(t *testing.T) {
	b := planOf(t, "dev").Build
	assert.Equal(t, Build{Name: "registry.fly.io/emothe-dev:dev", Registry: "registry.fly.io", Context: ".",
		Dockerfile: "Dockerfile", Platform: "linux/amd64", Username: "x"}, b)
	local := planOf(t, "dev", "flyRegistry", "127.0.0.1:5000").Build
	assert.Equal(t, "127.0.0.1:5000/emothe-dev:dev", local.Name, "another registry, e.g. a local one in tests")
	assert.Equal(t, "127.0.0.1:5000", local.Registry)
	assert.Equal(t, "registry.example.org/emothe@sha256:"+goodKey,
		planOf(t, "dev", "image", "registry.example.org/emothe@sha256:"+goodKey).Image)
}

func TestMachineDatabaseNameMustFitFly(t *testing.T) {
	name := "e" + fmt.Sprintf("%061d", 0) // 62 characters: "-db" makes 65
	_, err := Load(stackValues(t, "dev", "appName", name))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "emothe:appName = \""+name+"\"")
	assert.Contains(t, err.Error(), "pulumi config set emothe:database managed")

	_, err = Load(stackValues(t, "dev", "appName", name, "database", "managed"))
	assert.NoError(t, err)
}

func TestRegistryPasswordIsTheBareToken(t *testing.T) {
	for in, want := range map[string]string{
		"FlyV1 fm2_abc,fm2_def": "fm2_abc,fm2_def",
		"Bearer tok123":         "tok123",
		" fm2_bare \n":          "fm2_bare",
	} {
		assert.Equal(t, want, registryPassword(in), in)
	}
}

// The routing A and AAAA records name the stack's addresses, not the ones
// the certificate listed when it was last read: here the IPv6 address was
// released and allocated again since.
func TestDNSRecordsRouteToTheStacksAddresses(t *testing.T) {
	got := DNSRecords("emothe.example.org", []flyio.DNSRecord{
		{Name: "emothe.example.org", Type: "A", Value: "66.241.124.1", Purpose: "routing"},
		{Name: "emothe.example.org", Type: "AAAA", Value: "2a09:8280:1::1", Purpose: "routing"},
		{Name: "emothe.example.org", Type: "CNAME", Value: "emothe-prod.fly.dev", Purpose: "routing"},
		{Name: "_acme-challenge.emothe.example.org", Type: "CNAME", Value: "emothe.example.org.x.flydns.net", Purpose: "acme-challenge"},
	}, []string{"66.241.124.1", "2a09:8280:1::9:9"})
	assert.Equal(t, []string{
		"emothe.example.org A 66.241.124.1 (routing)",
		"emothe.example.org AAAA 2a09:8280:1::9:9 (routing)",
		"emothe.example.org CNAME emothe-prod.fly.dev (routing)",
		"_acme-challenge.emothe.example.org CNAME emothe.example.org.x.flydns.net (acme-challenge)",
	}, got)
}
