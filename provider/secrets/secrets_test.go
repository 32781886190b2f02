package secrets_test

import (
	"context"
	"maps"
	"slices"
	"testing"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/integration"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/provider/fly"
	"github.com/emothe/emothe/provider/flyapi"
	"github.com/emothe/emothe/provider/flyfake"
	"github.com/emothe/emothe/provider/internal/flytest"
)

const token = "flyio:index:AppSecrets"

func setup(t *testing.T, apps ...string) *flytest.Env {
	t.Helper()
	env := flytest.New(t, flyfake.Options{})
	for _, app := range apps {
		_, err := env.Client.CreateApp(t.Context(), flyapi.CreateAppRequest{Name: new(app), OrgSlug: new("personal")})
		require.NoError(t, err)
	}
	return env
}

// fakeSecrets returns the app's secret names and version as the fake holds them.
func fakeSecrets(t *testing.T, f *flyfake.Fake, app string) ([]string, uint64) {
	t.Helper()
	for _, a := range f.State().Apps {
		if a.Name == app {
			return slices.Sorted(maps.Keys(a.Secrets.Digests)), a.Secrets.Version
		}
	}
	t.Fatalf("app %s not in the fake", app)
	return nil, 0
}

func version(out property.Map) int { return int(out.Get("version").AsNumber()) }

func TestLifecycle(t *testing.T) {
	t.Parallel()
	env := setup(t, "web", "www")
	var lastVersion int
	integration.LifeCycleTest{
		Resource: tokens.Type(token),
		Create: integration.Operation{
			Inputs: flytest.Props(map[string]any{"app": "web", "values": map[string]any{"DATABASE_URL": "postgres://a", "API_KEY": "k1"}}),
			Hook: func(inputs, out property.Map) {
				names, v := fakeSecrets(t, env.Fake, "web")
				assert.Equal(t, []string{"API_KEY", "DATABASE_URL"}, names)
				assert.Equal(t, int(v), version(out), "version is the app's secrets version")
				flytest.AssertSecret(t, out, "digests")
				assert.NotContains(t, out.Get("digests").GoString(), "postgres://a", "state holds digests, never values")
				_, hasValues := out.GetOk("values")
				assert.False(t, hasValues, "values are not copied to the outputs")
				env.AssertNoDrift(t, token, "web", inputs, out)
				lastVersion = version(out)
			},
		},
		Updates: []integration.Operation{
			{ // Change one value, drop one, add one: one write and one DELETE.
				Inputs: flytest.Props(map[string]any{"app": "web", "values": map[string]any{"DATABASE_URL": "postgres://b", "SMTP_PASSWORD": "s"}}),
				Hook: func(inputs, out property.Map) {
					names, _ := fakeSecrets(t, env.Fake, "web")
					assert.Equal(t, []string{"DATABASE_URL", "SMTP_PASSWORD"}, names)
					assert.Greater(t, version(out), lastVersion, "a write bumps the version")
					env.AssertNoDrift(t, token, "web", inputs, out)
				},
			},
			{ // Another app: replaced, the old app's secrets removed.
				Inputs: flytest.Props(map[string]any{"app": "www", "values": map[string]any{"DATABASE_URL": "postgres://b"}}),
				Hook: func(_, out property.Map) {
					names, _ := fakeSecrets(t, env.Fake, "www")
					assert.Equal(t, []string{"DATABASE_URL"}, names)
				},
			},
		},
	}.Run(t, env.Server)
	web, _ := fakeSecrets(t, env.Fake, "web")
	www, _ := fakeSecrets(t, env.Fake, "www")
	assert.Empty(t, web, "replaced: secrets unset")
	assert.Empty(t, www, "deleted: secrets unset")
}

