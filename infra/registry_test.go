package infra

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/infra/internal/echo"
	"github.com/emothe/emothe/infra/stack"
)

// withEcho is the registry plus a backend declared in one folder
// (infra/internal/echo), and nothing else changed.
var withEcho = append(slices.Clone(Backends), echo.Platform)

// A backend is one folder: registered, its name is a choice of
// emothe:backend, its settings are read (only on its stacks) and documented,
// and it deploys.
func TestABackendIsOneFolder(t *testing.T) {
	settings := withEcho.Settings()
	keys := make([]string, len(settings))
	for i, s := range settings {
		keys[i] = s.Key
	}
	assert.Subset(t, keys, []string{"echoDatabaseUrl", "echoReplicas"})
	assert.Len(t, keys, len(Backends.Settings())+2)
	assert.Contains(t, settings[0].Description, "fly (Fly.io), compose (containers on a Docker host) or echo (a test backend)")
	assert.Contains(t, withEcho.ProjectConfig(), "  echoReplicas:\n    description: \"Echo: copies of the app.\"\n    default: 1\n")
	assert.Contains(t, withEcho.ReadmeTable(), "| `emothe:echoDatabaseUrl` | string | secret | Echo: the external database. |")
	assert.NotContains(t, Backends.ProjectConfig(), "echo", "the real registry is untouched")

	_, err := withEcho.Load(with("backend", "echo", "echoReplicas", "9", "image", ""))
	require.Error(t, err)
	assert.Equal(t, []string{
		`emothe:echoReplicas = "9" is not a whole number from 1 to 3; fix: pulumi config set emothe:echoReplicas 1`,
		"emothe:echoDatabaseUrl is not set; it is the database the echo app uses; fix: make secrets STACK=dev generates it, or pulumi config set --secret emothe:echoDatabaseUrl <value> --stack dev",
		"emothe:image is required on echo: it builds nothing; fix: pulumi config set emothe:image <ref>",
	}, err.(*stack.ConfigError).Problems, "echo's own settings and rules, and no Fly setting")
	_, err = withEcho.Load(with("echoReplicas", "9"))
	assert.NoError(t, err, "a fly stack does not read echo's settings")

	values := map[string]string{"backend": "echo", "appName": "emothe-dev", "secretKeyBase": goodKey,
		"image": "registry.example/emothe:v1", "echoDatabaseUrl": "postgres://u:p@db.example/emothe", "echoReplicas": "2"}
	m, err := run(deployWith(withEcho), values, map[string]bool{"secretKeyBase": true, "echoDatabaseUrl": true})
	require.NoError(t, err)
	assert.Equal(t, []string{"emothe:index:Deployment::emothe-dev", "emothe:echo:Site::emothe-dev-1", "emothe:echo:Site::emothe-dev-2"}, registered(m))
	for _, r := range m.Resources() {
		assert.False(t, strings.Contains(r.Name, "fly") || strings.Contains(r.Type, "docker"), "echo deploys only its own: %s", r.Type)
	}
}
