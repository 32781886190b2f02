package volume_test

import (
	"testing"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/provider/flyapi"
	"github.com/emothe/emothe/provider/internal/flytest"
)

// leftVolume is what a create that Fly carried out leaves when the engine
// that sent it was killed before recording it.
func leftVolume(t *testing.T, env *flytest.Env) string {
	t.Helper()
	v, err := env.Client.CreateVolume(t.Context(), "web", flyapi.CreateVolumeRequest{
		Name: new("data"), Region: new("ams"), SizeGb: new(3), Encrypted: new(true),
	})
	require.NoError(t, err)
	return *v.Id
}

func TestCreateAdoptsTheVolumeAnInterruptedCreateLeft(t *testing.T) {
	t.Parallel()
	env := setup(t)
	left := leftVolume(t, env)

	id, _, _ := env.Create(t, token, map[string]any{"app": "web", "name": "data", "region": "ams", "sizeGb": 3})
	assert.Equal(t, left, id, "the leftover is adopted")
	assert.Len(t, volumes(env.Fake), 1, "no duplicate")

	// A second volume of the same name in this run is a sibling, not a
	// leftover: the claimed one is never adopted twice.
	sibling, _, _ := env.Create(t, token, map[string]any{"app": "web", "name": "data", "region": "ams", "sizeGb": 3})
	assert.NotEqual(t, id, sibling)
	assert.Len(t, volumes(env.Fake), 2)
}

// Volume names are not unique: with two unowned candidates, which one is
// this resource's cannot be told, and the create says so rather than guess
// or add a third.
func TestCreateRefusesToGuessBetweenLeftovers(t *testing.T) {
	t.Parallel()
	env := setup(t)
	a, b := leftVolume(t, env), leftVolume(t, env)
	check, err := env.Server.Check(p.CheckRequest{Urn: flytest.URN(token), Inputs: inputs(nil)})
	require.NoError(t, err)
	_, err = env.Server.Create(p.CreateRequest{Urn: flytest.URN(token), Properties: check.Inputs})
	require.Error(t, err)
	for _, want := range []string{a, b, "fly volumes destroy", "pulumi import flyio:index:Volume"} {
		assert.Contains(t, err.Error(), want)
	}
	assert.Len(t, volumes(env.Fake), 2)
}
