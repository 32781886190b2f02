// Package e2e runs the Pulumi program end to end for the committed Fly
// stacks (Pulumi.dev.yaml, Pulumi.prod.yaml) through the Automation API, the
// Pulumi CLI and the flyio provider plugin, against the Fly fake. These
// stacks run a prebuilt image from config; image_test.go builds and pushes
// one with the real pulumi-docker plugin.
//
// TestDevStack and TestProdStack run against the real Fly API instead when
// the harness's switch is on (EMOTHE_E2E_FLY=1 and FLY_API_TOKEN; see
// harness.NewFly and docs/fly-e2e.md); steps that need injected faults are
// skipped there.
package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/provider/fly"
	"github.com/emothe/emothe/provider/flyfake"
	"github.com/emothe/emothe/tests/e2e/harness"
)

func TestMain(m *testing.M) { harness.Main(m) }

// Two releases of the service, as CI would promote them: by digest.
const (
	image1 = "registry.fly.io/emothe@sha256:1111111111111111111111111111111111111111111111111111111111111111"
	image2 = "registry.fly.io/emothe@sha256:2222222222222222222222222222222222222222222222222222222222222222"
)

// testFake is quick: machines boot and pass their checks within the
// provider's one-second polls.
var testFake = flyfake.Options{
	BootDelay:          50 * time.Millisecond,
	HealthDelay:        100 * time.Millisecond,
	PostgresReadyDelay: 100 * time.Millisecond,
}

// Process groups, as the provider labels machines (fly_process_group).
const (
	groupApp     = "app"
	groupRelease = "fly_app_release_command"
)

// secrets are one stack's secret settings, fresh random values per test so
// that finding one anywhere is a leak.
type secrets struct{ keyBase, dbPassword string }

func newSecrets() secrets {
	return secrets{keyBase: randomHex(64), dbPassword: randomHex(16)}
}

func (s secrets) config() map[string]string {
	return map[string]string{
		"emothe:secretKeyBase": s.keyBase, "emothe:databasePassword": s.dbPassword,
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// open starts a fake (or, through the harness's switch, goes to real Fly)
// and opens the named committed stack on it, running the first of the two
// images it returns; the stack's transcript is logged when the test fails.
func open(t *testing.T, name string, sec secrets) (*harness.Env, *harness.Stack, [2]string) {
	t.Helper()
	if testing.Short() {
		t.Skip("end to end: the Pulumi CLI and the provider against the Fly fake")
	}
	env := harness.NewFly(t, testFake)
	img := env.Images([2]string{image1, image2})
	return env, stackOn(t, env, name, img[0], sec), img
}

// stackOn opens the named committed stack on env, running image; its
// transcript is logged when the test fails.
func stackOn(t *testing.T, env *harness.Env, name, image string, sec secrets) *harness.Stack {
	t.Helper()
	s := env.Stack(t, name, map[string]string{"emothe:image": image}, sec.config())
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(s.Transcript())
		}
	})
	return s
}

// step runs one scenario of a sequence; the sequence stops at the first
// failure, since later scenarios build on the state it leaves.
func step(t *testing.T, name string, fn func(t *testing.T)) {
	t.Helper()
	if !t.Run(name, fn) {
		t.FailNow()
	}
}

