package postgres_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

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

const token = "flyio:index:ManagedPostgres"

func setup(t *testing.T) *flytest.Env {
	t.Helper()
	// Provisioning takes a few of the provider's (test-sized) poll intervals.
	env := flytest.New(t, flyfake.Options{PostgresReadyDelay: 30 * time.Millisecond})
	for _, app := range []string{"web", "worker"} {
		_, err := env.Client.CreateApp(t.Context(), flyapi.CreateAppRequest{Name: new(app), OrgSlug: new("personal")})
		require.NoError(t, err)
	}
	return env
}

func clusters(f *flyfake.Fake) map[string]flyfake.PostgresState {
	out := map[string]flyfake.PostgresState{}
	for _, c := range f.State().Postgres {
		if c.Status != "deleted" {
			out[c.ID] = c
		}
	}
	return out
}

func cluster(extra map[string]any) property.Map {
	m := map[string]any{"name": "emothe-db", "region": "ams", "plan": "Basic"}
	for k, v := range extra {
		m[k] = v
	}
	return flytest.Props(m)
}

// secretURIs asserts both URIs are secrets that carry the password and the
// right host, and that the plain host outputs carry no password.
func secretURIs(t *testing.T, out property.Map) {
	t.Helper()
	flytest.AssertSecret(t, out, "connectionUri")
	flytest.AssertSecret(t, out, "directUri")
	pooled, direct := flytest.Plain(out, "connectionUri"), flytest.Plain(out, "directUri")
	assert.True(t, strings.HasPrefix(pooled, "postgresql://fly-user:"), pooled == "")
	assert.Contains(t, pooled, "@"+flytest.Plain(out, "poolerHost")+"/fly-db")
	assert.Contains(t, direct, "@"+flytest.Plain(out, "directHost")+"/fly-db")
	assert.NotContains(t, flytest.Plain(out, "poolerHost"), ":")
}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	env := setup(t)
	var firstID string
	check := func(in, out property.Map) {
		id := flytest.Plain(out, "clusterId")
		assert.Equal(t, "ready", flytest.Plain(out, "status"), "create waits until ready")
		secretURIs(t, out)
		env.AssertNoDrift(t, token, id, in, out)
		imported := env.Read(t, token, id, property.Map{}, property.Map{})
		assert.Equal(t, id, imported.ID)
		secretURIs(t, imported.Properties) // imported from nothing, still secret
	}
	integration.LifeCycleTest{
		Resource: tokens.Type(token),
		Create: integration.Operation{
			Inputs: cluster(nil),
			Hook: func(in, out property.Map) {
				firstID = flytest.Plain(out, "clusterId")
				c := clusters(env.Fake)[firstID]
				assert.Equal(t, "basic", c.Plan)
				assert.Equal(t, "personal", c.Org, "org defaults to the provider's")
				assert.Equal(t, "Basic", flytest.Plain(out, "plan"), "the program's spelling is kept")
				check(in, out)
			},
		},
		Updates: []integration.Operation{
			{ // Attachments change in place.
				Inputs: cluster(map[string]any{"attachApps": []any{"worker", "web"}}),
				Hook: func(in, out property.Map) {
					assert.Equal(t, firstID, flytest.Plain(out, "clusterId"), "attached in place")
					assert.Equal(t, []string{"web", "worker"}, clusters(env.Fake)[firstID].AttachedApps)
					check(in, out)
				},
			},
			{
				Inputs: cluster(map[string]any{"attachApps": []any{"web"}}),
				Hook: func(in, out property.Map) {
					assert.Equal(t, []string{"web"}, clusters(env.Fake)[firstID].AttachedApps)
					check(in, out)
				},
			},
			{ // Another plan: replaced, the old cluster deleted first (same name).
				Inputs: cluster(map[string]any{"plan": "launch", "attachApps": []any{"web"}}),
				Hook: func(in, out property.Map) {
					assert.NotContains(t, clusters(env.Fake), firstID)
					assert.Equal(t, []string{"web"}, clusters(env.Fake)[flytest.Plain(out, "clusterId")].AttachedApps)
					check(in, out)
				},
			},
		},
	}.Run(t, env.Server)
	assert.Empty(t, clusters(env.Fake))
}

func TestPreviewCallsNothingAndAttachPreviewKeepsTheURIs(t *testing.T) {
	t.Parallel()
	env := setup(t)
	out := env.AssertPreviewSilent(t, token, map[string]any{"name": "emothe-db", "region": "ams", "plan": "basic"})
	assert.True(t, out.Get("connectionUri").IsComputed())

	id, in, state := env.Create(t, token, map[string]any{"name": "emothe-db", "region": "ams", "plan": "basic"})
	check, err := env.Server.Check(p.CheckRequest{Urn: flytest.URN(token), State: in,
		Inputs: flytest.Props(map[string]any{"name": "emothe-db", "region": "ams", "plan": "basic", "attachApps": []any{"web"}})})
	require.NoError(t, err)
	env.Fake.ResetCalls()
	preview, err := env.Server.Update(p.UpdateRequest{ID: id, Urn: flytest.URN(token), State: state, OldInputs: in, Inputs: check.Inputs, DryRun: true})
	require.NoError(t, err)
	flytest.AssertNoCalls(t, env.Fake, "preview of an update")
	assert.False(t, preview.Properties.Get("connectionUri").IsComputed(), "attaching cannot change the URI")
	flytest.AssertSecret(t, preview.Properties, "connectionUri")
}

func TestDeleteToleratesAGoneCluster(t *testing.T) {
	t.Parallel()
	env := setup(t)
	id, in, out := env.Create(t, token, map[string]any{"name": "emothe-db", "region": "ams", "plan": "basic"})
	require.NoError(t, env.Client.DeletePostgres(t.Context(), id))
	assert.Empty(t, env.Read(t, token, id, in, out).ID)
	assert.NoError(t, env.Server.Delete(p.DeleteRequest{ID: id, Urn: flytest.URN(token), Properties: out}))
}

