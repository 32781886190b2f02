package stackctl

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/infra/compose"
	"github.com/emothe/emothe/infra/fly"
)

// flyConfig is a protected Fly stack's configuration, pinned to an image in
// Fly's registry.
func flyConfig(extra ...string) auto.ConfigMap {
	cfg := auto.ConfigMap{
		"emothe:backend":         {Value: "fly"},
		"emothe:appName":         {Value: "emothe-dev"},
		"emothe:image":           {Value: "registry.fly.io/emothe-dev@sha256:" + sixtyFour},
		"emothe:protectDatabase": {Value: "true"},
		"emothe:primaryRegion":   {Value: "cdg"},
	}
	for i := 0; i+1 < len(extra); i += 2 {
		cfg[extra[i]] = auto.ConfigValue{Value: extra[i+1]}
	}
	return cfg
}

const sixtyFour = "1111111111111111111111111111111111111111111111111111111111111111"

func TestPlanSwitchRefusesBadInputNamingTheFix(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   auto.ConfigMap
		to    string
		force bool
		want  []string
	}{
		{"no TO", flyConfig(), "", false, []string{"TO is empty", "make switch STACK=dev TO=fly|compose"}},
		{"not a backend", flyConfig(), "kubernetes", false, []string{`TO="kubernetes" is not a backend`, "fly or compose"}},
		{"the same backend", flyConfig(), "fly", false, []string{"already runs on fly (emothe:backend = fly)", "make up STACK=dev"}},
		{"the default backend", flyConfig("emothe:backend", ""), "fly", false, []string{"already runs on fly"}},
		{"unprotected", flyConfig("emothe:protectDatabase", "false"), "compose", false, []string{
			"emothe:protectDatabase is false", "would delete the old database on fly",
			"pulumi config set emothe:protectDatabase true --stack dev", "FORCE=1",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := PlanSwitch("dev", tc.cfg, tc.to, tc.force)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "nothing was changed")
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestPlanSwitchToCompose(t *testing.T) {
	cfg := flyConfig("emothe:postgresImage", "registry.fly.io/pg@sha256:"+sixtyFour)
	p, err := PlanSwitch("dev", cfg, "compose", false)
	require.NoError(t, err)
	assert.True(t, p.Keep)
	assert.Equal(t, auto.ConfigMap{"emothe:backend": {Value: "compose"}}, p.Set)
	assert.ElementsMatch(t, []string{"emothe:image", "emothe:postgresImage"}, p.Remove, "Fly's registry is Fly's alone")
	next := p.Config(cfg)
	assert.Equal(t, "cdg", next["emothe:primaryRegion"].Value, "Fly's own settings stay for a switch back")
	assert.NotContains(t, next, "emothe:image")

	set, remove := p.Undo(cfg)
	assert.Empty(t, remove)
	assert.Equal(t, cfg["emothe:image"], set["emothe:image"])
	assert.Equal(t, "fly", set["emothe:backend"].Value)
}

func TestPlanSwitchKeepsWhatStillApplies(t *testing.T) {
	// An image another registry holds runs on both; an unprotected stack
	// switches when forced, and production always keeps its database.
	cfg := flyConfig("emothe:image", "ghcr.io/acme/emothe@sha256:"+sixtyFour, "emothe:protectDatabase", "false")
	p, err := PlanSwitch("dev", cfg, "compose", true)
	require.NoError(t, err)
	assert.Empty(t, p.Remove)
	assert.False(t, p.Keep)

	p, err = PlanSwitch("dev", flyConfig("emothe:protectDatabase", "", "emothe:environment", "production"), "compose", false)
	require.NoError(t, err)
	assert.True(t, p.Keep)

	back := auto.ConfigMap{"emothe:backend": {Value: "compose"}, "emothe:image": {Value: "sha256:" + sixtyFour}, "emothe:protectDatabase": {Value: "true"}}
	p, err = PlanSwitch("dev", back, "fly", false)
	require.NoError(t, err)
	assert.Equal(t, []string{"emothe:image"}, p.Remove, "an image ID exists only on its Docker host")
}

func TestRemovalCommands(t *testing.T) {
	kept := []stateResource{
		{URN: "urn:pulumi:dev::emothe::x$flyio:index:App::emothe-dev-db", Type: "flyio:index:App", ID: "emothe-dev-db"},
		{URN: "urn:pulumi:dev::emothe::x$flyio:index:Volume::emothe-dev-db-data", Type: "flyio:index:Volume", ID: "vol_1"},
		{URN: "urn:pulumi:dev::emothe::x$flyio:index:ManagedPostgres::emothe-dev-db", Type: "flyio:index:ManagedPostgres", ID: "mpg1"},
		{URN: "urn:pulumi:dev::emothe::x$docker:index:Volume::emothe-dev_pgdata", Type: "docker:index/volume:Volume", ID: "emothe-dev_pgdata"},
	}
	assert.Equal(t, []string{
		"fly apps destroy emothe-dev-db --yes",
		"fly mpg destroy mpg1 --yes",
		"docker --host ssh://deploy@h volume rm emothe-dev_pgdata",
	}, removal(kept, map[string]string{"dockerHost": "ssh://deploy@h"}))
}

func TestProtectionSaysWhatItDoesOnTheNewBackend(t *testing.T) {
	assert.Equal(t, "emothe:protectDatabase is true: on compose, make destroy is not refused; it keeps the database's data and backup volumes and removes everything else",
		protection(compose.Platform, true, false))
	assert.Equal(t, "emothe:environment is production: on fly, the database is protected and make destroy is refused (docs/fly.md#destroy takes the stack down keeping it)",
		protection(fly.Platform, false, true))
	assert.Equal(t, "emothe:protectDatabase is false: on fly, make destroy deletes the database with everything else", protection(fly.Platform, false, false))
}

// A refused switch changes neither the configuration nor the state.
func TestSwitchRefusalChangesNothing(t *testing.T) {
	st := devWith(t, "emothe:appName: emothe-dev", "emothe:protectDatabase: \"false\"")
	ctx := context.Background()
	file := filepath.Join(st.Workspace().WorkDir(), "Pulumi.dev.yaml")
	config, err := os.ReadFile(file)
	require.NoError(t, err)
	state, err := st.Export(ctx)
	require.NoError(t, err)

	var out bytes.Buffer
	err = Switch(ctx, st, SwitchOptions{To: "compose", Out: &out})
	require.ErrorContains(t, err, "emothe:protectDatabase is false")
	assert.Empty(t, out.String())
	now, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.Equal(t, string(config), string(now))
	after, err := st.Export(ctx)
	require.NoError(t, err)
	assert.JSONEq(t, string(state.Deployment), string(after.Deployment))
}

// The new backend's configuration is checked, and a stack with nothing
// deployed has no data to move: both refused before anything changes.
func TestSwitchRefusesWhatCannotRunOrMove(t *testing.T) {
	ctx := context.Background()
	st := devWith(t, "emothe:appName: emothe-dev", "emothe:protectDatabase: \"true\"", "emothe:domain: emothe.example.org")
	file := filepath.Join(st.Workspace().WorkDir(), "Pulumi.dev.yaml")
	before, err := os.ReadFile(file)
	require.NoError(t, err)

	err = Switch(ctx, st, SwitchOptions{To: "compose"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the configuration the switch would write is refused")
	assert.Contains(t, err.Error(), "emothe:acmeEmail")
	assert.Contains(t, err.Error(), "nothing was changed")

	require.NoError(t, st.SetConfig(ctx, "emothe:acmeEmail", auto.ConfigValue{Value: "ops@example.org"}))
	err = Switch(ctx, st, SwitchOptions{To: "compose"})
	require.ErrorContains(t, err, "nothing is deployed, so there is no data to move")
	require.NoError(t, st.RemoveConfig(ctx, "emothe:acmeEmail"))
	after, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.Equal(t, string(before), string(after))
}

// A stack that builds its image would build it on the new backend under the
// same name; the switch refuses that up front, and only that.
func TestSharedBuildIsFoundOnlyWithoutAPin(t *testing.T) {
	build := stateResource{URN: "urn:pulumi:dev::emothe::emothe:index:Deployment$docker:index/image:Image::emothe-dev-image", Type: builtImage}
	app := stateResource{URN: "urn:pulumi:dev::emothe::flyio:index:App::emothe-dev", Type: "flyio:index:App"}
	built := map[string]stateResource{build.URN: build, app.URN: app}

	unpinned := flyConfig()
	delete(unpinned, "emothe:image")
	got, ok := sharedBuild(built, unpinned)
	require.True(t, ok, "a build in the state and none pinned after the switch")
	assert.Equal(t, "emothe-dev-image", got.name())

	_, ok = sharedBuild(built, flyConfig())
	assert.False(t, ok, "the new side runs a pinned image: it builds nothing")
	_, ok = sharedBuild(map[string]stateResource{app.URN: app}, unpinned)
	assert.False(t, ok, "the old side runs a pinned image: nothing to hand over")
}
