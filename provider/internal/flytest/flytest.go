// Package flytest runs the flyio provider in-process, through
// pulumi-go-provider's integration server, against the in-repo fake of the
// Fly API: the harness of every resource's lifecycle tests.
package flytest

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/blang/semver"
	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/integration"
	presource "github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/provider"
	"github.com/emothe/emothe/provider/config"
	"github.com/emothe/emothe/provider/fly"
	"github.com/emothe/emothe/provider/flyfake"
)

// Env is one provider configured against one fake.
type Env struct {
	Fake   *flyfake.Fake
	Server integration.Server
	// Client talks to the fake directly, for setup and for changes made
	// "outside Pulumi".
	Client fly.Client
}

// New starts a fake with opts and a provider configured to use it. At the
// end of the test it fails on any request that broke a strict reading of
// Fly's API spec, even one Fly (and so the fake) serves: the project's client
// keeps to the spec. It fails too on any answer of the fake that broke it.
func New(t *testing.T, opts flyfake.Options) *Env {
	t.Helper()
	return NewWrapped(t, opts, nil)
}

// NewWrapped is New with the provider's Fly client passed through wrap, so a
// test can make chosen calls fail.
func NewWrapped(t *testing.T, opts flyfake.Options, wrap func(fly.Client) fly.Client) *Env {
	t.Helper()
	fake := flyfake.New(opts)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		assert.Empty(t, fake.Violations(), "requests that break a strict reading of Fly's API spec")
		assert.Empty(t, fake.ResponseViolations(), "answers of the fake that break Fly's API spec")
	})

	server := NewServerWith(t, Factory(wrap), map[string]string{"token": fake.Token(), "apiUrl": srv.URL})

	client, err := fly.New(fly.Config{Token: fake.Token(), BaseURL: srv.URL})
	require.NoError(t, err)
	return &Env{Fake: fake, Server: server, Client: client}
}

// Factory builds the provider's clients to poll at a fake's (millisecond)
// pace, passed through wrap when it is not nil.
func Factory(wrap func(fly.Client) fly.Client) config.Factory {
	return func(_ context.Context, c config.Config) (fly.Client, error) {
		client, err := fly.New(fly.Config{Token: c.Token, BaseURL: c.APIURL,
			PollInterval: 5 * time.Millisecond, RetryInitialInterval: time.Millisecond})
		if err != nil || wrap == nil {
			return client, err
		}
		return wrap(client), nil
	}
}

// NewServer returns the provider configured with cfg, the way the engine
// does it: CheckConfig (which applies defaults) then Configure.
func NewServer(t *testing.T, cfg map[string]string) integration.Server {
	t.Helper()
	return NewServerWith(t, config.FlyClient, cfg)
}

// NewServerWith is NewServer with the provider's Fly clients built by factory.
func NewServerWith(t testing.TB, factory config.Factory, cfg map[string]string) integration.Server {
	t.Helper()
	prov, err := provider.New(factory)
	require.NoError(t, err)
	server, err := integration.NewServer(t.Context(), provider.Name, semver.MustParse("1.0.0"), integration.WithProvider(prov))
	require.NoError(t, err)
	args := map[string]any{}
	for k, v := range cfg {
		args[k] = v
	}
	checked, err := server.CheckConfig(p.CheckRequest{Urn: URN("pulumi:providers:flyio"), Inputs: Props(args)})
	require.NoError(t, err)
	require.Empty(t, checked.Failures)
	require.NoError(t, server.Configure(p.ConfigureRequest{Args: checked.Inputs}))
	return server
}

// URN names a test resource of type token.
func URN(token string) presource.URN {
	return presource.NewURN("test", "flyio", "", tokens.Type(token), "test")
}

// Props builds a property map from plain Go values (strings, numbers,
// bools, slices and maps of them).
func Props(m map[string]any) property.Map {
	return presource.FromResourcePropertyValue(presource.NewProperty(presource.NewPropertyMapFromMap(m))).AsMap()
}

