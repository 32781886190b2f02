package app_test

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
	"github.com/emothe/emothe/provider/internal/flytest"
)

const token = "flyio:index:App"

func apps(f *flyfake.Fake) map[string]flyfake.AppState {
	out := map[string]flyfake.AppState{}
	for _, a := range f.State().Apps {
		out[a.Name] = a
	}
	return out
}

// refreshAndImport asserts that a refresh right after the operation shows no
// drift and that importing by name yields the same state.
func refreshAndImport(t *testing.T, env *flytest.Env, inputs, out property.Map) {
	t.Helper()
	id := flytest.Plain(out, "name")
	env.AssertNoDrift(t, token, id, inputs, out)
	imported := env.Read(t, token, id, property.Map{}, property.Map{})
	assert.Equal(t, id, imported.ID)
	flytest.AssertEqual(t, out, imported.Properties, "import by name")
	flytest.AssertEqual(t, inputs, imported.Inputs, "imported inputs")
}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	env := flytest.New(t, flyfake.Options{})
	integration.LifeCycleTest{
		Resource: tokens.Type(token),
		Create: integration.Operation{
			Inputs: flytest.Props(map[string]any{"name": "emothe-web"}),
			Hook: func(inputs, out property.Map) {
				assert.Equal(t, "personal", flytest.Plain(out, "org"), "org defaults to the provider's")
				assert.Equal(t, "emothe-web.fly.dev", flytest.Plain(out, "hostname"))
				assert.Equal(t, "pending", flytest.Plain(out, "status"))
				assert.NotEmpty(t, flytest.Plain(out, "appId"))
				assert.Equal(t, "personal", apps(env.Fake)["emothe-web"].Org)
				refreshAndImport(t, env, inputs, out)
			},
		},
		Updates: []integration.Operation{
			{ // Same name on another network: the old app must go first.
				Inputs: flytest.Props(map[string]any{"name": "emothe-web", "network": "isolated"}),
				Hook: func(inputs, out property.Map) {
					got := apps(env.Fake)
					assert.Len(t, got, 1)
					assert.Equal(t, "isolated", got["emothe-web"].Network)
					refreshAndImport(t, env, inputs, out)
				},
			},
			{ // A new name: create first, then delete the old one.
				Inputs: flytest.Props(map[string]any{"name": "emothe-www", "network": "isolated", "org": "theatre"}),
				Hook: func(inputs, out property.Map) {
					assert.Contains(t, apps(env.Fake), "emothe-www")
					refreshAndImport(t, env, inputs, out)
				},
			},
		},
	}.Run(t, env.Server)
	assert.Empty(t, apps(env.Fake), "the lifecycle deletes the app")
}

func TestDiffReplacesAndDeletesFirstOnlyWhenTheNameStays(t *testing.T) {
	t.Parallel()
	env := flytest.New(t, flyfake.Options{})
	id, inputs, out := env.Create(t, token, map[string]any{"name": "emothe-web"})
	diff := func(news map[string]any) p.DiffResponse {
		check, err := env.Server.Check(p.CheckRequest{Urn: flytest.URN(token), State: inputs, Inputs: flytest.Props(news)})
		require.NoError(t, err)
		d, err := env.Server.Diff(p.DiffRequest{ID: id, Urn: flytest.URN(token), State: out, OldInputs: inputs, Inputs: check.Inputs})
		require.NoError(t, err)
		return d
	}
	same := diff(map[string]any{"name": "emothe-web"})
	assert.False(t, same.HasChanges)

	org := diff(map[string]any{"name": "emothe-web", "org": "theatre"})
	assert.Equal(t, p.UpdateReplace, org.DetailedDiff["org"].Kind)
	assert.True(t, org.DeleteBeforeReplace, "app names are global")

	renamed := diff(map[string]any{"name": "emothe-www"})
	assert.Equal(t, p.UpdateReplace, renamed.DetailedDiff["name"].Kind)
	assert.False(t, renamed.DeleteBeforeReplace)
}

func TestPreviewCallsNothingAndLeavesOutputsUnknown(t *testing.T) {
	t.Parallel()
	env := flytest.New(t, flyfake.Options{})
	out := env.AssertPreviewSilent(t, token, map[string]any{"name": "emothe-web"})
	for _, k := range []string{"appId", "status", "hostname"} {
		assert.True(t, out.Get(k).IsComputed(), "%s should be unknown in preview", k)
	}
	assert.Equal(t, "emothe-web", flytest.Plain(out, "name"))
}

func TestBadNameFailsCheck(t *testing.T) {
	t.Parallel()
	env := flytest.New(t, flyfake.Options{})
	failures := env.Failures(t, token, map[string]any{"name": "Emothe_Web"})
	assert.Contains(t, failures["name"], `"Emothe_Web"`)
	assert.Contains(t, failures["name"], "lower-case letters, digits and dashes")
}

// A create that Fly carried out but whose answer died with the killed
// engine leaves an empty app that the state does not hold; the next create
// adopts it rather than failing on name_taken.
func TestCreateAdoptsTheEmptyAppAnInterruptedCreateLeft(t *testing.T) {
	t.Parallel()
	env := flytest.New(t, flyfake.Options{})
	left, err := env.Client.CreateApp(t.Context(), flyapi.CreateAppRequest{Name: new("emothe-web"), OrgSlug: new("personal")})
	require.NoError(t, err)

	id, _, out := env.Create(t, token, map[string]any{"name": "emothe-web"})
	assert.Equal(t, "emothe-web", id)
	assert.Equal(t, *left.Id, flytest.Plain(out, "appId"), "the app the interrupted create made")
	assert.Len(t, apps(env.Fake), 1)
}

// An app of that name that holds anything is not what an interrupted create
// leaves: the create fails, naming the setting and the fixes.
func TestNameTakenByAnAppInUseSaysSo(t *testing.T) {
	t.Parallel()
	env := flytest.New(t, flyfake.Options{})
	_, err := env.Client.CreateApp(t.Context(), flyapi.CreateAppRequest{Name: new("emothe-web"), OrgSlug: new("personal")})
	require.NoError(t, err)
	_, err = env.Client.AssignIP(t.Context(), "emothe-web", flyapi.AssignIPRequest{Type: new("v6")})
	require.NoError(t, err)
	check, err := env.Server.Check(p.CheckRequest{Urn: flytest.URN(token), Inputs: flytest.Props(map[string]any{"name": "emothe-web"})})
	require.NoError(t, err)
	_, err = env.Server.Create(p.CreateRequest{Urn: flytest.URN(token), Properties: check.Inputs})
	require.Error(t, err)
	for _, want := range []string{"name_taken", "1 IP address(es)", "emothe:appName", "pulumi import flyio:index:App"} {
		assert.Contains(t, err.Error(), want)
	}
}

func TestGoneAppIsDeletedAndReadAsGone(t *testing.T) {
	t.Parallel()
	env := flytest.New(t, flyfake.Options{})
	id, inputs, out := env.Create(t, token, map[string]any{"name": "emothe-web"})
	require.NoError(t, env.Client.DeleteApp(t.Context(), id))

	read := env.Read(t, token, id, inputs, out)
	assert.Empty(t, read.ID, "refresh drops an app deleted outside Pulumi")
	assert.NoError(t, env.Server.Delete(p.DeleteRequest{ID: id, Urn: flytest.URN(token), Properties: out}))
}
