package machines_test

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/provider/flyapi"
	"github.com/emothe/emothe/provider/flyfake"
)

// An engine killed during a group's create never records it; the next `up`
// creates the group again, from the machines Fly already runs: none is
// launched twice, and no release command runs again.
func TestCreateAfterAnInterruptedCreateAdoptsTheMachines(t *testing.T) {
	g := newGroup(t, flyfake.Options{})
	in := args("nginx:1", map[string]any{"releaseCommand": []any{"migrate"}})
	g.mustUp(in)
	before := slices.Sorted(maps.Keys(g.machines()))

	again := &group{t: t, env: g.env} // the state lost the create
	again.mustUp(in)
	assert.Equal(t, before, slices.Sorted(maps.Keys(again.machines())), "the same machines, none added")
	assert.Zero(t, g.env.Fake.Calls().Writes, "adopting writes nothing: %v", g.env.Fake.Calls().Operations)
	assert.Len(t, stateMachines(again.state), len(before), "the state holds every machine")
}

// A release command machine a killed run created but never started (or
// left behind otherwise) is no machine of any state: the next rollout
// destroys it before it runs its own, so the app holds only the group.
func TestReleaseLeftoverOfAKilledRunIsDestroyed(t *testing.T) {
	g := newGroup(t, flyfake.Options{})
	in := func(image string) map[string]any {
		return args(image, map[string]any{"releaseCommand": []any{"migrate"}})
	}
	g.mustUp(in("nginx:1"))
	left, err := g.env.Client.CreateMachine(t.Context(), appName, flyapi.CreateMachineRequest{
		Region:     new("ams"),
		SkipLaunch: new(true),
		Config: &flyapi.FlyMachineConfig{
			Image:       new("nginx:2"),
			AutoDestroy: new(true),
			Metadata: &map[string]string{
				"fly_platform_version": "v2", "fly_process_group": "fly_app_release_command",
				"fly_flyctl_version": "pulumi-resource-flyio",
			},
		},
	}, "killed-run")
	require.NoError(t, err)
	foreign, err := g.env.Client.CreateMachine(t.Context(), appName, flyapi.CreateMachineRequest{
		Region:     new("ams"),
		SkipLaunch: new(true),
		Config: &flyapi.FlyMachineConfig{
			Image:    new("nginx:2"),
			Metadata: &map[string]string{"fly_process_group": "fly_app_release_command", "fly_flyctl_version": "v0.3.0"},
		},
	}, "flyctl")
	require.NoError(t, err)

	g.mustUp(in("nginx:2"))
	live := g.machines()
	assert.NotContains(t, live, *left.Id, "the leftover is destroyed")
	assert.Contains(t, live, *foreign.Id, "flyctl's is not ours to destroy")
	delete(live, *foreign.Id)
	assert.Len(t, live, 4, "only the group's machines")
	for id, m := range live {
		assert.Equal(t, "nginx:2", *m.Config.Image, id)
	}
}

// A bluegreen rollout killed after it launched its green machines (out of
// traffic) and before it retired the blue ones: the next `up` keeps the
// green machines, puts them into traffic, and only then retires the blue
// ones as bluegreen does (cordon, stop, destroy), so the group never runs
// with no machine serving.
func TestInterruptedBluegreenFinishesWithTheGreenMachinesServing(t *testing.T) {
	g := newGroup(t, flyfake.Options{})
	g.mustUp(bluegreenIn("nginx:1"))
	blue := g.machines()

	var green []string // what the killed rollout launched: the new config, cordoned
	for _, m := range blue {
		var cfg flyapi.FlyMachineConfig // the fake's type, as the client's
		raw, err := json.Marshal(m.Config)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(raw, &cfg))
		cfg.Image = new("nginx:2")
		meta := maps.Clone(*cfg.Metadata)
		meta["fly_bluegreen_deployment_tag"] = "killed"
		cfg.Metadata = &meta
		got, err := g.env.Client.CreateMachine(t.Context(), appName, flyapi.CreateMachineRequest{
			Region: new(m.Region), Config: &cfg, SkipServiceRegistration: new(true),
		}, "killed-"+m.ID)
		require.NoError(t, err)
		green = append(green, *got.Id)
	}

	g.mustUp(bluegreenIn("nginx:2"))
	ops := g.env.Fake.Calls().Operations
	assert.Equal(t, len(blue), ops["Machines_cordon"], "the old machines leave traffic first: %v", ops)
	assert.Equal(t, len(blue), ops["Machines_stop"], "and stop gracefully: %v", ops)
	assert.Equal(t, 0, ops["Machines_create"], "no machine launched again: %v", ops)
	live := g.machines()
	assert.ElementsMatch(t, green, slices.Collect(maps.Keys(live)), "the green machines, none launched again")
	for id, m := range live {
		assert.False(t, m.Cordoned, "green machine %s takes traffic", id)
	}
	g.env.AssertNoDrift(t, token, g.id, g.inputs, g.state)
}
