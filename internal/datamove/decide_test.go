package datamove

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/infra/stack"
)

// raw is a valid stack configuration of backend with extra settings.
func raw(backend string, extra map[string]string) stack.Raw {
	r := stack.Raw{Stack: "qa", Values: map[string]string{
		"backend": backend, "appName": "emothe-qa",
		"secretKeyBase":    strings.Repeat("k", 64),
		"databasePassword": "pw/with:odd@chars",
		"image":            "registry.example.org/emothe@sha256:" + strings.Repeat("a", 64),
	}, Secrets: map[string]bool{"secretKeyBase": true, "databasePassword": true, "databaseUrl": true}, Inputs: map[string]string{}}
	for k, v := range extra {
		if strings.Contains(k, ":") {
			r.Inputs[k] = v
		} else {
			r.Values[k] = v
		}
	}
	return r
}

func TestResolveCompose(t *testing.T) {
	e, err := Resolve("qa", raw("compose", map[string]string{"dockerHost": "ssh://deploy@docker.example.org"}), State{Deployed: true})
	require.NoError(t, err)
	assert.Equal(t, Endpoint{Stack: "qa", Backend: "compose", App: "emothe-qa",
		Compose: &ComposeDatabase{DockerHost: "ssh://deploy@docker.example.org"}}, e)

	e, err = Resolve("qa", raw("compose", nil), State{Deployed: true})
	require.NoError(t, err)
	assert.Equal(t, "unix:///var/run/docker.sock", e.Compose.DockerHost, "the default host")
}

func TestResolveFlyMachine(t *testing.T) {
	e, err := Resolve("qa", raw("fly", map[string]string{"database": "machine",
		"flyio:apiUrl": "http://127.0.0.1:4280", "flyio:token": "FlyV1 tok"}), State{Deployed: true})
	require.NoError(t, err)
	require.NotNil(t, e.Fly)
	assert.Nil(t, e.Compose)
	f := *e.Fly
	assert.Equal(t, "emothe-qa", e.App, "the app whose machines stop")
	assert.Equal(t, "emothe-qa-db", f.Machine)
	assert.Equal(t, "emothe-qa-db.internal", f.Host)
	assert.Equal(t, "emothe", f.User)
	assert.Equal(t, "emothe", f.Name)
	assert.Equal(t, "pw/with:odd@chars", f.Password.Value(), "the stack's own password, unescaped")
	assert.Equal(t, "disable", f.SSLMode)
	assert.Empty(t, f.Cluster)
	assert.Equal(t, FlyAPI{BaseURL: "http://127.0.0.1:4280", Token: stack.NewSecret("FlyV1 tok")}, f.API)
}

func TestResolveFlyManaged(t *testing.T) {
	url := "postgresql://fly-user:s%3Acret@direct.abc123.flympg.net:5432/fly-db?sslmode=require"
	e, err := Resolve("qa", raw("fly", map[string]string{"flyio:token": "FlyV1 tok"}), State{Deployed: true, Cluster: "abc123", ClusterURL: stack.NewSecret(url)})
	require.NoError(t, err)
	f := *e.Fly
	assert.Equal(t, "abc123", f.Cluster)
	assert.Empty(t, f.Machine)
	assert.Equal(t, "fly-user", f.User)
	assert.Equal(t, "s:cret", f.Password.Value())
	assert.Equal(t, "fly-db", f.Name)
	assert.Equal(t, "require", f.SSLMode)
}

func TestResolveRefuses(t *testing.T) {
	for name, c := range map[string]struct {
		raw   stack.Raw
		state State
		want  []string
	}{
		"compose not deployed":                     {raw("compose", nil), State{}, []string{"stack qa has no database yet", "make up STACK=qa"}},
		"fly not deployed":                         {raw("fly", map[string]string{"database": "machine", "flyio:token": "t"}), State{}, []string{"no database yet"}},
		"managed without its cluster in the state": {raw("fly", map[string]string{"flyio:token": "t"}), State{Deployed: true}, []string{"no database yet"}},
		"fly without a token":                      {raw("fly", map[string]string{"database": "machine"}), State{Deployed: true}, []string{"needs a token", "FLY_API_TOKEN", "flyio:token"}},
		"external database": {raw("compose", map[string]string{"databaseUrl": "postgres://u:p@db.example.org/x"}), State{Deployed: true},
			[]string{"emothe:databaseUrl", "external"}},
		"bad configuration": {raw("compose", map[string]string{"appName": "Bad_Name"}), State{Deployed: true}, []string{"stack qa", "appName"}},
		"unknown backend":   {raw("kubernetes", nil), State{Deployed: true}, []string{"kubernetes"}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Resolve("qa", c.raw, c.state)
			require.Error(t, err)
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.NotContains(t, err.Error(), "pw/with:odd@chars", "no secret in a message")
		})
	}
}

