package certificate_test

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

const token = "flyio:index:Certificate"

// setup creates an app with a shared IPv4 and an IPv6, so the DNS
// requirements have addresses in them.
func setup(t *testing.T) *flytest.Env {
	t.Helper()
	env := flytest.New(t, flyfake.Options{})
	_, err := env.Client.CreateApp(t.Context(), flyapi.CreateAppRequest{Name: new("web"), OrgSlug: new("personal")})
	require.NoError(t, err)
	for _, kind := range []string{"shared_v4", "v6"} {
		_, err := env.Client.AssignIP(t.Context(), "web", flyapi.AssignIPRequest{Type: new(kind)})
		require.NoError(t, err)
	}
	return env
}

func certs(f *flyfake.Fake) map[string]string {
	out := map[string]string{}
	for _, a := range f.State().Apps {
		for _, c := range a.Certificates {
			out[c.Hostname] = c.Status
		}
	}
	return out
}

type record struct{ Type, Name, Purpose string }

func records(out property.Map) []record {
	var rs []record
	for _, v := range out.Get("dnsRecords").AsArray().All {
		m := v.AsMap()
		rs = append(rs, record{m.Get("type").AsString(), m.Get("name").AsString(), m.Get("purpose").AsString()})
	}
	return rs
}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	env := setup(t)
	check := func(host string) func(in, out property.Map) {
		return func(in, out property.Map) {
			assert.Contains(t, certs(env.Fake), host)
			assert.Equal(t, "Ready", flytest.Plain(out, "status"), "create runs a first check")
			assert.ElementsMatch(t, []record{
				{"A", host, "routing"},
				{"AAAA", host, "routing"},
				{"CNAME", host, "routing"},
				{"CNAME", "_acme-challenge." + host, "acme-challenge"},
				{"TXT", "_fly-ownership." + host, "ownership"},
			}, records(out))
			env.AssertNoDrift(t, token, host, in, out)
			imported := env.Read(t, token, "web/"+host, property.Map{}, property.Map{})
			assert.Equal(t, host, imported.ID)
			flytest.AssertEqual(t, out, imported.Properties, "import by <app>/<hostname>")
		}
	}
	integration.LifeCycleTest{
		Resource: tokens.Type(token),
		Create: integration.Operation{
			Inputs: flytest.Props(map[string]any{"app": "web", "hostname": "www.example.com"}),
			Hook:   check("www.example.com"),
		},
		Updates: []integration.Operation{{
			Inputs: flytest.Props(map[string]any{"app": "web", "hostname": "*.example.com"}),
			Hook:   check("*.example.com"),
		}},
	}.Run(t, env.Server)
	assert.Empty(t, certs(env.Fake))
}

func TestMovingAHostnameToAnotherAppDeletesItFirst(t *testing.T) {
	t.Parallel()
	env := setup(t)
	id, in, out := env.Create(t, token, map[string]any{"app": "web", "hostname": "www.example.com"})
	check, err := env.Server.Check(p.CheckRequest{Urn: flytest.URN(token), State: in,
		Inputs: flytest.Props(map[string]any{"app": "www", "hostname": "www.example.com"})})
	require.NoError(t, err)
	d, err := env.Server.Diff(p.DiffRequest{ID: id, Urn: flytest.URN(token), State: out, OldInputs: in, Inputs: check.Inputs})
	require.NoError(t, err)
	assert.Equal(t, p.UpdateReplace, d.DetailedDiff["app"].Kind)
	assert.True(t, d.DeleteBeforeReplace)
}

func TestPreviewCallsNothing(t *testing.T) {
	t.Parallel()
	env := setup(t)
	out := env.AssertPreviewSilent(t, token, map[string]any{"app": "web", "hostname": "www.example.com"})
	assert.True(t, out.Get("dnsRecords").IsComputed())
}

func TestBadHostnameFailsCheck(t *testing.T) {
	t.Parallel()
	env := setup(t)
	failures := env.Failures(t, token, map[string]any{"app": "web", "hostname": "https://www.example.com/"})
	assert.Contains(t, failures["hostname"], `"https://www.example.com/"`)
	assert.Contains(t, failures["hostname"], `"www.example.com"`)
}

func TestGoneCertificateIsDeletedAndReadAsGone(t *testing.T) {
	t.Parallel()
	env := setup(t)
	id, in, out := env.Create(t, token, map[string]any{"app": "web", "hostname": "www.example.com"})
	require.NoError(t, env.Client.DeleteCertificate(t.Context(), "web", id))
	assert.Empty(t, env.Read(t, token, id, in, out).ID)
	assert.NoError(t, env.Server.Delete(p.DeleteRequest{ID: id, Urn: flytest.URN(token), Properties: out}))
}