func TestBadInputsFailCheck(t *testing.T) {
	t.Parallel()
	env := setup(t)
	failures := env.Failures(t, token, map[string]any{
		"name": "emothe-db", "region": "ams", "plan": "huge", "pgMajorVersion": "15", "poolMode": "statement",
		"attachApps": []any{"Web_App"},
	})
	assert.Contains(t, failures["plan"], `"huge"`)
	assert.Contains(t, failures["plan"], `"performance"`)
	assert.Contains(t, failures["pgMajorVersion"], `"15"`)
	assert.Contains(t, failures["poolMode"], `"statement"`)
	assert.Contains(t, failures["attachApps[0]"], `"Web_App"`)
}

// notReadyOnce fails the first wait for a cluster, as a provisioning that
// outlasts the timeout would. failed is shared by the clients of every
// operation.
type notReadyOnce struct {
	fly.Client
	failed *bool
}

func (c notReadyOnce) WaitPostgresReady(ctx context.Context, id string, timeout time.Duration) (fly.PostgresCluster, error) {
	if !*c.failed {
		*c.failed = true
		got, _ := c.GetPostgres(ctx, id)
		return got, errors.New("still provisioning")
	}
	return c.Client.WaitPostgresReady(ctx, id, timeout)
}

// A cluster that is not ready in time is still recorded, so the next `up`
// resumes waiting (an update of a partially created resource) instead of
// provisioning a second cluster.
func TestClusterNotReadyInTimeIsResumedNotDuplicated(t *testing.T) {
	t.Parallel()
	failed := false
	env := flytest.NewWrapped(t, flyfake.Options{PostgresReadyDelay: 30 * time.Millisecond},
		func(c fly.Client) fly.Client { return notReadyOnce{c, &failed} })
	_, err := env.Client.CreateApp(t.Context(), flyapi.CreateAppRequest{Name: new("web"), OrgSlug: new("personal")})
	require.NoError(t, err)
	check, err := env.Server.Check(p.CheckRequest{Urn: flytest.URN(token), Inputs: cluster(nil)})
	require.NoError(t, err)
	created, err := env.Server.Create(p.CreateRequest{Urn: flytest.URN(token), Properties: check.Inputs})
	require.Error(t, err)
	require.NotEmpty(t, created.ID, "the cluster is recorded")
	require.NotNil(t, created.PartialState, "as partially initialized")
	assert.Contains(t, strings.Join(created.PartialState.Reasons, "\n"), "still provisioning")

	updated, err := env.Server.Update(p.UpdateRequest{ID: created.ID, Urn: flytest.URN(token), State: created.Properties, Inputs: check.Inputs})
	require.NoError(t, err)
	assert.Equal(t, "ready", flytest.Plain(updated.Properties, "status"))
	secretURIs(t, updated.Properties)
	assert.Len(t, clusters(env.Fake), 1, "no second cluster")
}

// A cluster whose create already answers ready is not asked again; its
// credentials come alongside the attachment.
func TestClusterReadyAtCreateIsNotPolled(t *testing.T) {
	t.Parallel()
	env := flytest.New(t, flyfake.Options{})
	_, err := env.Client.CreateApp(t.Context(), flyapi.CreateAppRequest{Name: new("web"), OrgSlug: new("personal")})
	require.NoError(t, err)
	env.Fake.ResetCalls()
	id, _, out := env.Create(t, token, map[string]any{"name": "emothe-db", "region": "ams", "plan": "basic", "attachApps": []any{"web"}})
	assert.Equal(t, "ready", flytest.Plain(out, "status"))
	secretURIs(t, out)
	for _, c := range env.Fake.Calls().Log {
		assert.False(t, c.Method == http.MethodGet && c.Path == "/v1/postgres/"+id, "asked again: %s %s", c.Method, c.Path)
	}
	assert.Equal(t, []string{"web"}, clusters(env.Fake)[id].AttachedApps)
}

// refusing answers attach and delete as a Machines API host that does not
// serve them: 405.
type refusing struct{ fly.Client }

func (refusing) AttachPostgres(_ context.Context, id, _ string) error {
	return &fly.APIError{StatusCode: http.StatusMethodNotAllowed, Method: http.MethodPost, Path: "/v1/postgres/" + id + "/attachments"}
}

func (refusing) DeletePostgres(_ context.Context, id string) error {
	return &fly.APIError{StatusCode: http.StatusMethodNotAllowed, Method: http.MethodDelete, Path: "/v1/postgres/" + id}
}

// A refused attach only warns, as in flyctl (the attachment is Fly's
// bookkeeping); a refused delete fails and says what to run by hand.
func TestRefusedAttachAndDeleteSayWhatToRunByHand(t *testing.T) {
	t.Parallel()
	env := flytest.NewWrapped(t, flyfake.Options{}, func(c fly.Client) fly.Client { return refusing{c} })
	_, err := env.Client.CreateApp(t.Context(), flyapi.CreateAppRequest{Name: new("web"), OrgSlug: new("personal")})
	require.NoError(t, err)
	id, _, out := env.Create(t, token, map[string]any{"name": "emothe-db", "region": "ams", "plan": "basic", "attachApps": []any{"web"}})
	assert.Equal(t, []string{"web"}, flytest.Strings(out, "attachApps"))
	secretURIs(t, out)

	err = env.Server.Delete(p.DeleteRequest{ID: id, Urn: flytest.URN(token), Properties: out})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "fly mpg destroy "+id)
	assert.Len(t, clusters(env.Fake), 1, "nothing was deleted")
}
