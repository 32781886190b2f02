package machines

import (
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/provider/flyfake"
)

// A create that finds machines an interrupted create launched waits for
// them as their launch would have. Healthy ones cost no write; one that
// never gets healthy is destroyed rather than taken for a good one, the
// create fails naming it, and the next up launches it again.
func TestAdoptedMachinesAreWaitedFor(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, flyfake.Options{})
		in := rolling("nginx:1", "1m").normalize()
		b.mustUp(in) // what the interrupted create launched
		say := func(string, ...any) {}

		b.reset()
		waited, err := readyAdopted(t.Context(), b.client, in, b.appMachines(), say)
		require.NoError(t, err)
		assert.True(t, waited)
		for _, r := range b.calls(nil) {
			assert.Contains(t, []string{"list", "wait started", "get"}, r.op, "a ready machine costs reads only")
		}

		require.NoError(t, b.fake.SetFaults(flyfake.Faults{UnhealthyChecks: true}))
		_, err = readyAdopted(t.Context(), b.client, in, b.appMachines(), say)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "is not healthy")
		assert.Empty(t, b.machines(), "no unready machine is kept")

		require.NoError(t, b.fake.SetFaults(flyfake.Faults{}))
		b.mustUp(in)
		assert.Equal(t, map[string]int{"nginx:1": 4}, b.images())
	})
}