func TestUpdateWritesChangedKeysOnceAndDeletesRemovedOnes(t *testing.T) {
	t.Parallel()
	env := setup(t, "web")
	id, inputs, out := env.Create(t, token, map[string]any{"app": "web", "values": map[string]any{"A": "1", "B": "2", "C": "3"}})
	check, err := env.Server.Check(p.CheckRequest{Urn: flytest.URN(token), State: inputs,
		Inputs: flytest.Props(map[string]any{"app": "web", "values": map[string]any{"A": "1", "B": "20", "D": "4"}})})
	require.NoError(t, err)

	d, err := env.Server.Diff(p.DiffRequest{ID: id, Urn: flytest.URN(token), State: out, OldInputs: inputs, Inputs: check.Inputs})
	require.NoError(t, err)
	assert.Equal(t, map[string]p.PropertyDiff{
		"values.B": {Kind: p.Update, InputDiff: true},
		"values.C": {Kind: p.Delete, InputDiff: true},
		"values.D": {Kind: p.Add, InputDiff: true},
	}, d.DetailedDiff, "unchanged A is not in the diff")

	env.Fake.ResetCalls()
	preview, err := env.Server.Update(p.UpdateRequest{ID: id, Urn: flytest.URN(token), State: out, OldInputs: inputs, Inputs: check.Inputs, DryRun: true})
	require.NoError(t, err)
	flytest.AssertNoCalls(t, env.Fake, "preview of an update")
	assert.True(t, preview.Properties.Get("version").IsComputed(),
		"the new version is unknown in preview, so the machines consuming it show their roll")

	same, err := env.Server.Update(p.UpdateRequest{ID: id, Urn: flytest.URN(token), State: out, OldInputs: inputs, Inputs: inputs, DryRun: true})
	require.NoError(t, err)
	assert.Equal(t, version(out), version(same.Properties), "unchanged values keep the version known")

	_, err = env.Server.Update(p.UpdateRequest{ID: id, Urn: flytest.URN(token), State: out, OldInputs: inputs, Inputs: check.Inputs})
	require.NoError(t, err)
	ops := env.Fake.Calls().Operations
	assert.Equal(t, 1, ops["Secrets_update"], "changed keys are set in one call")
	assert.Equal(t, 1, ops["Secret_delete"], "removed keys are unset")
	names, _ := fakeSecrets(t, env.Fake, "web")
	assert.Equal(t, []string{"A", "B", "D"}, names)
}

// goneKeys answers unsets as the client does when Fly answers 404 (the key
// is gone already): no version. The fake answers 200 there.
type goneKeys struct{ fly.Client }

func (goneKeys) UnsetSecret(context.Context, string, string) (int, error) { return 0, nil }

// An unset that reports no version must not take the recorded version, which
// machines boot with at least, back to 0.
func TestVersionNeverDecreases(t *testing.T) {
	t.Parallel()
	env := flytest.NewWrapped(t, flyfake.Options{}, func(c fly.Client) fly.Client { return goneKeys{c} })
	_, err := env.Client.CreateApp(t.Context(), flyapi.CreateAppRequest{Name: new("web"), OrgSlug: new("personal")})
	require.NoError(t, err)
	id, inputs, out := env.Create(t, token, map[string]any{"app": "web", "values": map[string]any{"A": "1", "B": "2"}})
	require.Positive(t, version(out))

	check, err := env.Server.Check(p.CheckRequest{Urn: flytest.URN(token), State: inputs,
		Inputs: flytest.Props(map[string]any{"app": "web", "values": map[string]any{"A": "1"}})})
	require.NoError(t, err)
	updated, err := env.Server.Update(p.UpdateRequest{ID: id, Urn: flytest.URN(token), State: out, OldInputs: inputs, Inputs: check.Inputs})
	require.NoError(t, err)
	assert.Equal(t, version(out), version(updated.Properties))
}

// Fly's digests cannot be compared with ours, so refresh compares key sets:
// a key removed outside Pulumi is set again, one added is removed.
func TestRefreshDetectsKeysChangedOutsidePulumi(t *testing.T) {
	t.Parallel()
	env := setup(t, "web")
	id, inputs, out := env.Create(t, token, map[string]any{"app": "web", "values": map[string]any{"A": "1", "B": "2"}})
	_, err := env.Client.UnsetSecret(t.Context(), "web", "A")
	require.NoError(t, err)
	_, err = env.Client.SetSecrets(t.Context(), "web", map[string]*string{"STRAY": new("x")})
	require.NoError(t, err)

	read := env.Read(t, token, id, inputs, out)
	assert.Equal(t, []string{"B", "STRAY"}, flytest.Strings(read.Properties, "keys"))
	d, err := env.Server.Diff(p.DiffRequest{ID: id, Urn: flytest.URN(token), State: read.Properties, OldInputs: read.Inputs, Inputs: inputs})
	require.NoError(t, err)
	assert.Equal(t, p.Add, d.DetailedDiff["values.A"].Kind)
	assert.Equal(t, p.Delete, d.DetailedDiff["values.STRAY"].Kind)

	_, err = env.Server.Update(p.UpdateRequest{ID: id, Urn: flytest.URN(token), State: read.Properties, OldInputs: read.Inputs, Inputs: inputs})
	require.NoError(t, err)
	names, _ := fakeSecrets(t, env.Fake, "web")
	assert.Equal(t, []string{"A", "B"}, names)
}

