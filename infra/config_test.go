package infra

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/infra/compose"
	"github.com/emothe/emothe/infra/fly"
	"github.com/emothe/emothe/infra/stack"
)

// valid is the smallest raw config that loads: a prebuilt image needs no
// Fly token.
func valid() stack.Raw {
	return stack.Raw{
		Stack:   "dev",
		Values:  map[string]string{"appName": "emothe-dev", "secretKeyBase": goodKey, "image": "registry.fly.io/emothe:v1"},
		Secrets: map[string]bool{"secretKeyBase": true},
	}
}

func with(kv ...string) stack.Raw {
	r := valid()
	for i := 0; i < len(kv); i += 2 {
		r.Values[kv[i]] = kv[i+1]
	}
	return r
}

// secretly marks keys of raw as held encrypted.
func secretly(raw stack.Raw, keys ...string) stack.Raw {
	for _, k := range keys {
		raw.Secrets[k] = true
	}
	return raw
}

func TestLoadDefaults(t *testing.T) {
	st, err := Backends.Load(valid())
	require.NoError(t, err)
	require.NotNil(t, st.Deploy)
	c := st.Config
	assert.Equal(t, "fly", c.Backend)
	assert.Equal(t, 256, c.MemoryMB)
	assert.Equal(t, goodKey, c.SecretKeyBase.Value())
	assert.False(t, c.Production())

	f, err := fly.Load(valid())
	require.NoError(t, err)
	assert.Equal(t, "mad", f.PrimaryRegion)
	assert.Equal(t, []string{"mad"}, f.Regions)
	assert.Equal(t, "rolling", f.Strategy)
	assert.Equal(t, "managed", f.Database)

	_, err = compose.Load(with("backend", "compose", "databasePassword", "pw"))
	require.ErrorContains(t, err, "emothe:databasePassword is stored in plain text")
	k, err := compose.Load(secretly(with("backend", "compose", "databasePassword", "pw"), "databasePassword"))
	require.NoError(t, err)
	assert.Equal(t, 2, k.Replicas)
}

func TestLoadRejectsBadValues(t *testing.T) {
	plainSecret := valid()
	plainSecret.Secrets = map[string]bool{}

	cases := []struct {
		name string
		raw  stack.Raw
		want []string // each must appear in the error
	}{
		{"unknown backend", with("backend", "kubernetes"), []string{`emothe:backend = "kubernetes"`, "fly, compose", "pulumi config set emothe:backend fly"}},
		{"unknown region", with("primaryRegion", "xyz"), []string{`emothe:primaryRegion = "xyz"`, "not a Fly region code", "mad"}},
		{"unknown region in list", with("regions", `["mad","zzz"]`), []string{`emothe:regions`, `"zzz"`, "not a Fly region code"}},
		{"duplicate region", with("regions", `["mad","mad"]`), []string{`lists "mad" twice`}},
		{"regions not a list", with("regions", "mad"), []string{`emothe:regions = "mad"`, "list of region codes", "--path"}},
		{"memory not a multiple of 256", with("memoryMb", "300"), []string{`emothe:memoryMb = "300"`, "multiple of 256", "pulumi config set emothe:memoryMb 512"}},
		{"memory above the CPU's range", with("memoryMb", "4096"), []string{`emothe:memoryMb = "4096"`, "256-2048 MB", "1 shared CPU"}},
		{"performance memory too small", with("cpuKind", "performance", "memoryMb", "1024"), []string{"2048-8192 MB"}},
		{"negative count", with("machinesPerRegion", "-1"), []string{`emothe:machinesPerRegion = "-1"`, "from 1 to 100"}},
		{"count not a number", with("maxUnavailable", "two"), []string{`emothe:maxUnavailable = "two"`, "whole number"}},
		{"odd cpus", with("cpus", "3"), []string{`emothe:cpus = "3"`, "[1 2 4 8 16]"}},
		{"prod without a domain", with("environment", "production"), []string{"emothe:domain", "required in production", "pulumi config set emothe:domain"}},
		{"bad domain", with("domain", "not a host"), []string{`emothe:domain = "not a host"`, "DNS hostname"}},
		{"secret in plain text", plainSecret, []string{"emothe:secretKeyBase is stored in plain text", "pulumi config set --secret emothe:secretKeyBase"}},
		{"short secret", with("secretKeyBase", "short"), []string{"emothe:secretKeyBase = [secret]", "is 5 characters; it needs at least 64", "make secrets STACK=dev ROTATE=secretKeyBase"}},
		{"missing secret", with("secretKeyBase", ""), []string{"emothe:secretKeyBase is not set", "make secrets STACK=dev", "pulumi config set --secret emothe:secretKeyBase <value> --stack dev"}},
		{"bad boolean yes", with("dedicatedIpv4", "yes"), []string{`emothe:dedicatedIpv4 = "yes" is not true or false`, "pulumi config set emothe:dedicatedIpv4 true"}},
		{"integer not a number", with("postgresDiskGb", "ten"), []string{`emothe:postgresDiskGb = "ten"`, "whole number from 1 to 500", "pulumi config set emothe:postgresDiskGb 1"}},
		{"build without a token", with("image", ""), []string{"emothe:image is empty", "pulumi config set --secret flyio:token", "FLY_API_TOKEN"}},
		{"app name too long for its database app", with("database", "machine", "databasePassword", "", "appName", "e"+strings.Repeat("x", 61)),
			[]string{"too long for emothe:database = machine", "at most 60 characters"}},
		{"bad app name", with("appName", "Emothe_Dev"), []string{`emothe:appName = "Emothe_Dev"`, "not a valid app name"}},
		{"missing app name", with("appName", ""), []string{"emothe:appName", "is required"}},
		{"untagged image", with("image", "registry.fly.io/emothe"), []string{`emothe:image = "registry.fly.io/emothe"`, "tag or digest"}},
		{"bad strategy", with("strategy", "canary"), []string{`emothe:strategy = "canary"`, "rolling, bluegreen, immediate"}},
		{"bad autostop", with("autostop", "maybe"), []string{`emothe:autostop = "maybe"`}},
		{"bad boolean", with("dedicatedIpv4", "yes please"), []string{`emothe:dedicatedIpv4 = "yes please"`, "true or false"}},
		{"min running above count", with("minMachinesRunning", "3"), []string{"emothe:minMachinesRunning", "exceeds the 1 machine(s) per region"}},
		{"bad docker host", with("backend", "compose", "dockerHost", "docker.example.org"), []string{`emothe:dockerHost = "docker.example.org"`, "ssh://"}},
		{"replicas below one", with("backend", "compose", "replicas", "0"), []string{`emothe:replicas = "0"`, "from 1 to 20"}},
		{"domain without acme email on compose", with("backend", "compose", "domain", "emothe.example.org"), []string{"emothe:acmeEmail", "required with a domain"}},
		{"bad email", with("backend", "compose", "acmeEmail", "ops at example"), []string{`emothe:acmeEmail = "ops at example"`, "not an email address"}},
		{"registry with a scheme", with("flyRegistry", "https://registry.fly.io"), []string{`emothe:flyRegistry = "https://registry.fly.io"`, "host[:port]", "pulumi config set emothe:flyRegistry registry.fly.io"}},
		{"bad postgres version", with("postgresVersion", "15"), []string{`emothe:postgresVersion = "15"`, "16, 17"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Backends.Load(tc.raw)
			require.Error(t, err)
			var ce *stack.ConfigError
			require.ErrorAs(t, err, &ce)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.NotContains(t, err.Error(), goodKey, "a secret leaked into the error")
		})
	}
}

