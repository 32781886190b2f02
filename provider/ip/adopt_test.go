package ip_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/provider/flyapi"
)

// An address a killed run assigned but never recorded is adopted, for the
// dedicated kinds (an app's shared IPv4 is one, which Fly answers again).
func TestCreateAdoptsTheAddressAnInterruptedCreateLeft(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"v6", "v4", "private_v6", "shared_v4"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			env := setup(t)
			left, err := env.Client.AssignIP(t.Context(), "web", flyapi.AssignIPRequest{Type: new(kind)})
			require.NoError(t, err)

			id, _, _ := env.Create(t, token, map[string]any{"app": "web", "type": kind})
			assert.Equal(t, *left.Ip, id)
			assert.Len(t, ips(env.Fake), 1, "no duplicate")
		})
	}
}

// A second address of one kind in the same run is a sibling, not a leftover.
func TestCreateNeverAdoptsASiblingsAddress(t *testing.T) {
	t.Parallel()
	env := setup(t)
	first, _, _ := env.Create(t, token, map[string]any{"app": "web", "type": "v6"})
	second, _, _ := env.Create(t, token, map[string]any{"app": "web", "type": "v6"})
	assert.NotEqual(t, first, second)
	assert.Len(t, ips(env.Fake), 2)
}
