package ip_test

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

const token = "flyio:index:IPAddress"

func setup(t *testing.T) *flytest.Env {
	t.Helper()
	env := flytest.New(t, flyfake.Options{})
	_, err := env.Client.CreateApp(t.Context(), flyapi.CreateAppRequest{Name: new("web"), OrgSlug: new("personal")})
	require.NoError(t, err)
	return env
}

func ips(f *flyfake.Fake) map[string]flyfake.IPState {
	out := map[string]flyfake.IPState{}
	for _, a := range f.State().Apps {
		for _, ip := range a.IPs {
			out[ip.IP] = ip
		}
	}
	return out
}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	env := setup(t)
	// check asserts the address is the ID, is assigned with the right type,
	// refreshes without drift and imports by `<app>/<address>`.
	check := func(kind string) func(in, out property.Map) {
		return func(in, out property.Map) {
			addr := flytest.Plain(out, "address")
			assert.Equal(t, kind, ips(env.Fake)[addr].Type)
			env.AssertNoDrift(t, token, addr, in, out)
			imported := env.Read(t, token, "web/"+addr, property.Map{}, property.Map{})
			assert.Equal(t, addr, imported.ID)
			assert.Equal(t, kind, flytest.Plain(imported.Inputs, "type"), "import tells the type from the address")
		}
	}
	integration.LifeCycleTest{
		Resource: tokens.Type(token),
		Create: integration.Operation{
			Inputs: flytest.Props(map[string]any{"app": "web", "type": "v6"}),
			Hook:   check("v6"),
		},
		Updates: []integration.Operation{
			{Inputs: flytest.Props(map[string]any{"app": "web", "type": "shared_v4"}), Hook: check("shared_v4")},
			{Inputs: flytest.Props(map[string]any{"app": "web", "type": "v4", "region": "ams"}), Hook: check("v4")},
			{Inputs: flytest.Props(map[string]any{"app": "web", "type": "private_v6", "serviceName": "db"}), Hook: check("private_v6")},
		},
	}.Run(t, env.Server)
	assert.Empty(t, ips(env.Fake), "every replaced address and the last one are released")
}

func TestIDIsTheAddress(t *testing.T) {
	t.Parallel()
	env := setup(t)
	id, _, out := env.Create(t, token, map[string]any{"app": "web", "type": "v6"})
	assert.Equal(t, flytest.Plain(out, "address"), id)
	assert.Contains(t, ips(env.Fake), id)
}

// The old providers failed with "Could not find IPAssignment" here.
func TestReleasingAnAlreadyReleasedAddressSucceeds(t *testing.T) {
	t.Parallel()
	env := setup(t)
	id, in, out := env.Create(t, token, map[string]any{"app": "web", "type": "v4"})
	require.NoError(t, env.Client.ReleaseIP(t.Context(), "web", id))
	assert.Empty(t, env.Read(t, token, id, in, out).ID, "refresh drops a released address")
	assert.NoError(t, env.Server.Delete(p.DeleteRequest{ID: id, Urn: flytest.URN(token), Properties: out}))
}

func TestAnyChangeReplaces(t *testing.T) {
	t.Parallel()
	env := setup(t)
	id, in, out := env.Create(t, token, map[string]any{"app": "web", "type": "shared_v4"})
	check, err := env.Server.Check(p.CheckRequest{Urn: flytest.URN(token), State: in,
		Inputs: flytest.Props(map[string]any{"app": "web", "type": "shared_v4", "serviceName": "api"})})
	require.NoError(t, err)
	d, err := env.Server.Diff(p.DiffRequest{ID: id, Urn: flytest.URN(token), State: out, OldInputs: in, Inputs: check.Inputs})
	require.NoError(t, err)
	assert.Equal(t, p.UpdateReplace, d.DetailedDiff["serviceName"].Kind)
	assert.True(t, d.DeleteBeforeReplace, "an app has one shared IPv4: release it before taking it again")
}

func TestPreviewCallsNothing(t *testing.T) {
	t.Parallel()
	env := setup(t)
	out := env.AssertPreviewSilent(t, token, map[string]any{"app": "web", "type": "v6"})
	assert.True(t, out.Get("address").IsComputed())
}

func TestBadInputsFailCheck(t *testing.T) {
	t.Parallel()
	env := setup(t)
	failures := env.Failures(t, token, map[string]any{"app": "web", "type": "v5"})
	assert.Contains(t, failures["type"], `"v5"`)
	assert.Contains(t, failures["type"], "private_v6")

	failures = env.Failures(t, token, map[string]any{"app": "web", "type": "v4", "network": "isolated"})
	assert.Contains(t, failures["network"], "only applies to private_v6")
}