func TestCheckPair(t *testing.T) {
	a := Endpoint{Stack: "a", Backend: "compose", Compose: &ComposeDatabase{}}
	b := Endpoint{Stack: "b", Backend: "fly", Fly: &FlyDatabase{}}
	require.NoError(t, checkPair(a, b))
	err := checkPair(a, a)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "same stack")
	// A switch moves a stack onto itself on another backend.
	require.NoError(t, checkPair(a, Endpoint{Stack: "a", Backend: "fly", Fly: &FlyDatabase{}}))
	require.Error(t, checkPair(a, Endpoint{Stack: "b", Backend: "fly"}), "an endpoint without a database")

	managed := func(name string) Endpoint {
		return Endpoint{Stack: name, Backend: "fly", Fly: &FlyDatabase{Cluster: name + "-cluster"}}
	}
	err = checkPair(managed("a"), managed("b"))
	require.Error(t, err, "two `fly mpg proxy` on one port")
	assert.Contains(t, err.Error(), "16380")
	require.NoError(t, checkPair(managed("a"), b))
}

func TestRefuseNonEmpty(t *testing.T) {
	migrated := map[string]int64{"public.goose_db_version": 3, "public.plays": 0}
	require.NoError(t, refuseNonEmpty("b", migrated, false), "the migration bookkeeping is not data")

	held := map[string]int64{"public.goose_db_version": 3, "public.plays": 11, "public.notes": 2, "public.empty": 0}
	err := refuseNonEmpty("b", held, false)
	require.ErrorIs(t, err, ErrNotEmpty)
	for _, w := range []string{"stack b", "public.notes (2 rows), public.plays (11 rows)", "FORCE=1", "nothing was changed"} {
		assert.Contains(t, err.Error(), w)
	}
	assert.NotContains(t, err.Error(), "public.empty")
	require.NoError(t, refuseNonEmpty("b", held, true), "FORCE=1")
}

func TestCompare(t *testing.T) {
	source := map[string]int64{"public.goose_db_version": 3, "public.plays": 100, "public.gone": 1}
	target := map[string]int64{"public.goose_db_version": 3, "public.plays": 100, "public.extra": 0}
	tables, total := compare(source, target)
	assert.Equal(t, []Table{
		{"public.extra", -1, 0},
		{"public.gone", 1, -1},
		{"public.goose_db_version", 3, 3},
		{"public.plays", 100, 100},
	}, tables)
	assert.Equal(t, int64(103), total)
	assert.Equal(t, []string{
		"public.extra (missing in the source, 0 in the target)",
		"public.gone (1 in the source, missing in the target)",
	}, mismatches(tables))

	same, _ := compare(map[string]int64{"public.plays": 5}, map[string]int64{"public.plays": 5})
	assert.Empty(t, mismatches(same))
	differ, _ := compare(map[string]int64{"public.plays": 5}, map[string]int64{"public.plays": 4})
	assert.Equal(t, []string{"public.plays (5 in the source, 4 in the target)"}, mismatches(differ))
}

func TestPrintCounts(t *testing.T) {
	var b strings.Builder
	tables, total := compare(map[string]int64{"public.plays": 12, "public.goose_db_version": 3}, map[string]int64{"public.plays": 11, "public.goose_db_version": 3})
	printCounts(&b, "a", "a-stack-named-long", Report{Tables: tables, Rows: total})
	assert.Equal(t, ""+
		"table                              a a-stack-named-long\n"+
		"public.goose_db_version            3                  3\n"+
		"public.plays                      12                 11  MISMATCH\n"+
		"total                             15                 14\n", b.String())
}

func TestParseCounts(t *testing.T) {
	got, err := parseCounts(strings.NewReader("public.goose_db_version\t3\npublic.plays\t100000\n\n"))
	require.NoError(t, err)
	assert.Equal(t, map[string]int64{"public.goose_db_version": 3, "public.plays": 100000}, got)
	_, err = parseCounts(strings.NewReader("public.plays\tmany\n"))
	require.Error(t, err)
}