// Create checks inputs and creates the resource, failing the test on any
// error or check failure.
func (e *Env) Create(t *testing.T, token string, inputs map[string]any) (id string, checked, outputs property.Map) {
	t.Helper()
	check, err := e.Server.Check(p.CheckRequest{Urn: URN(token), Inputs: Props(inputs)})
	require.NoError(t, err)
	require.Empty(t, check.Failures)
	created, err := e.Server.Create(p.CreateRequest{Urn: URN(token), Properties: check.Inputs})
	require.NoError(t, err)
	return created.ID, check.Inputs, created.Properties
}

// Failures returns the check failures of inputs, by property.
func (e *Env) Failures(t *testing.T, token string, inputs map[string]any) map[string]string {
	t.Helper()
	check, err := e.Server.Check(p.CheckRequest{Urn: URN(token), Inputs: Props(inputs)})
	require.NoError(t, err)
	out := map[string]string{}
	for _, f := range check.Failures {
		out[f.Property] = f.Reason
	}
	return out
}

// Read reads the resource as a refresh does (with state) or, when state is
// empty, as an import does (the ID alone).
func (e *Env) Read(t *testing.T, token, id string, inputs, state property.Map) p.ReadResponse {
	t.Helper()
	resp, err := e.Server.Read(p.ReadRequest{ID: id, Urn: URN(token), Properties: state, Inputs: inputs})
	require.NoError(t, err)
	return resp
}

// AssertNoDrift refreshes the resource and asserts that neither its inputs
// nor its state changed, and that a diff against the same inputs is empty.
func (e *Env) AssertNoDrift(t *testing.T, token, id string, inputs, state property.Map) {
	t.Helper()
	read := e.Read(t, token, id, inputs, state)
	assert.Equal(t, id, read.ID, "refresh changed the ID")
	AssertEqual(t, inputs, read.Inputs, "refresh changed the inputs")
	AssertEqual(t, state, read.Properties, "refresh changed the state")
	d, err := e.Server.Diff(p.DiffRequest{ID: id, Urn: URN(token), State: read.Properties, Inputs: inputs, OldInputs: read.Inputs})
	require.NoError(t, err)
	assert.False(t, d.HasChanges, "diff after refresh: %v", d.DetailedDiff)
}

// AssertPreviewSilent previews the creation of inputs and asserts it made
// no API call at all. It returns the previewed outputs.
func (e *Env) AssertPreviewSilent(t *testing.T, token string, inputs map[string]any) property.Map {
	t.Helper()
	e.Fake.ResetCalls()
	check, err := e.Server.Check(p.CheckRequest{Urn: URN(token), Inputs: Props(inputs)})
	require.NoError(t, err)
	require.Empty(t, check.Failures)
	preview, err := e.Server.Create(p.CreateRequest{Urn: URN(token), Properties: check.Inputs, DryRun: true})
	require.NoError(t, err)
	AssertNoCalls(t, e.Fake, "preview of a create")
	return preview.Properties
}

// AssertNoCalls asserts the fake saw no request since its calls were reset.
func AssertNoCalls(t *testing.T, fake *flyfake.Fake, during string) {
	t.Helper()
	calls := fake.Calls()
	assert.Zero(t, calls.Reads+calls.Writes, "%s called the Fly API: %v", during, calls.Operations)
}

// AssertEqual compares property maps semantically (secretness included).
func AssertEqual(t *testing.T, want, got property.Map, msg string) {
	t.Helper()
	assert.True(t, want.Equals(got), "%s:\nwant %#v\ngot  %#v", msg, want, got)
}

// AssertSecret asserts that the property key of m is a known secret.
func AssertSecret(t *testing.T, m property.Map, key string) {
	t.Helper()
	v, ok := m.GetOk(key)
	if assert.True(t, ok, "no property %q", key) {
		assert.True(t, v.Secret(), "property %q is not secret", key)
	}
}

// Plain returns a property's string value, looking through secretness.
func Plain(m property.Map, key string) string {
	v := m.Get(key)
	if v.IsString() {
		return v.AsString()
	}
	return ""
}

// Strings returns a property's string list, looking through secretness.
func Strings(m property.Map, key string) []string {
	v := m.Get(key)
	if !v.IsArray() {
		return nil
	}
	var out []string
	for _, e := range v.AsArray().All {
		out = append(out, e.AsString())
	}
	return out
}
