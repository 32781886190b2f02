package switching

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// extra is how many plays the test adds to the seeded ones.
const extra = 500

// TestSwitchFlyToComposeAndBack is one stack's round trip. Protected, it
// goes from Fly to Compose (after a first attempt whose copy fails, which
// puts everything back), the old database retained, then removed as the
// switch says. Unprotected, the way back is refused without FORCE, changing
// nothing, then forced, the old database deleted. The data is intact at
// each end.
func TestSwitchFlyToComposeAndBack(t *testing.T) {
	w := newWorld(t, true)
	dbApp := w.app + "-db"
	w.stack.Up(t)
	w.seed(t, extra)
	want := []int{seeded + extra + 1, 1} // every play, and the hand-added one by its title

	// A copy that fails (the old database is unreachable) puts the
	// configuration back and leaves Fly serving; the next switch resumes.
	w.standin.Route(t, dbApp+".internal", "127.0.0.1:1")
	config, _ := w.files(t)
	out, err := w.switchTo(t, "compose", false)
	require.Error(t, err, out)
	t.Run("a failed copy: the configuration is put back, Fly still serves", func(t *testing.T) {
		assert.Contains(t, err.Error(), "copying the data failed")
		assert.Contains(t, out, "put the configuration back (emothe:backend = fly)")
		now, _ := w.files(t)
		assert.Equal(t, config, now)
		assert.Equal(t, 1, machines(w.flyApps(t)[w.app], "started"))
		assert.Equal(t, []string{"db_running"}, w.project(t, "containers"), "what step 1/3 created, for the next switch")
	})
	w.standin.Route(t, dbApp+".internal", w.pgAddr)

	out, err = w.switchTo(t, "compose", false)
	require.NoError(t, err, out)
	t.Logf("switch to compose:\n%s", out)
	t.Run("to Compose: the data is served", func(t *testing.T) {
		all, titled := w.composePlays(t, marker)
		assert.Equal(t, want, []int{all, titled})
	})
	t.Run("to Compose: the project runs", func(t *testing.T) {
		assert.ElementsMatch(t, []string{"db_running", "migrate_exited", "app_running", "proxy_running", "backup_running"},
			w.project(t, "containers"))
	})
	t.Run("to Compose: Fly keeps the database alone", func(t *testing.T) {
		apps := w.flyApps(t)
		assert.NotContains(t, apps, w.app, "the app, with its machines, IPs and secrets, is gone")
		require.Contains(t, apps, dbApp, "the retained database app")
		db := apps[dbApp]
		assert.Len(t, db.Volumes, 1, "its volume")
		assert.Equal(t, 1, machines(db, "started"), "its Postgres machine, still reachable")
		assert.Contains(t, db.Secrets.Digests, "POSTGRES_PASSWORD")
		assert.Len(t, apps, 1, "nothing else")
		all, titled := w.flyPlays(t, marker)
		assert.Equal(t, want, []int{all, titled}, "the old database as it was")
		_, state := w.files(t)
		assert.NotContains(t, state, "flyio:index:", "no Fly resource is left in the state")
	})
	t.Run("to Compose: the output says what stays, how to remove it, and what protection means now", func(t *testing.T) {
		assert.Contains(t, out, "fly apps destroy "+dbApp+" --yes")
		assert.Contains(t, out, "emothe:protectDatabase is true: on compose, make destroy is not refused; it keeps the database's data and backup volumes")
		assert.Contains(t, out, "the row counts match")
		assert.NotContains(t, out, "removed emothe:image", "a local image runs on both")
	})

	// What `fly apps destroy <db app>` does: the app, its machine and its
	// volume go. A new Postgres machine then starts empty.
	w.destroyFlyApp(t, dbApp)
	w.freshDatabase(t)
	require.Empty(t, w.flyApps(t))

	w.stack.SetConfig(t, auto.ConfigMap{"emothe:protectDatabase": {Value: "false"}})
	w.stack.Up(t) // the volumes are no longer retained

	config, state := w.files(t)
	out, err = w.switchTo(t, "fly", false)
	require.Error(t, err)
	t.Run("unprotected: refused without FORCE, nothing changed", func(t *testing.T) {
		assert.Contains(t, err.Error(), "emothe:protectDatabase is false")
		assert.Contains(t, err.Error(), "FORCE=1")
		assert.Empty(t, out)
		nowConfig, nowState := w.files(t)
		assert.Equal(t, config, nowConfig)
		assert.JSONEq(t, state, nowState)
	})

	// Protection set but not applied by an up retains nothing yet.
	w.stack.SetConfig(t, auto.ConfigMap{"emothe:protectDatabase": {Value: "true"}})
	_, err = w.switchTo(t, "fly", false)
	require.ErrorContains(t, err, "the state does not retain the database yet")
	w.stack.SetConfig(t, auto.ConfigMap{"emothe:protectDatabase": {Value: "false"}})
	nowConfig, _ := w.files(t)
	require.Equal(t, config, nowConfig)

	out, err = w.switchTo(t, "fly", true)
	require.NoError(t, err, out)
	t.Logf("switch back to fly:\n%s", out)
	t.Run("back to Fly: the data is there", func(t *testing.T) {
		all, titled := w.flyPlays(t, marker)
		assert.Equal(t, want, []int{all, titled})
	})
	t.Run("back to Fly: the app and its database run", func(t *testing.T) {
		apps := w.flyApps(t)
		require.Contains(t, apps, w.app)
		require.Contains(t, apps, dbApp)
		assert.Equal(t, 1, machines(apps[w.app], "started"), "the app's machine")
		assert.Equal(t, 1, machines(apps[dbApp], "started"), "the Postgres machine")
		assert.Len(t, apps[w.app].IPs, 2, "its IPs")
		assert.Len(t, apps, 2, "nothing else")
	})
	t.Run("back to Fly: nothing of the Compose project is left", func(t *testing.T) {
		assert.Empty(t, w.project(t, "containers"))
		assert.Empty(t, w.project(t, "volumes"), "forced: the old database's volumes are deleted")
		assert.Empty(t, w.project(t, "networks"))
		assert.Contains(t, out, "nothing stays behind on compose")
		assert.Contains(t, out, "emothe:protectDatabase is false: on fly, make destroy deletes the database")
	})
}
