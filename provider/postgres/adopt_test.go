package postgres_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/provider/fly"
)

// A cluster a killed run asked for but never recorded is adopted by name
// and region: no second cluster is provisioned.
func TestCreateAdoptsTheClusterAnInterruptedCreateLeft(t *testing.T) {
	t.Parallel()
	env := setup(t)
	left, err := env.Client.CreatePostgres(t.Context(), fly.CreatePostgresRequest{
		OrgSlug: "personal", Region: "ams", Plan: "basic", Name: "emothe-db",
	})
	require.NoError(t, err)

	id, _, _ := env.Create(t, "flyio:index:ManagedPostgres", map[string]any{"name": "emothe-db", "region": "ams", "plan": "Basic"})
	assert.Equal(t, left.ID, id)
	assert.Len(t, clusters(env.Fake), 1, "no duplicate")
}
