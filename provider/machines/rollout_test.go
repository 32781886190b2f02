package machines_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/provider/flyfake"
)

func strategy(kind string, maxUnavailable int, waitTimeout string) map[string]any {
	return map[string]any{
		"strategy":    map[string]any{"type": kind, "maxUnavailable": maxUnavailable},
		"waitTimeout": waitTimeout,
	}
}

func with(a, b map[string]any) map[string]any {
	out := maps.Clone(a)
	maps.Copy(out, b)
	return out
}

func TestReleaseCommandRunsFirst(t *testing.T) {
	g := newGroup(t, flyfake.Options{})
	in := func(image string) map[string]any {
		return args(image, map[string]any{"releaseCommand": []any{"/app/emothe migrate --yes"}})
	}
	g.mustUp(in("nginx:1"))
	g.env.Fake.ResetCalls()
	g.mustUp(in("nginx:2"))

	var ops []string
	for _, c := range g.env.Fake.Calls().Log {
		if c.Write {
			ops = append(ops, c.Operation)
		}
	}
	firstUpdate := slices.Index(ops, "Machines_update")
	require.GreaterOrEqual(t, firstUpdate, 0)
	assert.Equal(t, "Machines_create", ops[0], "the release command's machine comes first")
	assert.NotContains(t, ops, "Machines_start", "its create launches it")
	assert.NotContains(t, ops[2:firstUpdate], "Machines_create", "no other machine before the release command")

	releases := func() []flyfake.MachineState {
		var out []flyfake.MachineState
		for _, a := range g.env.Fake.State().Apps {
			for _, m := range a.Machines {
				if (*m.Config.Metadata)["fly_process_group"] == "fly_app_release_command" {
					out = append(out, m)
				}
			}
		}
		return out
	}
	require.Len(t, releases(), 2, "one release command per rollout")
	m := releases()[1]
	assert.Equal(t, "destroyed", m.State, "it destroys itself")
	assert.Equal(t, "nginx:2", *m.Config.Image)
	assert.Equal(t, []string{"/app/emothe", "migrate", "--yes"}, *m.Config.Init.Cmd)
	assert.Equal(t, "no", string(*m.Config.Restart.Policy))
	assert.True(t, *m.Config.AutoDestroy)
	assert.True(t, *m.Config.Dns.SkipRegistration)
	assert.Equal(t, "1", (*m.Config.Env)["RELEASE_COMMAND"])
	assert.Equal(t, "info", (*m.Config.Env)["LOG_LEVEL"], "with the app's env")
	assert.Equal(t, "ams", m.Region, "in the primary region")
	assert.Equal(t, "v2", (*m.Config.Metadata)["fly_platform_version"])

	// Scaling out what is already deployed is no release.
	g.mustUp(with(in("nginx:2"), map[string]any{"countPerRegion": 3}))
	assert.Len(t, g.machines(), 6)
	assert.Len(t, releases(), 2, "no release command for a scale-out")
}

// A failing release command aborts the rollout with its exit code, and the
// old image keeps serving everywhere.
func TestReleaseCommandFailureAbortsRollout(t *testing.T) {
	g := newGroup(t, flyfake.Options{})
	in := func(image string) map[string]any {
		return args(image, map[string]any{"releaseCommand": []any{"/app/emothe", "migrate"}})
	}
	g.mustUp(in("nginx:1"))
	before := g.machines()
	require.NoError(t, g.env.Fake.SetFaults(flyfake.Faults{ReleaseExitCode: 3}))

	_, err := g.up(in("nginx:2"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "exited with code 3")
	assert.Contains(t, err.Error(), "fly logs -a web -i ")
	assert.Contains(t, err.Error(), "no machine changed")
	assert.Equal(t, []string{"nginx:1"}, g.images())
	for id, m := range g.machines() {
		assert.Equal(t, before[id].Version, m.Version, "machine %s untouched", id)
		assert.Equal(t, "started", m.State, "machine %s still serving", id)
	}
	assert.Len(t, g.machines(), 4, "no release command machine left behind")
}

// bluegreenIn is a bluegreen group of two machines in one region, without
// the pauses for Fly's proxy.
func bluegreenIn(image string) map[string]any {
	s := strategy("bluegreen", 1, "1m")
	maps.Copy(s["strategy"].(map[string]any), map[string]any{"waitBeforeCordon": "0s", "waitBeforeStop": "0s"})
	return with(args(image, map[string]any{"regions": []any{"ams"}}), s)
}

// Bluegreen through the provider; TestBluegreenPhasesAsFlyctl proves its
// order and waits, which are left out here to spare the wall clock.
func TestBluegreen(t *testing.T) {
	g := newGroup(t, flyfake.Options{})
	g.mustUp(bluegreenIn("nginx:1"))
	blue := g.machines()

	g.mustUp(bluegreenIn("nginx:2"))
	green := g.machines()
	assert.Len(t, green, 2)
	for id, m := range green {
		assert.NotContains(t, blue, id, "new machines")
		assert.Equal(t, "nginx:2", *m.Config.Image)
		assert.False(t, m.Cordoned, "green machine %s takes traffic", id)
	}
	g.env.AssertNoDrift(t, token, g.id, g.inputs, g.state)
}

// A create whose response is lost is found by its idempotency key, not
// launched twice.
func TestDroppedCreateLeavesExactlyN(t *testing.T) {
	g := newGroup(t, flyfake.Options{Faults: flyfake.Faults{DropRate: 1, Operations: []string{"Machines_create"}}})
	g.mustUp(args("nginx:1", nil))
	dropped := 0
	for _, c := range g.env.Fake.Calls().Log {
		if c.Dropped {
			dropped++
		}
	}
	assert.Equal(t, 4, dropped, "every create lost its response")
	assert.Equal(t, map[string]int{"ams": 2, "cdg": 2}, g.byRegion(), "exactly N machines")
	assert.Len(t, stateMachines(g.state), 4)
}

// With a fifth of all calls failing transiently, create and update still
// converge: no duplicate machine, none orphaned outside the state.
func TestTransientFaultsConverge(t *testing.T) {
	g := newGroup(t, flyfake.Options{Seed: 42, Faults: flyfake.Faults{TransientRate: 0.2}})
	in := func(image string) map[string]any {
		return args(image, map[string]any{"releaseCommand": []any{"migrate"}})
	}
	for _, image := range []string{"nginx:1", "nginx:2"} {
		g.mustUp(in(image))
		assert.Equal(t, map[string]int{"ams": 2, "cdg": 2}, g.byRegion(), image)
		assert.Equal(t, []string{image}, g.images())
		var inState []string
		for _, m := range stateMachines(g.state) {
			inState = append(inState, m.Get("id").AsString())
		}
		assert.ElementsMatch(t, slices.Collect(maps.Keys(g.machines())), inState, "state holds every live machine")
	}
	assert.Positive(t, g.env.Fake.Calls().Operations["Machines_create"])
}
