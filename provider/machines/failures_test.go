package machines

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/provider/flyfake"
)

// images counts the live machines per image.
func (b *bubble) images() map[string]int {
	out := map[string]int{}
	for _, m := range b.machines() {
		out[*m.Config.Image]++
	}
	return out
}

func rolling(image, waitTimeout string) Args {
	a := webArgs(image, 2, "ams", "cdg")
	a.Strategy, a.WaitTimeout = &RolloutStrategy{Type: "rolling", MaxUnavailable: 1}, waitTimeout
	return a
}

// A machine failing its health checks stops a rolling update: the machines
// not reached keep the old image. Once the checks pass again, the next up
// finishes the rollout and leaves the machine already updated alone.
func TestUnhealthyStopsRolling(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, flyfake.Options{})
		b.mustUp(rolling("nginx:1", "1m"))
		require.NoError(t, b.fake.SetFaults(flyfake.Faults{UnhealthyChecks: true}))

		_, err := b.up(nil, rolling("nginx:2", "1m"))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "rolling rollout stopped")
		assert.Contains(t, err.Error(), "is not healthy")
		assert.Contains(t, err.Error(), "servicecheck-00-http-8080: critical", "names the failing check")
		assert.Equal(t, map[string]int{"nginx:1": 3, "nginx:2": 1}, b.images(), "stopped after the first machine")

		var done string
		versions := map[string]string{}
		for _, m := range b.machines() {
			versions[m.ID] = m.Version
			if *m.Config.Image == "nginx:2" {
				done = m.ID
			}
		}
		require.NoError(t, b.fake.SetFaults(flyfake.Faults{}))
		b.mustUp(rolling("nginx:2", "1m"))
		assert.Equal(t, map[string]int{"nginx:2": 4}, b.images())
		assert.Equal(t, versions[done], b.machine(done).Version, "the updated machine is not updated twice")
	})
}

// A machine whose new version exits on boot stops a rolling update within
// seconds, with its exit code, instead of waiting out the wait timeout.
func TestCrashingMachineStopsRollingFast(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, flyfake.Options{BootDelay: time.Second})
		b.mustUp(rolling("nginx:1", "5m"))
		require.NoError(t, b.fake.SetFaults(flyfake.Faults{CrashExitCode: 3}))

		start := time.Now()
		_, err := b.up(nil, rolling("nginx:2", "5m"))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "rolling rollout stopped")
		assert.Contains(t, err.Error(), "exit code 3")
		assert.NotContains(t, err.Error(), "in time")
		assert.LessOrEqual(t, time.Since(start), 10*time.Second, "noticed within a wait slice, not at the 5m timeout")
		assert.Equal(t, map[string]int{"nginx:1": 3, "nginx:2": 1}, b.images(), "stopped after the first machine")
	})
}

// A bluegreen rollout whose new machines fail their checks destroys them
// and leaves the old ones serving, untouched.
func TestUnhealthyRollsBackBluegreen(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, flyfake.Options{})
		in := func(image string) Args {
			a := webArgs(image, 2, "ams")
			a.Strategy, a.WaitTimeout = &RolloutStrategy{Type: "bluegreen"}, "1m"
			return a
		}
		b.mustUp(in("nginx:1"))
		blue := b.machines()
		require.NoError(t, b.fake.SetFaults(flyfake.Faults{UnhealthyChecks: true}))

		_, err := b.up(nil, in("nginx:2"))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "bluegreen rollout failed, so its new machines were destroyed and the old ones keep serving")
		assert.Contains(t, err.Error(), "health checks not all passing")
		assert.Equal(t, blue, b.machines(), "only the blue machines are left, untouched and in traffic")
		for _, id := range liveIDs(b) {
			assert.Empty(t, b.calls([]string{id}, "cordon", "stop", "update"), "blue %s untouched", id)
		}
	})
}