func TestDevStack(t *testing.T) {
	sec := newSecrets()
	env, s, img := open(t, "dev", sec)
	oldKey := sec.keyBase

	step(t, "up from empty leaves the dev inventory", func(t *testing.T) {
		s.Up(t)
		st := env.State(t)
		require.Empty(t, st.Postgres, "dev runs its own Postgres, no Managed Postgres")
		require.ElementsMatch(t, []string{s.App, s.App + "-db"}, appNames(st))

		app := appOf(t, st, s.App)
		ms := live(app, groupApp)
		require.Len(t, ms, 1)
		m := ms[0]
		assert.Equal(t, "mad", m.Region)
		assert.Equal(t, "started", m.State)
		assert.Equal(t, img[0], *m.Config.Image)
		assert.Equal(t, s.App+".fly.dev", (*m.Config.Env)["APP_HOST"])
		if env.SeesInternals() {
			assert.Equal(t, int(app.Secrets.Version), m.MinSecretsVersion, "the machine boots with the current secrets")
		}
		assert.ElementsMatch(t, []string{"SECRET_KEY_BASE", "DATABASE_URL", "DATABASE_DIRECT_URL"}, keys(app.Secrets.Digests))
		assert.ElementsMatch(t, []string{"shared_v4", "v6"}, ipTypes(app))
		assert.Empty(t, app.Certificates, "dev has no domain")
		assert.Len(t, releases(app), 1, "the first deploy ran the release command once")

		db := appOf(t, st, s.App+"-db")
		dbm := live(db, groupApp)
		require.Len(t, dbm, 1)
		assert.Equal(t, "mad", dbm[0].Region)
		assert.Equal(t, "postgres:17", *dbm[0].Config.Image)
		assert.Nil(t, dbm[0].Config.Services, "no public service: the private network only")
		require.Len(t, db.Volumes, 1)
		assert.Equal(t, "pg_data", *db.Volumes[0].Name)
		assert.Equal(t, dbm[0].ID, *db.Volumes[0].AttachedMachineId)
		assert.Equal(t, []string{"POSTGRES_PASSWORD"}, keys(db.Secrets.Digests))
		assert.Empty(t, db.IPs, "no public address")

		assert.Equal(t, map[string]any{
			"url": "https://" + s.App + ".fly.dev", "image": img[0], "appName": s.App,
			"databaseHost": s.App + "-db.internal", "dnsRecords": []any{}, "backend": "fly",
		}, s.Outputs(t))
	})

	step(t, "a second up changes nothing", func(t *testing.T) { noChanges(t, env, s) })

	step(t, "changing a secret rolls the machines and nothing else", func(t *testing.T) {
		before := env.State(t)
		sec.keyBase = randomHex(64)
		s.SetConfig(t, auto.ConfigMap{"emothe:secretKeyBase": {Value: sec.keyBase, Secret: true}})
		p := s.Preview(t)
		// AppSecrets previews its new version as unknown, so the machines'
		// roll shows in the preview too.
		assert.ElementsMatch(t, []string{s.App + "-machines", s.App + "-secrets"}, p.Changed())
		noReplace(t, p)

		res := s.Up(t)
		assert.Equal(t, map[string]int{"update": 2}, harness.Changes(res))
		after := env.State(t)
		old, app := appOf(t, before, s.App), appOf(t, after, s.App)
		if env.SeesInternals() {
			assert.Greater(t, app.Secrets.Version, old.Secrets.Version, "the secrets version went up")
		}
		assert.NotEqual(t, old.Secrets.Digests["SECRET_KEY_BASE"], app.Secrets.Digests["SECRET_KEY_BASE"])
		assert.Equal(t, old.Secrets.Digests["DATABASE_URL"], app.Secrets.Digests["DATABASE_URL"])
		m := live(app, groupApp)[0]
		if env.SeesInternals() {
			assert.Equal(t, int(app.Secrets.Version), m.MinSecretsVersion, "the machine rolled onto the new secrets")
		}
		assert.NotEqual(t, live(old, groupApp)[0].Version, m.Version)
		assert.Equal(t, versions(appOf(t, before, s.App+"-db")), versions(appOf(t, after, s.App+"-db")),
			"the database machine is untouched")
	})

	step(t, "a failing migration fails the up and keeps the old image", func(t *testing.T) {
		env.SetFaults(t, flyfake.Faults{ReleaseExitCode: 3})
		defer env.SetFaults(t, flyfake.Faults{})
		before := env.State(t)
		s.SetConfig(t, auto.ConfigMap{"emothe:image": {Value: img[1]}})

		_, err := s.TryUp(t)
		require.Error(t, err)
		assert.Contains(t, err.Error(), `release command ["migrate"] exited with code 3`)
		app := appOf(t, env.State(t), s.App)
		m := live(app, groupApp)
		require.Len(t, m, 1)
		assert.Equal(t, img[0], *m[0].Config.Image, "the machine keeps the old image")
		assert.Equal(t, versions(appOf(t, before, s.App)), versions(app), "no app machine changed")
	})

	step(t, "changing the image updates the app machines only", func(t *testing.T) {
		imageRollout(t, env, s, s.App, img[1])
	})

	step(t, "neither preview output nor state holds a plaintext secret", func(t *testing.T) {
		noPlaintext(t, s, oldKey, sec.keyBase, sec.dbPassword, env.Token())
	})

	step(t, "destroy leaves nothing in the fake", func(t *testing.T) {
		_, err := s.TryDestroy(t)
		require.NoError(t, err)
		st := env.State(t)
		assert.Empty(t, st.Apps, "apps, and with them machines, volumes, secrets and IPs")
		assert.Empty(t, st.Postgres)
	})
}

