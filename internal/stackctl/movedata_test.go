package stackctl

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An exported state shows a secret output as an object holding the JSON
// of its value (`pulumi stack export --show-secrets`).
func TestPlainString(t *testing.T) {
	s, err := plainString(json.RawMessage(`"abc123"`))
	require.NoError(t, err)
	assert.Equal(t, "abc123", s)

	s, err = plainString(json.RawMessage(`{"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "plaintext": "\"postgres://u:p@h/db\""}`))
	require.NoError(t, err)
	assert.Equal(t, "postgres://u:p@h/db", s)

	_, err = plainString(json.RawMessage(`{"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "v1:secretbytes"}`))
	require.Error(t, err, "a secret the export did not decrypt")
	assert.NotContains(t, err.Error(), "secretbytes")
	_, err = plainString(nil)
	require.Error(t, err, "no such output")
}

// A Fly stack on Managed Postgres: Endpoint finds the cluster and its
// credentials in the state, the direct URL decrypted from a secret output.
func TestEndpointOfManagedPostgres(t *testing.T) {
	st := devWith(t, "emothe:appName: emothe-qa", "emothe:image: registry.fly.io/emothe-qa@sha256:"+strings.Repeat("a", 64))
	ctx := context.Background()
	require.NoError(t, st.SetAllConfig(ctx, auto.ConfigMap{
		"emothe:secretKeyBase": {Value: strings.Repeat("k", 64), Secret: true},
		"flyio:token":          {Value: "FlyV1 tok", Secret: true},
	}))
	_, err := Endpoint(ctx, st)
	require.ErrorContains(t, err, "has no database yet", "before any up")

	const secretSig = `"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"`
	stackURN := "urn:pulumi:dev::emothe::pulumi:pulumi:Stack::emothe-dev"
	provURN := "urn:pulumi:dev::emothe::pulumi:providers:flyio::default"
	// The state's secrets are encrypted as the stack's config is: with the
	// passphrase and the salt in Pulumi.dev.yaml.
	file, err := os.ReadFile(filepath.Join(st.Workspace().WorkDir(), "Pulumi.dev.yaml"))
	require.NoError(t, err)
	salt := regexp.MustCompile(`encryptionsalt: (\S+)`).FindSubmatch(file)
	require.NotNil(t, salt, "Pulumi.dev.yaml has an encryption salt")
	deployment := `{
  "manifest": {"time": "2026-12-03T00:00:00Z", "magic": "", "version": ""},
  "secrets_providers": {"type": "passphrase", "state": {"salt": "` + string(salt[1]) + `"}},
  "resources": [
    {"urn": "` + stackURN + `", "custom": false, "type": "pulumi:pulumi:Stack",
     "outputs": {"databaseHost": "pooler.abc123.flympg.net", "backend": "fly"}},
    {"urn": "` + provURN + `", "custom": true, "id": "prov-1", "type": "pulumi:providers:flyio", "parent": "` + stackURN + `"},
    {"urn": "urn:pulumi:dev::emothe::flyio:index:ManagedPostgres::emothe-qa-db", "custom": true, "id": "abc123",
     "type": "flyio:index:ManagedPostgres", "parent": "` + stackURN + `", "provider": "` + provURN + `::prov-1",
     "outputs": {"clusterId": "abc123",
       "directUri": {` + secretSig + `, "plaintext": "\"postgresql://fly-user:s%3Acret@direct.abc123.flympg.net:5432/fly-db?sslmode=require\""}}}
  ]
}`
	require.NoError(t, st.Import(ctx, apitype.UntypedDeployment{Version: 3, Deployment: json.RawMessage(deployment)}))
	e, err := Endpoint(ctx, st)
	require.NoError(t, err)
	require.NotNil(t, e.Fly)
	assert.Equal(t, "emothe-qa", e.App)
	assert.Equal(t, "abc123", e.Fly.Cluster)
	assert.Equal(t, "fly-user", e.Fly.User)
	assert.Equal(t, "s:cret", e.Fly.Password.Value())
	assert.Equal(t, "fly-db", e.Fly.Name)
	assert.Equal(t, "require", e.Fly.SSLMode)
	assert.Equal(t, "FlyV1 tok", e.Fly.API.Token.Value())
}