func TestCreateRefusesSecretsItWouldSilentlyAdopt(t *testing.T) {
	t.Parallel()
	env := setup(t, "web")
	_, err := env.Client.SetSecrets(t.Context(), "web", map[string]*string{"SET_BY_HAND": new("x")})
	require.NoError(t, err)
	check, err := env.Server.Check(p.CheckRequest{Urn: flytest.URN(token), Inputs: flytest.Props(map[string]any{"app": "web", "values": map[string]any{"A": "1"}})})
	require.NoError(t, err)
	_, err = env.Server.Create(p.CreateRequest{Urn: flytest.URN(token), Properties: check.Inputs})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"SET_BY_HAND"`)
	assert.Contains(t, err.Error(), "pulumi import flyio:index:AppSecrets")
	names, _ := fakeSecrets(t, env.Fake, "web")
	assert.Equal(t, []string{"SET_BY_HAND"}, names, "nothing written")
}

// Import adopts the key set; values cannot be read back, so the first up
// writes them all once, after which there is no diff.
func TestImportByAppThenFirstUpWritesEveryValue(t *testing.T) {
	t.Parallel()
	env := setup(t, "web")
	_, err := env.Client.SetSecrets(t.Context(), "web", map[string]*string{"A": new("1"), "B": new("2")})
	require.NoError(t, err)

	imported := env.Read(t, token, "web", property.Map{}, property.Map{})
	assert.Equal(t, "web", imported.ID)
	assert.Equal(t, []string{"A", "B"}, flytest.Strings(imported.Properties, "keys"))
	flytest.AssertSecret(t, imported.Properties, "digests")

	program := flytest.Props(map[string]any{"app": "web", "values": map[string]any{"A": "1", "B": "2"}})
	check, err := env.Server.Check(p.CheckRequest{Urn: flytest.URN(token), State: imported.Inputs, Inputs: program})
	require.NoError(t, err)
	d, err := env.Server.Diff(p.DiffRequest{ID: "web", Urn: flytest.URN(token), State: imported.Properties, OldInputs: imported.Inputs, Inputs: check.Inputs})
	require.NoError(t, err)
	assert.Equal(t, p.Update, d.DetailedDiff["values.A"].Kind)
	assert.Equal(t, p.Update, d.DetailedDiff["values.B"].Kind)

	updated, err := env.Server.Update(p.UpdateRequest{ID: "web", Urn: flytest.URN(token), State: imported.Properties, OldInputs: imported.Inputs, Inputs: check.Inputs})
	require.NoError(t, err)
	env.AssertNoDrift(t, token, "web", check.Inputs, updated.Properties)
}

func TestPreviewCallsNothing(t *testing.T) {
	t.Parallel()
	env := setup(t, "web")
	out := env.AssertPreviewSilent(t, token, map[string]any{"app": "web", "values": map[string]any{"A": "1"}})
	assert.True(t, out.Get("version").IsComputed())
}

func TestBadSecretNameFailsCheck(t *testing.T) {
	t.Parallel()
	env := setup(t)
	failures := env.Failures(t, token, map[string]any{"app": "web", "values": map[string]any{"1BAD-NAME": "x"}})
	assert.Contains(t, failures["values"], `"1BAD-NAME"`)
	assert.NotContains(t, failures["values"], `"x"`, "values never appear in errors")
}

func TestDeleteToleratesAGoneApp(t *testing.T) {
	t.Parallel()
	env := setup(t, "web")
	id, _, out := env.Create(t, token, map[string]any{"app": "web", "values": map[string]any{"A": "1"}})
	require.NoError(t, env.Client.DeleteApp(t.Context(), "web"))
	assert.NoError(t, env.Server.Delete(p.DeleteRequest{ID: id, Urn: flytest.URN(token), Properties: out}))
}