func TestProdStack(t *testing.T) {
	sec := newSecrets()
	env, s, img := open(t, "prod", sec)

	step(t, "up from empty leaves the prod inventory", func(t *testing.T) {
		s.Up(t)
		st := env.State(t)
		require.Equal(t, []string{s.App}, appNames(st), "Managed Postgres needs no app of ours")
		app := appOf(t, st, s.App)
		assert.Equal(t, map[string]int{"mad": 2, "cdg": 2}, byRegion(live(app, groupApp)))
		for _, m := range live(app, groupApp) {
			assert.Equal(t, "started", m.State, m.ID)
			assert.Equal(t, img[0], *m.Config.Image, m.ID)
			assert.Equal(t, s.Domain, (*m.Config.Env)["APP_HOST"], m.ID)
			if env.SeesInternals() {
				assert.Equal(t, int(app.Secrets.Version), m.MinSecretsVersion, m.ID)
			}
		}
		assert.ElementsMatch(t, []string{"SECRET_KEY_BASE", "DATABASE_URL", "DATABASE_DIRECT_URL"}, keys(app.Secrets.Digests))
		assert.ElementsMatch(t, []string{"shared_v4", "v6"}, ipTypes(app))
		require.Len(t, app.Certificates, 1)
		assert.Equal(t, s.Domain, app.Certificates[0].Hostname)

		require.Len(t, st.Postgres, 1)
		pg := st.Postgres[0]
		assert.Equal(t, s.App+"-db", pg.Name)
		assert.Equal(t, "mad", pg.Region)
		assert.Equal(t, "starter", pg.Plan)
		assert.Equal(t, "ready", pg.Status)
		assert.Equal(t, []string{s.App}, pg.AttachedApps)

		out := s.Outputs(t)
		assert.Equal(t, "https://"+s.Domain, out["url"])
		assert.Equal(t, img[0], out["image"])
		assert.Equal(t, "fly", out["backend"])
		host, _ := out["databaseHost"].(string)
		assert.NotEmpty(t, host)
		assert.NotContains(t, host, "@", "a host, no credentials")
		records, _ := out["dnsRecords"].([]any)
		require.NotEmpty(t, records)
		assert.Contains(t, fmt.Sprint(records), s.Domain)
	})

	step(t, "a second up changes nothing", func(t *testing.T) { noChanges(t, env, s) })

	step(t, "changing the image updates the app machines only", func(t *testing.T) {
		imageRollout(t, env, s, s.App, img[1])
	})

	step(t, "changing a region replaces only its machines", func(t *testing.T) {
		before := appOf(t, env.State(t), s.App)
		s.SetConfig(t, auto.ConfigMap{"emothe:regions[1]": {Value: "ams"}})
		p := s.Preview(t)
		assert.Equal(t, []string{s.App + "-machines"}, p.Changed())
		noReplace(t, p)

		res := s.Up(t)
		assert.Equal(t, map[string]int{"update": 1}, harness.Changes(res))
		app := appOf(t, env.State(t), s.App)
		assert.Equal(t, map[string]int{"mad": 2, "ams": 2}, byRegion(live(app, groupApp)))
		assert.Equal(t, versionsIn(before, "mad"), versionsIn(app, "mad"), "the mad machines are untouched")
		for _, m := range live(before, groupApp) {
			if m.Region == "cdg" {
				assert.Equal(t, "destroyed", machineByID(app, m.ID).State, m.ID)
			}
		}
		assert.Len(t, releases(app), len(releases(before)), "scaling into a region runs no release command")
	})

	step(t, "neither preview output nor state holds a plaintext secret", func(t *testing.T) {
		noPlaintext(t, s, sec.keyBase, env.Token(), postgresPassword(t, env))
	})

	step(t, "destroy is refused while the database is protected", func(t *testing.T) {
		before := env.State(t)
		env.Fake.ResetCalls()
		_, err := s.TryDestroy(t)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "protected")
		assert.Zero(t, env.Fake.Calls().Writes, "nothing was deleted: %v", writes(env.Fake.Calls()))
		after := env.State(t)
		require.Len(t, after.Postgres, 1)
		assert.Equal(t, "ready", after.Postgres[0].Status, "the database is still there")
		assert.Equal(t, []string{s.App}, after.Postgres[0].AttachedApps)
		assert.Equal(t, versions(appOf(t, before, s.App)), versions(appOf(t, after, s.App)), "and so is the app")
	})
}

