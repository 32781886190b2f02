package harness

import (
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/provider/flyfake"
)

func TestMain(m *testing.M) { Main(m) }

// The switch to real Fly cannot reach Fly here, so a fake stands in for it
// (EMOTHE_E2E_FLY_API_URL): the stack gets throwaway names, State reads back
// what the stand-in holds, the proxy logs the calls, and the stack's
// cleanup leaves nothing behind.
func TestNewFlyAgainstAStandIn(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: the Pulumi CLI and the provider against a stand-in for Fly")
	}
	standIn := flyfake.New(flyfake.Options{Token: "fm2_standin", BootDelay: 10 * time.Millisecond, HealthDelay: 10 * time.Millisecond})
	srv := httptest.NewServer(standIn)
	t.Cleanup(srv.Close)
	images := "registry.fly.io/emothe:e2e-1,registry.fly.io/emothe:e2e-2"

	var app string
	t.Run("dev and prod on the stand-in", func(t *testing.T) {
		t.Setenv(EnvRealFly, "1")
		t.Setenv("FLY_API_TOKEN", "FlyV1 fm2_standin")
		t.Setenv(EnvImages, images)
		t.Setenv(EnvAPIURL, srv.URL)
		env := NewFly(t, flyfake.Options{})
		img := env.Images([2]string{"unused", "unused"})
		require.Equal(t, images, img[0]+","+img[1])
		s := env.Stack(t, "dev", map[string]string{"emothe:image": img[0]},
			map[string]string{"emothe:secretKeyBase": strings.Repeat("k", 64), "emothe:databasePassword": "pw-standin"})
		app = s.App
		assert.Regexp(t, `^emothe-dev-e2e-[a-z2-7]{6}$`, app, "a throwaway name")
		s.Up(t)

		got, want := env.State(t), standIn.State()
		require.Len(t, got.Apps, 2, "the dev app and its database app")
		for _, w := range want.Apps {
			i := slices.IndexFunc(got.Apps, func(a flyfake.AppState) bool { return a.Name == w.Name })
			require.GreaterOrEqual(t, i, 0, "app %s is missing from State", w.Name)
			g := got.Apps[i]
			assert.Equal(t, w.Secrets.Digests, g.Secrets.Digests, w.Name)
			assert.Equal(t, w.IPs, orEmpty(g.IPs), w.Name)
			assert.Len(t, g.Volumes, len(w.Volumes), w.Name)
			require.Len(t, g.Machines, len(w.Machines), w.Name)
			for j, m := range w.Machines {
				assert.Equal(t, [4]string{m.ID, m.State, m.Region, *m.Config.Image},
					[4]string{g.Machines[j].ID, g.Machines[j].State, g.Machines[j].Region, *g.Machines[j].Config.Image})
				assert.Equal(t, m.Versions, g.Machines[j].Versions)
				if w.Name == app && m.State == "started" {
					assert.Equal(t, 256, *g.Machines[j].Config.Guest.MemoryMb, "the smallest machine")
				}
			}
		}
		// prod: a domain of its own, and a protected Managed Postgres the
		// cleanup must still remove.
		prod := env.Stack(t, "prod", map[string]string{"emothe:image": img[0]},
			map[string]string{"emothe:secretKeyBase": strings.Repeat("k", 64)})
		assert.Equal(t, prod.App+".example.org", prod.Domain)
		prod.Up(t)
		pg := env.State(t).Postgres
		require.Len(t, pg, 1)
		assert.Equal(t, prod.App+"-db", pg[0].Name)
		assert.Equal(t, "ready", pg[0].Status)

		assert.Positive(t, env.Fake.Calls().Writes, "the proxy logs the calls")
		assert.Empty(t, env.Fake.State().Apps, "the proxy keeps no state of its own")
		assert.False(t, env.SeesInternals())
	})
	require.NotEmpty(t, app)
	assert.Empty(t, standIn.State().Apps, "the cleanup destroyed every app")
	for _, pg := range standIn.State().Postgres {
		assert.Equal(t, "deleted", pg.Status, "the cleanup deleted Managed Postgres %s", pg.Name)
	}
	assert.Empty(t, standIn.Violations(), "requests that break a strict reading of Fly's API spec")
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