func TestLoadReportsEveryProblemAtOnce(t *testing.T) {
	_, err := Backends.Load(with("environment", "staging", "memoryMb", "100", "primaryRegion", "nowhere"))
	require.Error(t, err)
	assert.Len(t, err.(*stack.ConfigError).Problems, 3, err.Error())
}

// An unknown backend is one problem: no backend's settings are read.
func TestUnknownBackendReadsNoBackendSettings(t *testing.T) {
	_, err := Backends.Load(with("backend", "k8s", "primaryRegion", "nowhere", "replicas", "0"))
	require.Error(t, err)
	assert.Equal(t, []string{`emothe:backend = "k8s" is not one of fly, compose; fix: pulumi config set emothe:backend fly`},
		err.(*stack.ConfigError).Problems)
}

// Only the selected backend's settings are validated.
func TestOtherBackendsSettingsAreIgnored(t *testing.T) {
	raw := secretly(with("backend", "compose", "databasePassword", "pw", "primaryRegion", "atlantis", "regions", "nope",
		"strategy", "canary", "dedicatedIpv4", "yes"), "databasePassword")
	_, err := Backends.Load(raw)
	require.NoError(t, err, "a compose stack does not read Fly's settings")
	_, err = Backends.Load(with("dockerHost", "nowhere", "replicas", "0", "databaseUrl", "mysql://x"))
	require.NoError(t, err, "a fly stack does not read Compose's settings")
}

// A consequence is not piled onto the error that causes it.
func TestCrossChecksStayQuietOnReportedErrors(t *testing.T) {
	for _, raw := range []stack.Raw{
		with("machinesPerRegion", "-1"),
		with("cpus", "3", "memoryMb", "4096"),
		with("environment", "prod"),
		secretly(with("backend", "compose", "databasePassword", "pw", "domain", "not a host"), "databasePassword"),
	} {
		_, err := Backends.Load(raw)
		require.Error(t, err)
		problems := err.(*stack.ConfigError).Problems
		assert.Len(t, problems, 1, "%v", problems)
	}
}

func TestSecretNeverPrints(t *testing.T) {
	st, err := Backends.Load(valid())
	require.NoError(t, err)
	c := st.Config
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", *c), fmt.Sprint(c.SecretKeyBase)} {
		assert.NotContains(t, s, goodKey)
	}
}

// A protected Fly stack's destroy is refused with the setting and the
// runbook; a Compose one goes ahead and keeps its volumes.
func TestRefuseDestroyNamesTheSettingAndTheRunbook(t *testing.T) {
	err := Backends.RefuseDestroy(with("protectDatabase", "true"))
	require.ErrorIs(t, err, stack.ErrProtected)
	assert.Contains(t, err.Error(), "emothe:protectDatabase is true")
	assert.Contains(t, err.Error(), "docs/fly.md#destroy")
	assert.NotContains(t, err.Error(), "urn:")

	err = Backends.RefuseDestroy(with("environment", "production"))
	require.ErrorIs(t, err, stack.ErrProtected)
	assert.Contains(t, err.Error(), "emothe:environment is production")

	assert.NoError(t, Backends.RefuseDestroy(with("backend", "compose", "environment", "production")),
		"Compose keeps the protected volumes through a destroy on its own")

	assert.NoError(t, Backends.RefuseDestroy(with("primaryRegion", "atlantis")), "an unprotected stack, even a broken one, may go")
}