// noChanges: the preview plans nothing, and an up makes no Fly API write.
func noChanges(t *testing.T, env *harness.Env, s *harness.Stack) {
	t.Helper()
	p := s.Preview(t)
	assert.Empty(t, p.Changed(), "the preview shows changes")
	for op := range p.ChangeSummary {
		assert.Equal(t, apitype.OpSame, op, "preview summary %v", p.ChangeSummary)
	}
	env.Fake.ResetCalls()
	res := s.Up(t)
	assert.Empty(t, harness.Changes(res))
	calls := env.Fake.Calls()
	assert.Zero(t, calls.Writes, "writes: %v", writes(calls))
}

// imageRollout changes the image: the preview shows an in-place update of
// the app machines and nothing else, and the up runs the release command
// once, before any app machine changes, then rolls every machine onto it.
func imageRollout(t *testing.T, env *harness.Env, s *harness.Stack, appName, image string) {
	t.Helper()
	s.SetConfig(t, auto.ConfigMap{"emothe:image": {Value: image}})
	p := s.Preview(t)
	group := appName + "-machines"
	require.Equal(t, []string{group}, p.Changed())
	assert.Equal(t, apitype.OpUpdate, p.Steps[group].Op)
	assert.Equal(t, "update", p.Steps[group].Diff["config.image"], "detailed diff %v", p.Steps[group].Diff)
	noReplace(t, p)

	before := appOf(t, env.State(t), appName)
	env.Fake.ResetCalls()
	res := s.Up(t)
	assert.Equal(t, map[string]int{"update": 1}, harness.Changes(res))
	app := appOf(t, env.State(t), appName)
	ms := live(app, groupApp)
	require.Len(t, ms, len(live(before, groupApp)))
	for _, m := range ms {
		assert.Equal(t, image, *m.Config.Image, m.ID)
	}
	releaseFirst(t, env.Fake.Calls(), before, app)
	assert.Equal(t, image, s.Outputs(t)["image"])
}

// releaseFirst checks one up's calls: exactly one new release-command
// machine, and no call touches or creates an app machine until it is done;
// then the machines roll one by one (rolling) or greens come up before any
// blue goes (bluegreen).
func releaseFirst(t *testing.T, calls flyfake.Calls, before, after flyfake.AppState) {
	t.Helper()
	var fresh []string
	for _, m := range releases(after) {
		if machineByID(before, m.ID) == nil {
			fresh = append(fresh, m.ID)
		}
	}
	require.Len(t, fresh, 1, "the release command ran once")
	rel := fresh[0]
	relEnd := -1
	for i, c := range calls.Log {
		if c.MachineID == rel {
			relEnd = i
		}
	}
	require.GreaterOrEqual(t, relEnd, 0, "no call for the release machine %s", rel)
	appIDs := map[string]bool{}
	for _, st := range []flyfake.AppState{before, after} {
		for _, m := range st.Machines {
			if group(m) == groupApp {
				appIDs[m.ID] = true
			}
		}
	}
	creates, destroys := []int{}, []int{}
	for i, c := range calls.Log {
		switch {
		case c.Operation == "Machines_create":
			creates = append(creates, i)
		case c.Write && appIDs[c.MachineID]:
			assert.Greater(t, i, relEnd, "%s %s before the release command finished", c.Method, c.Path)
		}
		if c.Operation == "Machines_delete" && appIDs[c.MachineID] {
			destroys = append(destroys, i)
		}
	}
	require.NotEmpty(t, creates)
	assert.Less(t, creates[0], relEnd, "the release machine is the first created")
	for _, i := range creates[1:] {
		assert.Greater(t, i, relEnd, "a machine was created before the release command finished")
	}
	if len(creates) > 1 && len(destroys) > 0 { // bluegreen
		assert.Less(t, creates[len(creates)-1], destroys[0], "every green is up before a blue goes")
	}
	for _, m := range live(before, groupApp) {
		if now := machineByID(after, m.ID); now != nil && now.State != "destroyed" {
			assert.Greater(t, len(now.Versions), len(m.Versions), "machine %s was updated in place", m.ID)
		}
	}
}

