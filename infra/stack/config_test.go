package stack

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const goodKey = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// valid is the smallest raw config that loads.
func valid() Raw {
	return Raw{
		Stack:   "dev",
		Values:  map[string]string{"appName": "emothe-dev", "secretKeyBase": goodKey},
		Secrets: map[string]bool{"secretKeyBase": true},
	}
}

func with(kv ...string) Raw {
	r := valid()
	for i := 0; i < len(kv); i += 2 {
		r.Values[kv[i]] = kv[i+1]
	}
	return r
}

func TestLoadDefaults(t *testing.T) {
	c, err := Load(valid())
	require.NoError(t, err)
	assert.Equal(t, "fly", c.Backend)
	assert.Equal(t, "mad", c.Fly.PrimaryRegion)
	assert.Equal(t, []string{"mad"}, c.Fly.Regions)
	assert.Equal(t, 256, c.Fly.MemoryMB)
	assert.Equal(t, "rolling", c.Fly.Strategy)
	assert.Equal(t, "managed", c.Fly.Database)
	assert.Equal(t, 2, c.Compose.Replicas)
	assert.Equal(t, goodKey, c.SecretKeyBase.Value())
	assert.False(t, c.Production())
}

func TestLoadRejectsBadValues(t *testing.T) {
	plainSecret := valid()
	plainSecret.Secrets = map[string]bool{}

	cases := []struct {
		name string
		raw  Raw
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
		{"short secret", with("secretKeyBase", "short"), []string{"emothe:secretKeyBase = [secret]", "is 5 characters; it needs at least 64", "make secrets STACK=dev"}},
		{"bad app name", with("appName", "Emothe_Dev"), []string{`emothe:appName = "Emothe_Dev"`, "not a valid app name"}},
		{"missing app name", with("appName", ""), []string{"emothe:appName", "is required"}},
		{"untagged image", with("image", "registry.fly.io/emothe"), []string{`emothe:image = "registry.fly.io/emothe"`, "tag or digest"}},
		{"bad strategy", with("strategy", "canary"), []string{`emothe:strategy = "canary"`, "rolling, bluegreen, immediate"}},
		{"bad autostop", with("autostop", "maybe"), []string{`emothe:autostop = "maybe"`}},
		{"bad boolean", with("dedicatedIpv4", "yes please"), []string{`emothe:dedicatedIpv4 = "yes please"`, "true or false"}},
		{"min running above count", with("minMachinesRunning", "3"), []string{"emothe:minMachinesRunning", "exceeds the 1 machine(s) per region"}},
		{"bad docker host", with("dockerHost", "docker.example.org"), []string{`emothe:dockerHost = "docker.example.org"`, "ssh://"}},
		{"replicas below one", with("replicas", "0"), []string{`emothe:replicas = "0"`, "from 1 to 20"}},
		{"domain without acme email on compose", with("backend", "compose", "domain", "emothe.example.org"), []string{"emothe:acmeEmail", "required with a domain"}},
		{"bad email", with("acmeEmail", "ops at example"), []string{`emothe:acmeEmail = "ops at example"`, "not an email address"}},
		{"registry with a scheme", with("flyRegistry", "https://registry.fly.io"), []string{`emothe:flyRegistry = "https://registry.fly.io"`, "host[:port]", "pulumi config set emothe:flyRegistry registry.fly.io"}},
		{"bad postgres version", with("postgresVersion", "15"), []string{`emothe:postgresVersion = "15"`, "16, 17"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(tc.raw)
			require.Error(t, err)
			var ce *ConfigError
			require.ErrorAs(t, err, &ce)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.NotContains(t, err.Error(), goodKey, "a secret leaked into the error")
		})
	}
}

func TestLoadReportsEveryProblemAtOnce(t *testing.T) {
	_, err := Load(with("backend", "k8s", "memoryMb", "100", "primaryRegion", "nowhere"))
	require.Error(t, err)
	assert.Equal(t, 3, len(err.(*ConfigError).Problems), err.Error())
}

func TestSecretNeverPrints(t *testing.T) {
	c, err := Load(valid())
	require.NoError(t, err)
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", *c), fmt.Sprint(c.SecretKeyBase)} {
		assert.NotContains(t, s, goodKey)
	}
}

func TestRequireSecretNamesTheCommand(t *testing.T) {
	c, err := Load(valid())
	require.NoError(t, err)
	err = RequireSecret(c, "databasePassword", c.DatabasePassword, "the Postgres password")
	require.ErrorIs(t, err, ErrMissingSecret)
	assert.Contains(t, err.Error(), "pulumi config set --secret emothe:databasePassword <value> --stack dev")
	assert.True(t, strings.Contains(err.Error(), "make secrets STACK=dev"))
	assert.NoError(t, RequireSecret(c, "secretKeyBase", c.SecretKeyBase, ""))
}
