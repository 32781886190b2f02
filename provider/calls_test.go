package provider_test

import (
	"fmt"
	"net/http/httptest"
	"testing"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/internal/testenv"
	"github.com/emothe/emothe/provider/flyfake"
	"github.com/emothe/emothe/provider/internal/flytest"
)

// stackResource is one resource of a deployment like prod's, in the order
// the engine creates them.
type stackResource struct {
	token  string
	inputs map[string]any
	// as the engine holds them after an up
	id             string
	checked, state property.Map
}

func prodLike() []*stackResource {
	const app = "emothe-prod"
	return []*stackResource{
		{token: "flyio:index:App", inputs: map[string]any{"name": app}},
		{token: "flyio:index:ManagedPostgres", inputs: map[string]any{
			"name": "emothe-prod-db", "region": "mad", "plan": "basic", "attachApps": []any{app}}},
		{token: "flyio:index:AppSecrets", inputs: map[string]any{
			"app": app, "values": map[string]any{"SECRET_KEY_BASE": "k", "DATABASE_URL": "postgres://u:p@db/x"}}},
		{token: "flyio:index:Volume", inputs: map[string]any{"app": app, "name": "data", "region": "mad", "sizeGb": 1}},
		{token: "flyio:index:IPAddress", inputs: map[string]any{"app": app, "type": "shared_v4"}},
		{token: "flyio:index:IPAddress", inputs: map[string]any{"app": app, "type": "v6"}},
		{token: "flyio:index:Certificate", inputs: map[string]any{"app": app, "hostname": "emothe.example.org"}},
		{token: "flyio:index:MachineGroup", inputs: map[string]any{
			"app": app, "regions": []any{"mad"}, "countPerRegion": 2, "minSecretsVersion": 1,
			"config": map[string]any{"image": "registry.fly.io/emothe-prod:v1", "services": []any{map[string]any{
				"internalPort": 8080,
				"ports":        []any{map[string]any{"port": 443, "handlers": []any{"http", "tls"}}},
				"checks":       []any{map[string]any{"type": "http", "path": "/healthz"}},
			}}},
		}},
	}
}

// Operations a user runs, in the order callsPerOperation runs them.
const (
	opUp      = "up from empty"
	opNoOpUp  = "no-op up"
	opRefresh = "refresh"
	opDrift   = "drift"
)

// callsPerOperation drives a prod-like stack through the provider as the
// engine does for each operation and returns the Fly API calls of each.
func callsPerOperation(tb testing.TB) map[string]flyfake.Calls {
	tb.Helper()
	fake := flyfake.New(flyfake.Options{})
	srv := httptest.NewServer(fake)
	tb.Cleanup(srv.Close)
	server := flytest.NewServerWith(tb, flytest.Factory(nil), map[string]string{"token": fake.Token(), "apiUrl": srv.URL})
	stack := prodLike()
	calls := map[string]flyfake.Calls{}
	measure := func(op string, run func(r *stackResource)) {
		fake.ResetCalls()
		for _, r := range stack {
			run(r)
		}
		calls[op] = fake.Calls()
	}
	check := func(r *stackResource) property.Map {
		resp, err := server.Check(p.CheckRequest{Urn: flytest.URN(r.token), Inputs: flytest.Props(r.inputs), State: r.checked})
		require.NoError(tb, err)
		require.Empty(tb, resp.Failures)
		return resp.Inputs
	}
	noChanges := func(r *stackResource, state property.Map) {
		d, err := server.Diff(p.DiffRequest{ID: r.id, Urn: flytest.URN(r.token), State: state, OldInputs: r.checked, Inputs: check(r)})
		require.NoError(tb, err)
		assert.False(tb, d.HasChanges, "%s %s: %v", r.token, r.id, d.DetailedDiff)
	}
	read := func(r *stackResource) p.ReadResponse {
		resp, err := server.Read(p.ReadRequest{ID: r.id, Urn: flytest.URN(r.token), Inputs: r.checked, Properties: r.state})
		require.NoError(tb, err)
		require.Equal(tb, r.id, resp.ID, "%s is still there", r.token)
		return resp
	}

	measure(opUp, func(r *stackResource) {
		in := check(r)
		created, err := server.Create(p.CreateRequest{Urn: flytest.URN(r.token), Properties: in})
		require.NoError(tb, err, r.token)
		r.id, r.checked, r.state = created.ID, in, created.Properties
	})
	measure(opNoOpUp, func(r *stackResource) { noChanges(r, r.state) })
	measure(opRefresh, func(r *stackResource) {
		got := read(r)
		assert.True(tb, r.checked.Equals(got.Inputs), "refresh changed the inputs of %s:\n%v\n%v", r.token, r.checked, got.Inputs)
		if r.token != "flyio:index:App" { // whose status turns deployed once machines run
			assert.True(tb, r.state.Equals(got.Properties), "refresh changed the state of %s:\n%v\n%v", r.token, r.state, got.Properties)
		}
	})
	measure(opDrift, func(r *stackResource) { noChanges(r, read(r).Properties) })
	return calls
}

// An unreachable API fails the first operation that calls it, naming the
// URL and the settings to fix, within the client's few attempts.
func TestUnreachableAPINamesTheSetting(t *testing.T) {
	t.Parallel()
	port, err := testenv.FreePort()
	require.NoError(t, err)
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	server := flytest.NewServer(t, map[string]string{"token": "fm2_x", "apiUrl": url})
	in := flytest.Props(map[string]any{"name": "web", "org": "personal"})
	_, err = server.Create(p.CreateRequest{Urn: flytest.URN("flyio:index:App"), Properties: in})
	require.Error(t, err)
	for _, want := range []string{url, "flyio:apiUrl", "FLY_FLAPS_BASE_URL"} {
		assert.Contains(t, err.Error(), want)
	}
	assert.NotContains(t, err.Error(), "may have succeeded")
}

// Refresh and drift only read, and an up with nothing changed calls
// nothing: each is asserted from the fake's call log.
func TestRefreshDriftAndNoOpUpDoNotWrite(t *testing.T) {
	t.Parallel()
	calls := callsPerOperation(t)
	assert.NotZero(t, calls[opUp].Writes, "the first up creates everything")
	for _, op := range []string{opNoOpUp, opRefresh, opDrift} {
		for _, c := range calls[op].Log {
			assert.False(t, c.Write, "%s wrote: %s %s", op, c.Method, c.Path)
		}
	}
	assert.Zero(t, calls[opNoOpUp].Reads, "a no-op up asks Fly nothing")
	assert.NotZero(t, calls[opRefresh].Reads, "refresh reads")
}

// BenchmarkCallsPerOperation reports the Fly API reads and writes of each
// operation on a prod-like stack (no-op up, refresh and drift must write
// nothing). Its ns/op is the whole scenario's, not the operation's.
func BenchmarkCallsPerOperation(b *testing.B) {
	for _, op := range []string{opUp, opNoOpUp, opRefresh, opDrift} {
		b.Run(op, func(b *testing.B) {
			var reads, writes int
			for b.Loop() {
				c := callsPerOperation(b)[op]
				reads, writes = reads+c.Reads, writes+c.Writes
			}
			b.ReportMetric(float64(reads)/float64(b.N), "reads/op")
			b.ReportMetric(float64(writes)/float64(b.N), "writes/op")
		})
	}
}
