package config_test

import (
	"context"
	"errors"
	"testing"

	"github.com/blang/semver"
	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/integration"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/provider"
	"github.com/emothe/emothe/provider/config"
	"github.com/emothe/emothe/provider/fly"
	"github.com/emothe/emothe/provider/internal/flytest"
)

const appToken = "flyio:index:App"

// Without a token, preview works and anything that calls Fly fails with an
// error that says how to get one.
func TestMissingTokenFailsOnlyWhenFlyIsCalled(t *testing.T) {
	t.Setenv(config.EnvToken, "")
	server := flytest.NewServer(t, map[string]string{"apiUrl": "http://127.0.0.1:9"})
	check, err := server.Check(p.CheckRequest{Urn: flytest.URN(appToken), Inputs: flytest.Props(map[string]any{"name": "my-app"})})
	require.NoError(t, err)
	require.Empty(t, check.Failures)

	_, err = server.Create(p.CreateRequest{Urn: flytest.URN(appToken), Properties: check.Inputs, DryRun: true})
	require.NoError(t, err, "preview needs no token")

	_, err = server.Create(p.CreateRequest{Urn: flytest.URN(appToken), Properties: check.Inputs})
	require.ErrorIs(t, err, config.ErrNoToken)
	for _, want := range []string{"flyio:token", config.EnvToken, "fly tokens create deploy"} {
		assert.Contains(t, err.Error(), want)
	}
	_, err = server.Read(p.ReadRequest{ID: "my-app", Urn: flytest.URN(appToken)})
	assert.ErrorIs(t, err, config.ErrNoToken, "refresh and import need the API too")
}

// The environment stands in for unset settings, and resources build their
// client from the result through the provider's factory, token as printed.
func TestEnvironmentDefaultsReachTheClient(t *testing.T) {
	t.Setenv(config.EnvToken, "FlyV1 fm2_from_env")
	t.Setenv(config.EnvAPIURL, "http://127.0.0.1:4280")
	var got config.Config
	server := flytest.NewServerWith(t, func(_ context.Context, c config.Config) (fly.Client, error) {
		got = c
		return nil, errors.New("no client in this test")
	}, nil)
	_, err := server.Read(p.ReadRequest{ID: "my-app", Urn: flytest.URN(appToken)})
	require.ErrorContains(t, err, "no client in this test")
	assert.Equal(t, "FlyV1 fm2_from_env", got.Token)
	assert.Equal(t, "http://127.0.0.1:4280", got.APIURL)
	assert.Equal(t, config.DefaultOrg, got.Org)

	// The checked config keeps the token secret.
	checked, err := server.CheckConfig(p.CheckRequest{Urn: flytest.URN("pulumi:providers:flyio")})
	require.NoError(t, err)
	token := checked.Inputs.Get("token")
	assert.True(t, token.Secret(), "token from the environment must be secret")
	assert.Equal(t, config.DefaultOrg, checked.Inputs.Get("org").AsString())
}

// configure configures a provider with args as given, defaults not applied.
func configure(t *testing.T, args map[string]any) error {
	t.Helper()
	prov, err := provider.Provider()
	require.NoError(t, err)
	server, err := integration.NewServer(t.Context(), provider.Name, semver.MustParse("1.0.0"), integration.WithProvider(prov))
	require.NoError(t, err)
	return server.Configure(p.ConfigureRequest{Args: flytest.Props(args)})
}

// A token that cannot be sent fails when the provider is configured, once,
// not in each resource operation.
func TestBadTokenFailsInConfigure(t *testing.T) {
	t.Parallel()
	err := configure(t, map[string]any{"token": "fm2_a fm2_b", "apiUrl": "http://127.0.0.1:9"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "flyio:token")
	assert.NotContains(t, err.Error(), "fm2_a")
}

func TestBadAPIURLNamesTheSetting(t *testing.T) {
	t.Parallel()
	err := configure(t, map[string]any{"token": "fm2_x", "apiUrl": "api.machines.dev"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "flyio:apiUrl")
	assert.Contains(t, err.Error(), `"api.machines.dev"`)
	assert.NotContains(t, err.Error(), "fm2_x")
}

// Rotating the token (or changing the API URL or default org) must not
// replace the provider, which would replace every resource it manages.
func TestConfigChangesNeverReplaceTheProvider(t *testing.T) {
	t.Parallel()
	server := flytest.NewServer(t, map[string]string{"token": "fm2_old", "apiUrl": "http://127.0.0.1:9"})
	olds := flytest.Props(map[string]any{"token": "fm2_old", "apiUrl": "http://127.0.0.1:9", "org": "personal"})
	news := flytest.Props(map[string]any{"token": "fm2_new", "apiUrl": "http://127.0.0.1:10", "org": "theatre"})
	d, err := server.DiffConfig(p.DiffRequest{Urn: flytest.URN("pulumi:providers:flyio"), State: olds, OldInputs: olds, Inputs: news})
	require.NoError(t, err)
	assert.True(t, d.HasChanges)
	for _, k := range []string{"token", "apiUrl", "org"} {
		assert.Equal(t, p.Update, d.DetailedDiff[k].Kind, k)
	}
	same, err := server.DiffConfig(p.DiffRequest{Urn: flytest.URN("pulumi:providers:flyio"), State: olds, OldInputs: olds, Inputs: olds})
	require.NoError(t, err)
	assert.False(t, same.HasChanges)
}
