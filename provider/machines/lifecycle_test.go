package machines_test

import (
	"maps"
	"slices"
	"testing"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/provider/flyapi"
	"github.com/emothe/emothe/provider/flyfake"
	"github.com/emothe/emothe/provider/internal/flytest"
)

func TestLifecycle(t *testing.T) {
	g := newGroup(t, flyfake.Options{})

	// Preview: no API call, unknown machines.
	preview := g.env.AssertPreviewSilent(t, token, args("nginx:1", nil))
	assert.True(t, preview.Get("machines").IsComputed(), "machines are unknown in a preview")

	g.mustUp(args("nginx:1", nil))
	assert.Equal(t, map[string]int{"ams": 2, "cdg": 2}, g.byRegion())
	for id, m := range g.machines() {
		meta, env := *m.Config.Metadata, *m.Config.Env
		assert.Equal(t, "v2", meta["fly_platform_version"], id)
		assert.Equal(t, "app", meta["fly_process_group"], id)
		assert.Equal(t, "1", meta["fly_release_version"], id)
		assert.NotEmpty(t, meta["fly_release_id"], id)
		assert.Equal(t, "pulumi-resource-flyio", meta["fly_flyctl_version"], "%s: the deployer, where flyctl puts its version", id)
		assert.Equal(t, "app", env["FLY_PROCESS_GROUP"], id)
		assert.Equal(t, "ams", env["PRIMARY_REGION"], id)
		assert.Equal(t, "info", env["LOG_LEVEL"], id)
		assert.Equal(t, "started", m.State, id)
	}
	assert.Equal(t, "web/app", g.id)
	assert.Len(t, stateMachines(g.state), 4)
	assert.Equal(t, 1.0, g.state.Get("releaseVersion").AsNumber())
	assert.Equal(t, "nginx:1", g.state.Get("image").AsString())
	g.env.AssertNoDrift(t, token, g.id, g.inputs, g.state)

	// Import by <app>/<processGroup> reads the same group.
	imported := g.env.Read(t, token, "web/app", property.Map{}, property.Map{})
	assert.Equal(t, "web/app", imported.ID)
	flytest.AssertEqual(t, g.state, imported.Properties, "imported state")

	// An unchanged program: no diff, and even a forced update writes nothing.
	d := g.mustUp(args("nginx:1", nil))
	assert.False(t, d.HasChanges, "diff of an unchanged program: %v", d.DetailedDiff)
	g.env.Fake.ResetCalls()
	_, err := g.env.Server.Update(p.UpdateRequest{ID: g.id, Urn: flytest.URN(token), State: g.state, Inputs: g.inputs, OldInputs: g.inputs})
	require.NoError(t, err)
	assert.Zero(t, g.env.Fake.Calls().Writes, "an unchanged group makes no API writes: %v", g.env.Fake.Calls().Operations)

	// A new image updates every machine in place.
	before := g.machines()
	d = g.mustUp(args("nginx:2", nil))
	assert.Contains(t, d.DetailedDiff, "config.image")
	for k, v := range d.DetailedDiff {
		assert.Equal(t, p.Update, v.Kind, "%s: never a replace", k)
	}
	after := g.machines()
	assert.ElementsMatch(t, slices.Collect(maps.Keys(before)), slices.Collect(maps.Keys(after)), "same machines, updated in place")
	for id, m := range after {
		assert.Equal(t, "nginx:2", *m.Config.Image, id)
		assert.NotEqual(t, before[id].Version, m.Version, "%s runs a new version", id)
		assert.Equal(t, "2", (*m.Config.Metadata)["fly_release_version"], id)
	}
	assert.Equal(t, 2.0, g.state.Get("releaseVersion").AsNumber())
	g.env.AssertNoDrift(t, token, g.id, g.inputs, g.state)

	// Swapping cdg for fra replaces only cdg's machines.
	before = g.machines()
	d = g.mustUp(args("nginx:2", map[string]any{"regions": []any{"ams", "fra"}}))
	assert.Equal(t, p.Update, d.DetailedDiff["regions"].Kind)
	after = g.machines()
	assert.Equal(t, map[string]int{"ams": 2, "fra": 2}, g.byRegion())
	for id, m := range before {
		if m.Region == "ams" {
			assert.Equal(t, m.Version, after[id].Version, "ams machine %s untouched", id)
		} else {
			assert.NotContains(t, after, id, "cdg machine %s destroyed", id)
		}
	}

	// Count up, then down: only machines are added or removed.
	before = g.machines()
	g.mustUp(args("nginx:2", map[string]any{"regions": []any{"ams", "fra"}, "countPerRegion": 3}))
	assert.Equal(t, map[string]int{"ams": 3, "fra": 3}, g.byRegion())
	for id, m := range before {
		assert.Equal(t, m.Version, g.machines()[id].Version, "%s untouched by scaling up", id)
	}
	g.mustUp(args("nginx:2", map[string]any{"regions": []any{"ams", "fra"}, "countPerRegion": 1}))
	assert.Equal(t, map[string]int{"ams": 1, "fra": 1}, g.byRegion())
	g.env.AssertNoDrift(t, token, g.id, g.inputs, g.state)

	// Delete destroys every machine of the group.
	require.NoError(t, g.env.Server.Delete(p.DeleteRequest{ID: g.id, Urn: flytest.URN(token), Properties: g.state}))
	assert.Empty(t, g.machines())
	read := g.env.Read(t, token, g.id, g.inputs, g.state)
	assert.Empty(t, read.ID, "a deleted group reads as gone")
}

