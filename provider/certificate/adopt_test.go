package certificate_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A hostname a killed run added but never recorded: adding it again answers
// the same certificate, so the create adopts it.
func TestCreateAdoptsTheHostnameAnInterruptedCreateLeft(t *testing.T) {
	t.Parallel()
	env := setup(t)
	_, err := env.Client.CreateACMECertificate(t.Context(), "web", "www.example.org")
	require.NoError(t, err)

	id, _, _ := env.Create(t, "flyio:index:Certificate", map[string]any{"app": "web", "hostname": "www.example.org"})
	assert.Equal(t, "www.example.org", id)
	assert.Len(t, certs(env.Fake), 1, "no duplicate")
}