// noReplace: no step of the plan replaces anything.
func noReplace(t *testing.T, p harness.Preview) {
	t.Helper()
	for name, st := range p.Steps {
		assert.NotContains(t, []apitype.OpType{apitype.OpReplace, apitype.OpCreateReplacement, apitype.OpDeleteReplaced},
			st.Op, "%s would be replaced", name)
		for path, kind := range st.Diff {
			assert.NotContains(t, kind, "replace", "%s: %s", name, path)
		}
	}
}

// noPlaintext greps every preview and up output so far and the exported
// state for each secret value.
func noPlaintext(t *testing.T, s *harness.Stack, values ...string) {
	t.Helper()
	s.Preview(t)
	exported := s.Export(t)
	require.Contains(t, exported, `"ciphertext"`, "the state holds encrypted secrets")
	for _, v := range values {
		require.NotEmpty(t, v)
		assert.NotContains(t, s.Transcript(), v, "a secret is in the CLI output")
		assert.NotContains(t, exported, v, "a secret is in plain text in the state")
	}
}

// postgresPassword asks Fly for the Managed Postgres user's password.
func postgresPassword(t *testing.T, env *harness.Env) string {
	t.Helper()
	pg := env.State(t).Postgres
	require.Len(t, pg, 1)
	client, err := fly.New(fly.Config{Token: env.Token(), BaseURL: env.APIURL})
	require.NoError(t, err)
	creds, err := client.PostgresCredentials(context.Background(), pg[0].ID, "fly-user")
	require.NoError(t, err)
	return creds.Password
}

func appNames(st flyfake.State) []string {
	var names []string
	for _, a := range st.Apps {
		names = append(names, a.Name)
	}
	return names
}

func appOf(t testing.TB, st flyfake.State, name string) flyfake.AppState {
	t.Helper()
	for _, a := range st.Apps {
		if a.Name == name {
			return a
		}
	}
	t.Fatalf("the fake has no app %s (apps: %v)", name, appNames(st))
	return flyfake.AppState{}
}

func group(m flyfake.MachineState) string {
	if m.Config.Metadata == nil {
		return ""
	}
	return (*m.Config.Metadata)["fly_process_group"]
}

// live are the app's machines of a process group that are not destroyed.
func live(a flyfake.AppState, g string) []flyfake.MachineState {
	var out []flyfake.MachineState
	for _, m := range a.Machines {
		if group(m) == g && m.State != "destroyed" {
			out = append(out, m)
		}
	}
	return out
}

// releases are the release-command machines the app ever ran.
func releases(a flyfake.AppState) []flyfake.MachineState {
	var out []flyfake.MachineState
	for _, m := range a.Machines {
		if group(m) == groupRelease {
			out = append(out, m)
		}
	}
	return out
}

func machineByID(a flyfake.AppState, id string) *flyfake.MachineState {
	for i := range a.Machines {
		if a.Machines[i].ID == id {
			return &a.Machines[i]
		}
	}
	return nil
}

// versions are the live app machines' instance versions by ID.
func versions(a flyfake.AppState) map[string]string {
	out := map[string]string{}
	for _, m := range live(a, groupApp) {
		out[m.ID] = m.Version
	}
	return out
}

func versionsIn(a flyfake.AppState, region string) map[string]string {
	out := map[string]string{}
	for _, m := range live(a, groupApp) {
		if m.Region == region {
			out[m.ID] = m.Version
		}
	}
	return out
}

func byRegion(ms []flyfake.MachineState) map[string]int {
	out := map[string]int{}
	for _, m := range ms {
		out[m.Region]++
	}
	return out
}

func ipTypes(a flyfake.AppState) []string {
	var out []string
	for _, ip := range a.IPs {
		out = append(out, ip.Type)
	}
	return out
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// writes lists the write calls, for failure messages.
func writes(c flyfake.Calls) []string {
	var out []string
	for _, call := range c.Log {
		if call.Write {
			out = append(out, call.Method+" "+call.Path)
		}
	}
	return slices.Clip(out)
}
