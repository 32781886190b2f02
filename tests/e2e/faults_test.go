package e2e

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/provider/flyfake"
	"github.com/emothe/emothe/tests/e2e/harness"
)

// With a fifth of Fly's answers failing transiently, and some writes done
// but their answers lost, `up` of the dev stack still converges to exactly
// the inventory a clean run leaves: no duplicate or orphaned machine,
// volume or IP, and a clean preview afterwards shows no changes.
func TestUpConvergesThroughFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: the Pulumi CLI and the provider against the Fly fake")
	}
	opts := testFake
	opts.Seed = 20
	opts.Faults = flyfake.Faults{TransientRate: 0.2, DropRate: 0.05}
	env := harness.New(t, opts)
	s := env.Stack(t, "dev", map[string]string{"emothe:image": image1}, newSecrets().config())
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(s.Transcript())
		}
	})

	s.Up(t)
	require.NoError(t, env.Fake.SetFaults(flyfake.Faults{}))
	var failed, dropped int
	for _, c := range env.Fake.Calls().Log {
		if c.Dropped {
			dropped++
		} else if c.Status >= 500 {
			failed++
		}
	}
	require.Positive(t, failed, "the fake failed calls")
	require.Positive(t, dropped, "the fake dropped answers")
	t.Logf("converged through %d failed calls and %d dropped answers", failed, dropped)
	st := env.Fake.State()
	require.ElementsMatch(t, []string{"emothe-dev", "emothe-dev-db"}, appNames(st))
	app, db := appOf(t, st, "emothe-dev"), appOf(t, st, "emothe-dev-db")
	assert.Len(t, live(app, groupApp), 1, "app machines")
	assert.Len(t, live(db, groupApp), 1, "database machines")
	assert.Len(t, db.Volumes, 1, "volumes")
	assert.ElementsMatch(t, []string{"shared_v4", "v6"}, ipTypes(app), "IPs")
	assert.Empty(t, db.IPs)

	noChanges(t, env, s)
}
