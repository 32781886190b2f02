package volume_test

import (
	"testing"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/integration"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/provider/flyapi"
	"github.com/emothe/emothe/provider/flyfake"
	"github.com/emothe/emothe/provider/flyfake/api"
	"github.com/emothe/emothe/provider/internal/flytest"
)

const token = "flyio:index:Volume"

func setup(t *testing.T) *flytest.Env {
	t.Helper()
	env := flytest.New(t, flyfake.Options{})
	_, err := env.Client.CreateApp(t.Context(), flyapi.CreateAppRequest{Name: new("web"), OrgSlug: new("personal")})
	require.NoError(t, err)
	return env
}

func volumes(f *flyfake.Fake) map[string]api.Volume {
	out := map[string]api.Volume{}
	for _, a := range f.State().Apps {
		for _, v := range a.Volumes {
			out[*v.Id] = v
		}
	}
	return out
}

func inputs(extra map[string]any) property.Map {
	m := map[string]any{"app": "web", "name": "data", "region": "ams", "sizeGb": 3}
	for k, v := range extra {
		m[k] = v
	}
	return flytest.Props(m)
}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	env := setup(t)
	var firstID string
	// refreshAndImport asserts no drift after the operation and that an
	// import by `<app>/<volume ID>` reads the same volume.
	refreshAndImport := func(in, out property.Map) {
		id := flytest.Plain(out, "volumeId")
		env.AssertNoDrift(t, token, id, in, out)
		imported := env.Read(t, token, "web/"+id, property.Map{}, property.Map{})
		assert.Equal(t, id, imported.ID, "import canonicalises the ID to Fly's")
		flytest.AssertEqual(t, out, imported.Properties, "imported state")
	}
	integration.LifeCycleTest{
		Resource: tokens.Type(token),
		Create: integration.Operation{
			Inputs: inputs(nil),
			Hook: func(in, out property.Map) {
				firstID = flytest.Plain(out, "volumeId")
				v := volumes(env.Fake)[firstID]
				require.NotNil(t, v.Id, "volume in the fake")
				assert.True(t, *v.Encrypted, "encrypted by default")
				assert.Equal(t, 5, *v.SnapshotRetention, "5 days of snapshots by default")
				assert.True(t, *v.AutoBackupEnabled, "daily backups by default")
				assert.Equal(t, "ams", flytest.Plain(out, "region"))
				refreshAndImport(in, out)
			},
		},
		Updates: []integration.Operation{
			{ // Grow: extended in place.
				Inputs: inputs(map[string]any{"sizeGb": 10}),
				Hook: func(in, out property.Map) {
					assert.Equal(t, firstID, flytest.Plain(out, "volumeId"), "extended in place")
					assert.Equal(t, 10, *volumes(env.Fake)[firstID].SizeGb)
					assert.False(t, out.Get("needsRestart").AsBool())
					refreshAndImport(in, out)
				},
			},
			{ // Snapshot settings: updated in place.
				Inputs: inputs(map[string]any{"sizeGb": 10, "snapshotRetention": 14, "autoBackupEnabled": false}),
				Hook: func(in, out property.Map) {
					v := volumes(env.Fake)[firstID]
					assert.Equal(t, 14, *v.SnapshotRetention)
					assert.False(t, *v.AutoBackupEnabled)
					refreshAndImport(in, out)
				},
			},
			{ // Another region: a new volume (the old one is deleted next).
				Inputs: inputs(map[string]any{"sizeGb": 10, "region": "fra"}),
				Hook: func(in, out property.Map) {
					id := flytest.Plain(out, "volumeId")
					assert.NotEqual(t, firstID, id)
					assert.Equal(t, "fra", *volumes(env.Fake)[id].Region)
					refreshAndImport(in, out)
				},
			},
		},
	}.Run(t, env.Server)
	assert.Empty(t, volumes(env.Fake), "the replaced and the final volume are deleted")
}