// A new secrets version rolls every machine even though nothing else changed.
func TestSecretsVersionRollsMachines(t *testing.T) {
	g := newGroup(t, flyfake.Options{})
	g.mustUp(args("nginx:1", nil))
	before := g.machines()
	version, err := g.env.Client.SetSecrets(t.Context(), appName, map[string]*string{"DATABASE_URL": new("postgres://db")})
	require.NoError(t, err)

	d := g.mustUp(args("nginx:1", map[string]any{"minSecretsVersion": version}))
	assert.Contains(t, d.DetailedDiff, "minSecretsVersion")
	for id, m := range g.machines() {
		assert.NotEqual(t, before[id].Version, m.Version, "%s rebooted with the new secrets", id)
		assert.Equal(t, version, m.MinSecretsVersion, id)
	}
	g.env.AssertNoDrift(t, token, g.id, g.inputs, g.state)
	imported := g.env.Read(t, token, g.id, property.Map{}, property.Map{})
	assert.Equal(t, float64(version), imported.Inputs.Get("minSecretsVersion").AsNumber(), "import recovers the secrets version")
}

// A machine changed outside Pulumi shows up on refresh and the next up
// puts it back, touching no other machine.
func TestDriftIsRepaired(t *testing.T) {
	g := newGroup(t, flyfake.Options{})
	g.mustUp(args("nginx:1", map[string]any{"regions": []any{"ams"}}))
	ids := slices.Sorted(maps.Keys(g.machines()))
	drifted, other := ids[0], ids[1]

	m, err := g.env.Client.GetMachine(t.Context(), appName, drifted)
	require.NoError(t, err)
	cfg := *m.Config
	env := maps.Clone(*cfg.Env)
	env["LOG_LEVEL"] = "debug"
	cfg.Env = &env
	_, err = g.env.Client.UpdateMachine(t.Context(), appName, drifted, "", flyapi.UpdateMachineRequest{Config: &cfg})
	require.NoError(t, err)

	g.refresh()
	d := g.mustUp(args("nginx:1", map[string]any{"regions": []any{"ams"}}))
	assert.True(t, d.HasChanges, "refresh saw the drift")
	assert.Contains(t, d.DetailedDiff, "machines")
	otherVersion := g.machines()[other].Version
	assert.Equal(t, "info", (*g.machines()[drifted].Config.Env)["LOG_LEVEL"], "drift repaired")
	assert.Equal(t, otherVersion, g.machines()[other].Version, "the other machine was left alone")
	g.env.AssertNoDrift(t, token, g.id, g.inputs, g.state)
}

// Volumes: a new mount path updates in place; a new volume replaces.
func TestVolumes(t *testing.T) {
	g := newGroup(t, flyfake.Options{})
	for _, name := range []string{"data", "data", "logs", "logs"} {
		_, err := g.env.Client.CreateVolume(t.Context(), appName, flyapi.CreateVolumeRequest{
			Name: new(name), Region: new("ams"), SizeGb: new(1),
		})
		require.NoError(t, err)
	}
	withMount := func(volume, path string) map[string]any {
		in := args("nginx:1", map[string]any{"regions": []any{"ams"}})
		in["config"].(map[string]any)["mounts"] = []any{map[string]any{"volume": volume, "path": path}}
		return in
	}
	g.mustUp(withMount("data", "/data"))
	before := g.machines()
	require.Len(t, before, 2)
	vols := map[string]bool{}
	for _, m := range stateMachines(g.state) {
		vols[m.Get("volume").AsString()] = true
		assert.Equal(t, "data", m.Get("volumeName").AsString())
	}
	assert.Len(t, vols, 2, "each machine mounts its own volume")

	g.mustUp(withMount("data", "/srv/data"))
	for id, m := range g.machines() {
		require.Contains(t, before, id, "a path change keeps the machines")
		assert.Equal(t, "/srv/data", *(*m.Config.Mounts)[0].Path)
	}

	g.mustUp(withMount("logs", "/srv/data"))
	for id, m := range g.machines() {
		assert.NotContains(t, before, id, "a new volume replaces machine %s", id)
		assert.Equal(t, "logs", *(*m.Config.Mounts)[0].Name)
	}
	assert.Len(t, g.machines(), 2)
	g.env.AssertNoDrift(t, token, g.id, g.inputs, g.state)
}

// A rollout that fails part-way records the machines as they are, so the
// next up finishes the job.
func TestFailedCreateKeepsWhatItMade(t *testing.T) {
	g := newGroup(t, flyfake.Options{Faults: flyfake.Faults{NoCapacityRegions: []string{"cdg"}}})
	_, err := g.up(args("nginx:1", nil))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "insufficient")
	assert.Contains(t, err.Error(), "region cdg has no capacity", "names the region, and the fixes")
	assert.Contains(t, err.Error(), "emothe:primaryRegion")
	assert.Equal(t, map[string]int{"ams": 2}, g.byRegion(), "ams machines stay")

	require.NoError(t, g.env.Fake.SetFaults(flyfake.Faults{}))
	read := g.env.Read(t, token, "web/app", property.Map{}, property.Map{})
	g.id, g.inputs, g.state = read.ID, read.Inputs, read.Properties
	g.mustUp(args("nginx:1", nil))
	assert.Equal(t, map[string]int{"ams": 2, "cdg": 2}, g.byRegion())
}
