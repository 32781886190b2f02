package secrets_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Secrets a killed run wrote but never recorded are the program's own keys:
// the create writes them again and records them, with no key left over.
func TestCreateAdoptsTheSecretsAnInterruptedCreateLeft(t *testing.T) {
	t.Parallel()
	env := setup(t, "web")
	_, err := env.Client.SetSecrets(t.Context(), "web", map[string]*string{"A": new("1"), "B": new("2")})
	require.NoError(t, err)

	id, _, out := env.Create(t, "flyio:index:AppSecrets", map[string]any{"app": "web", "values": map[string]any{"A": "1", "B": "2"}})
	assert.Equal(t, "web", id)
	names, v := fakeSecrets(t, env.Fake, "web")
	assert.Equal(t, []string{"A", "B"}, names)
	assert.Equal(t, int(v), version(out), "the state holds the secrets version the machines must boot with")
}
