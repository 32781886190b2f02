package machines_test

import (
	"maps"
	"slices"
	"testing"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/provider/flyapi"
	"github.com/emothe/emothe/provider/flyfake"
	"github.com/emothe/emothe/provider/internal/flytest"
)

const (
	token   = "flyio:index:MachineGroup"
	appName = "web"
)

// group drives one MachineGroup through the provider the way the engine
// does, against a fake Fly API holding the app "web".
type group struct {
	t      *testing.T
	env    *flytest.Env
	id     string
	inputs property.Map // as Check returned them
	state  property.Map
}

func newGroup(t *testing.T, opts flyfake.Options) *group {
	t.Helper()
	env := flytest.New(t, opts)
	_, err := env.Client.CreateApp(t.Context(), flyapi.CreateAppRequest{Name: new(appName), OrgSlug: new("personal")})
	require.NoError(t, err)
	return &group{t: t, env: env}
}

// args are a group's inputs: a web service with an HTTP check.
func args(image string, extra map[string]any) map[string]any {
	m := map[string]any{
		"app":            appName,
		"regions":        []any{"ams", "cdg"},
		"countPerRegion": 2,
		"config": map[string]any{
			"image": image,
			"env":   map[string]any{"LOG_LEVEL": "info"},
			"services": []any{map[string]any{
				"internalPort": 8080,
				"ports":        []any{map[string]any{"port": 443, "handlers": []any{"http", "tls"}}},
				"checks":       []any{map[string]any{"type": "http", "path": "/healthz"}},
			}},
		},
	}
	maps.Copy(m, extra)
	return m
}

// up runs `pulumi up` for in: check, diff, a preview that must not call Fly,
// then create or update. It returns the diff and the operation's error.
func (g *group) up(in map[string]any) (p.DiffResponse, error) {
	g.t.Helper()
	urn := flytest.URN(token)
	check, err := g.env.Server.Check(p.CheckRequest{Urn: urn, Inputs: flytest.Props(in), State: g.inputs})
	require.NoError(g.t, err)
	require.Empty(g.t, check.Failures)
	if g.id == "" {
		g.env.Fake.ResetCalls()
		_, err := g.env.Server.Create(p.CreateRequest{Urn: urn, Properties: check.Inputs, DryRun: true})
		require.NoError(g.t, err)
		flytest.AssertNoCalls(g.t, g.env.Fake, "preview of a create")
		created, err := g.env.Server.Create(p.CreateRequest{Urn: urn, Properties: check.Inputs})
		if err == nil {
			g.id, g.inputs, g.state = created.ID, check.Inputs, created.Properties
		}
		return p.DiffResponse{HasChanges: true}, err
	}
	d, err := g.env.Server.Diff(p.DiffRequest{ID: g.id, Urn: urn, State: g.state, Inputs: check.Inputs, OldInputs: g.inputs})
	require.NoError(g.t, err)
	if !d.HasChanges {
		return d, nil
	}
	g.env.Fake.ResetCalls()
	_, err = g.env.Server.Update(p.UpdateRequest{ID: g.id, Urn: urn, State: g.state, Inputs: check.Inputs, OldInputs: g.inputs, DryRun: true})
	require.NoError(g.t, err)
	flytest.AssertNoCalls(g.t, g.env.Fake, "preview of an update")
	updated, err := g.env.Server.Update(p.UpdateRequest{ID: g.id, Urn: urn, State: g.state, Inputs: check.Inputs, OldInputs: g.inputs})
	if err == nil {
		g.inputs, g.state = check.Inputs, updated.Properties
	}
	return d, err
}

// mustUp is up that must succeed.
func (g *group) mustUp(in map[string]any) p.DiffResponse {
	g.t.Helper()
	d, err := g.up(in)
	require.NoError(g.t, err)
	return d
}

// refresh reads the group as `pulumi refresh` does and keeps what it read.
func (g *group) refresh() p.ReadResponse {
	g.t.Helper()
	read := g.env.Read(g.t, token, g.id, g.inputs, g.state)
	g.inputs, g.state = read.Inputs, read.Properties
	return read
}

// machines lists the fake's live machines of the app, by ID.
func (g *group) machines() map[string]flyfake.MachineState {
	out := map[string]flyfake.MachineState{}
	for _, a := range g.env.Fake.State().Apps {
		for _, m := range a.Machines {
			if a.Name == appName && m.State != "destroyed" {
				out[m.ID] = m
			}
		}
	}
	return out
}

// byRegion counts live machines per region.
func (g *group) byRegion() map[string]int {
	out := map[string]int{}
	for _, m := range g.machines() {
		out[m.Region]++
	}
	return out
}

// images lists the distinct images the live machines run.
func (g *group) images() []string {
	var out []string
	for _, m := range g.machines() {
		if !slices.Contains(out, *m.Config.Image) {
			out = append(out, *m.Config.Image)
		}
	}
	slices.Sort(out)
	return out
}

// stateMachines returns the machines output, as maps.
func stateMachines(state property.Map) []property.Map {
	var out []property.Map
	for _, v := range state.Get("machines").AsArray().All {
		out = append(out, v.AsMap())
	}
	return out
}