func TestShrinkingIsAnErrorThatSaysWhy(t *testing.T) {
	t.Parallel()
	env := setup(t)
	id, in, out := env.Create(t, token, map[string]any{"app": "web", "name": "data", "region": "ams", "sizeGb": 10})
	check, err := env.Server.Check(p.CheckRequest{Urn: flytest.URN(token), State: in, Inputs: inputs(map[string]any{"sizeGb": 5})})
	require.NoError(t, err)
	_, err = env.Server.Diff(p.DiffRequest{ID: id, Urn: flytest.URN(token), State: out, OldInputs: in, Inputs: check.Inputs})
	require.Error(t, err)
	for _, want := range []string{"sizeGb 5", "current 10 GB", "never shrink", "10 or more"} {
		assert.Contains(t, err.Error(), want)
	}
	// A shrink that comes with a replacement is just a new, smaller volume.
	check, err = env.Server.Check(p.CheckRequest{Urn: flytest.URN(token), State: in, Inputs: inputs(map[string]any{"sizeGb": 5, "region": "fra"})})
	require.NoError(t, err)
	d, err := env.Server.Diff(p.DiffRequest{ID: id, Urn: flytest.URN(token), State: out, OldInputs: in, Inputs: check.Inputs})
	require.NoError(t, err)
	assert.Equal(t, p.UpdateReplace, d.DetailedDiff["region"].Kind)
}

func TestUpdatePreviewCallsNothingAndKeepsTheIDKnown(t *testing.T) {
	t.Parallel()
	env := setup(t)
	out := env.AssertPreviewSilent(t, token, map[string]any{"app": "web", "name": "data", "region": "ams", "sizeGb": 3})
	assert.True(t, out.Get("volumeId").IsComputed())

	id, in, state := env.Create(t, token, map[string]any{"app": "web", "name": "data", "region": "ams", "sizeGb": 3})
	check, err := env.Server.Check(p.CheckRequest{Urn: flytest.URN(token), State: in, Inputs: inputs(map[string]any{"snapshotRetention": 9})})
	require.NoError(t, err)
	env.Fake.ResetCalls()
	preview, err := env.Server.Update(p.UpdateRequest{ID: id, Urn: flytest.URN(token), State: state, OldInputs: in, Inputs: check.Inputs, DryRun: true})
	require.NoError(t, err)
	flytest.AssertNoCalls(t, env.Fake, "preview of an update")
	assert.Equal(t, id, flytest.Plain(preview.Properties, "volumeId"), "a retention change cannot change the ID")
	assert.Equal(t, 9.0, preview.Properties.Get("snapshotRetention").AsNumber())
}

func TestBadInputsFailCheck(t *testing.T) {
	t.Parallel()
	env := setup(t)
	failures := env.Failures(t, token, map[string]any{
		"app": "web", "name": "my-data", "region": "amsterdam", "sizeGb": 0, "snapshotRetention": 90,
	})
	assert.Contains(t, failures["name"], `"my-data"`)
	assert.Contains(t, failures["region"], `"amsterdam"`)
	assert.Contains(t, failures["sizeGb"], "1 to 500")
	assert.Contains(t, failures["snapshotRetention"], "1 to 60")
}

func TestImportIDMustNameTheApp(t *testing.T) {
	t.Parallel()
	env := setup(t)
	_, err := env.Server.Read(p.ReadRequest{ID: "vol_123", Urn: flytest.URN(token)})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"my-app/vol_123"`)
}

func TestGoneVolumeIsDeletedAndReadAsGone(t *testing.T) {
	t.Parallel()
	env := setup(t)
	id, in, out := env.Create(t, token, map[string]any{"app": "web", "name": "data", "region": "ams", "sizeGb": 3})
	require.NoError(t, env.Client.DeleteVolume(t.Context(), "web", id))
	assert.Empty(t, env.Read(t, token, id, in, out).ID)
	assert.NoError(t, env.Server.Delete(p.DeleteRequest{ID: id, Urn: flytest.URN(token), Properties: out}))
}
