package machines

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/provider/flyapi"
	"github.com/emothe/emothe/provider/flyfake"
)

// These tests prove, from the calls the fake received and the bubble's
// clock, that rollouts drive Fly in flyctl's order (its
// internal/command/deploy: leases, waits, bluegreen's phases).

func first[T any](s []T) T { return s[0] }
func last[T any](s []T) T  { return s[len(s)-1] }

// assertLeased asserts every call of rs sent a nonce of a lease the machine
// held when the call arrived, and succeeded.
func assertLeased(t *testing.T, rs []request, what string) {
	t.Helper()
	require.NotEmpty(t, rs, what)
	for _, r := range rs {
		assert.True(t, r.nonce != "" && r.leased, "%s %s at %s: nonce %q, leased %v", what, r.id, r.at, r.nonce, r.leased)
		assert.Less(t, r.status, 300, "%s %s at %s", what, r.id, r.at)
	}
}

// Bluegreen: green machines are created cordoned, holding a lease for the
// wait timeout that is refreshed while they boot (here longer than the
// lease's TTL), uncordoned with that lease; then, after waitBeforeCordon,
// blue is cordoned, after waitBeforeStop stopped with its own signal and
// grace, and destroyed without force once stopped.
func TestBluegreenPhasesAsFlyctl(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, flyfake.Options{BootDelay: 40 * time.Second, HealthDelay: 40 * time.Second})
		in := func(image string) Args {
			a := webArgs(image, 2, "ams")
			a.Strategy, a.WaitTimeout = &RolloutStrategy{Type: "bluegreen"}, "1m"
			a.Config.StopConfig = &StopConfig{Signal: "SIGTERM", Timeout: "30s"}
			return a
		}
		b.mustUp(in("nginx:1"))
		blue := liveIDs(b)
		b.reset()
		b.mustUp(in("nginx:2"))
		green := liveIDs(b)
		require.Len(t, green, 2)
		assert.Empty(t, slices.DeleteFunc(slices.Clone(green), func(id string) bool { return !slices.Contains(blue, id) }),
			"new machines")

		creates := b.calls(green, "create")
		require.Len(t, creates, 2)
		for _, c := range creates {
			assert.Contains(t, c.body, `"lease_ttl":60`, "created leased for the wait timeout")
			assert.Contains(t, c.body, `"skip_service_registration":true`, "created cordoned")
		}
		uncordons := b.calls(green, "uncordon")
		assertLeased(t, uncordons, "uncordon green")
		for _, u := range uncordons {
			c := first(b.calls([]string{u.id}, "create"))
			assert.Equal(t, c.nonce, u.nonce, "green %s is uncordoned under the lease its create took", u.id)
			assert.Greater(t, u.at-c.at, time.Minute, "green %s booted past the lease's 60 s TTL", u.id)
			assert.NotEmpty(t, b.calls([]string{u.id}, "lease"), "so its lease was refreshed")
		}

		cordons := b.calls(blue, "cordon")
		assertLeased(t, cordons, "cordon blue")
		assert.GreaterOrEqual(t, first(cordons).at-last(uncordons).at, 10*time.Second, "waitBeforeCordon after the last uncordon")
		stops := b.calls(blue, "stop")
		assertLeased(t, stops, "stop blue")
		assert.GreaterOrEqual(t, first(stops).at-last(cordons).at, 10*time.Second, "waitBeforeStop after the last cordon")
		for _, s := range stops {
			assert.JSONEq(t, `{"signal":"SIGTERM","timeout":"30s"}`, s.body, "blue %s stops with its own signal and grace", s.id)
			ops := b.calls([]string{s.id}, "stop", "wait stopped", "destroy")
			require.Len(t, ops, 3, "blue %s: %v", s.id, ops)
			assert.Equal(t, []string{"stop", "wait stopped", "destroy"}, []string{ops[0].op, ops[1].op, ops[2].op})
			assertLeased(t, ops[2:], "destroy blue")
			assert.NotContains(t, ops[2].query, "force", "blue %s is destroyed once stopped, not by force", s.id)
			assert.Equal(t, "destroyed", b.machine(s.id).State)
		}
		for _, id := range green {
			assert.False(t, b.machine(id).Cordoned, "green %s takes traffic", id)
			assert.Empty(t, b.machine(id).LeaseOwner, "green %s's lease was given back", id)
		}
		assert.True(t, b.said("waiting 10s for Fly's proxy to see the new machines"))
	})
}

// Rolling, 2 at a time: every machine is leased before any update, each
// update carries its lease and is awaited, and the number of healthy
// machines never drops below N − maxUnavailable (sampled every half second
// of the bubble's clock).
func TestRollingOrderAndCapacity(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const boot, health = 5 * time.Second, 5 * time.Second
		b := newBubble(t, flyfake.Options{BootDelay: boot, HealthDelay: health})
		in := func(image string) Args {
			a := webArgs(image, 3, "ams", "cdg")
			a.Strategy = &RolloutStrategy{Type: "rolling", MaxUnavailable: 2}
			return a
		}
		b.mustUp(in("nginx:1"))
		machines := liveIDs(b)
		require.Len(t, machines, 6)
		b.reset()

		ctx, stop := context.WithCancel(t.Context())
		var (
			wg             sync.WaitGroup
			least, samples = len(machines), 0
		)
		wg.Go(func() {
			for ctx.Err() == nil {
				ms, err := b.client.ListMachines(ctx, "web")
				if err == nil {
					healthy := 0
					for _, m := range ms {
						if *m.State == "started" && !slices.ContainsFunc(*m.Checks, func(c flyapi.CheckStatus) bool { return *c.Status != "passing" }) {
							healthy++
						}
					}
					least, samples = min(least, healthy), samples+1
				}
				time.Sleep(500 * time.Millisecond)
			}
		})
		b.mustUp(in("nginx:2"))
		stop()
		wg.Wait()

		assert.Equal(t, 4, least, "healthy machines never below 6 - maxUnavailable, and some were out (%d samples)", samples)
		updates := b.calls(machines, "update")
		assertLeased(t, updates, "update")
		assert.Len(t, updates, 6)
		leasedFirst := b.calls(machines, "lease", "update")[:6]
		for _, l := range leasedFirst {
			assert.True(t, l.op == "lease" && l.nonce == "", "all machines are leased before the first update: %v", l)
		}
		for _, u := range updates {
			ops := b.calls([]string{u.id}, "update", "wait started", "release")
			assert.Equal(t, "update", ops[0].op)
			assert.Equal(t, "wait started", ops[1].op, "machine %s is awaited", u.id)
			assert.Equal(t, "release", last(ops).op, "machine %s's lease is given back", u.id)
		}
		// A sliding window of 2: the third update waits for a machine to be
		// healthy again.
		assert.GreaterOrEqual(t, updates[2].at-updates[0].at, boot+health)
		assert.Less(t, updates[1].at-updates[0].at, time.Second)
	})
}

// Immediate: leases, every update at once, no wait.
func TestImmediateOrder(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, flyfake.Options{BootDelay: 5 * time.Second, HealthDelay: time.Hour})
		in := func(image string) Args {
			a := webArgs(image, 2, "ams", "cdg")
			a.Strategy = &RolloutStrategy{Type: "immediate"}
			return a
		}
		b.mustUp(in("nginx:1"))
		machines := liveIDs(b)
		b.reset()
		b.mustUp(in("nginx:2"))
		updates := b.calls(machines, "update")
		assertLeased(t, updates, "update")
		assert.Len(t, updates, 4)
		assert.Equal(t, first(updates).at, last(updates).at, "all at once")
		assert.Empty(t, b.calls(nil, "wait started"), "immediate waits for nothing")
		assert.Len(t, b.calls(machines, "release"), 4)
	})
}

// New machines hold the lease their create took for the whole wait, though
// boot and health checks outlast its TTL: it is refreshed, and given back
// (successfully, so still held) once the machine is healthy.
func TestNewMachinesHoldTheirLeaseThroughTheWait(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, flyfake.Options{BootDelay: 20 * time.Second, HealthDelay: 20 * time.Second})
		in := webArgs("nginx:1", 1, "ams", "cdg")
		in.WaitTimeout = "30s"
		b.mustUp(in)
		for _, id := range liveIDs(b) {
			c := first(b.calls([]string{id}, "create"))
			assert.Contains(t, c.body, `"lease_ttl":30`)
			refreshes := b.calls([]string{id}, "lease")
			assertLeased(t, refreshes, "refresh")
			for _, r := range refreshes {
				assert.Equal(t, c.nonce, r.nonce, "refreshes keep the create's lease")
			}
			release := last(b.calls([]string{id}, "release"))
			assert.GreaterOrEqual(t, release.at-c.at, 40*time.Second, "released once healthy")
			assertLeased(t, []request{release}, "release")
		}
	})
}

// No capacity on a create: each create is retried with backoff, then the
// error names the region and the fixes, and the machines that made it stay.
// Once capacity is back the next up adds only the missing machines, and the
// one after changes nothing.
func TestNoCapacityOnCreate(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, flyfake.Options{Faults: flyfake.Faults{NoCapacityRegions: []string{"cdg"}}})
		in := webArgs("nginx:1", 2, "ams", "cdg")
		s, err := b.up(nil, in)
		require.Error(t, err)
		for _, want := range []string{"region cdg has no capacity for a machine of 1 shared CPU(s) and 256 MB",
			"emothe:regions", "emothe:primaryRegion", "emothe:cpuKind", "emothe:memoryMb", "pulumi up", "insufficient_capacity"} {
			assert.Contains(t, err.Error(), want)
		}
		refused := b.calls(nil, "create")
		refused = slices.DeleteFunc(refused, func(r request) bool { return r.status != 412 })
		assert.Len(t, refused, 2*4, "two creates, each tried 4 times")
		assert.Len(t, s.Machines, 2, "the ams machines are kept in state")
		ams := liveIDs(b)

		require.NoError(t, b.fake.SetFaults(flyfake.Faults{}))
		b.reset()
		b.mustUp(in)
		assert.Len(t, b.calls(nil, "create"), 2, "only the missing machines are created")
		got := map[string]int{}
		for _, m := range b.machines() {
			got[m.Region]++
		}
		assert.Equal(t, map[string]int{"ams": 2, "cdg": 2}, got)
		assert.Subset(t, liveIDs(b), ams, "the ams machines are the same")
		b.reset()
		b.mustUp(in)
		assert.Equal(t, []string{"list"}, ops(b.calls(nil)), "converged: nothing to do")
	})
}

func ops(rs []request) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.op)
	}
	return slices.Compact(out)
}

// No room on its host for a machine's update: flyctl replaces it, so the
// group ends with the same count, the refused machine swapped for a new one.
func TestNoCapacityOnUpdateReplaces(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, flyfake.Options{})
		b.mustUp(webArgs("nginx:1", 2, "ams"))
		before := liveIDs(b)
		b.reset()
		_, err := b.up(capacityless{Client: b.client, ids: before[:1]}, webArgs("nginx:2", 2, "ams"))
		require.NoError(t, err)
		after := liveIDs(b)
		require.Len(t, after, 2)
		assert.Contains(t, after, before[1], "the other machine is updated in place")
		assert.NotContains(t, after, before[0], "the refused machine is replaced")
		for _, m := range b.machines() {
			assert.Equal(t, "nginx:2", *m.Config.Image)
			assert.Equal(t, "ams", m.Region)
		}
		assert.True(t, b.said("its host has no room for the new config, replacing it"))
		b.reset()
		b.mustUp(webArgs("nginx:2", 2, "ams"))
		assert.Equal(t, []string{"list"}, ops(b.calls(nil)), "converged: nothing to do")
	})
}

// A machine with a volume stays on its volume's host, so an update with no
// room there fails naming the region and fixes instead of replacing it.
func TestNoCapacityOnUpdateWithAVolumeFails(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, flyfake.Options{})
		_, err := b.client.CreateVolume(t.Context(), "web", flyapi.CreateVolumeRequest{Name: new("data"), Region: new("ams"), SizeGb: new(1)})
		require.NoError(t, err)
		in := func(image string) Args {
			a := webArgs(image, 1, "ams")
			a.Config.Mounts = []VolumeMount{{Volume: "data", Path: "/data"}}
			return a
		}
		b.mustUp(in("nginx:1"))
		before := liveIDs(b)
		_, err = b.up(capacityless{Client: b.client, ids: before}, in("nginx:2"))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "region ams has no capacity")
		assert.Contains(t, err.Error(), "keeps it on its host")
		assert.Equal(t, before, liveIDs(b), "the machine is not replaced")
	})
}

// Fly leaves exit_code out of a clean exit: the release command succeeded.
func TestReleaseCommandWithoutExitCodeSucceeds(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, flyfake.Options{BootDelay: time.Second, Faults: flyfake.Faults{OmitZeroExitCode: true}})
		in := webArgs("nginx:1", 1, "ams")
		in.ReleaseCommand = []string{"migrate"}
		b.mustUp(in)
		assert.True(t, b.said(`release command ["migrate"]: succeeded`))
		assert.Len(t, b.machines(), 1)

		require.NoError(t, b.fake.SetFaults(flyfake.Faults{ReleaseExitCode: 3}))
		in.Config.Image = "nginx:2"
		_, err := b.up(nil, in)
		assert.ErrorContains(t, err, "exited with code 3", "a failure still reads as one")
	})
}

// The release command's machine is sized as flyctl sizes it, and carries
// flyctl's metadata.
func TestReleaseCommandMachine(t *testing.T) {
	t.Parallel()
	perf := &MachineGuest{CPUKind: "performance", CPUs: 1, MemoryMB: 2048}
	tests := []struct {
		name          string
		existing      *MachineGuest // the group's machines before the release
		group, option *MachineGuest
		want          MachineGuest
	}{
		{name: "smallest size: shared-cpu-2x", want: MachineGuest{"shared", 2, 512}},
		{name: "config.guest when larger", group: perf, want: *perf},
		{name: "the machines' largest", existing: &MachineGuest{CPUs: 2, MemoryMB: 1024}, group: &MachineGuest{}, want: MachineGuest{"shared", 2, 1024}},
		{name: "releaseCommandGuest first", existing: perf, option: &MachineGuest{CPUs: 4}, want: MachineGuest{"shared", 4, 1024}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				b := newBubble(t, flyfake.Options{})
				in := webArgs("nginx:1", 1, "ams")
				if tt.existing != nil {
					in.Config.Guest = tt.existing
					b.mustUp(in)
				}
				in.Config.Image, in.Config.Guest = "nginx:2", tt.group
				in.ReleaseCommand, in.ReleaseCommandGuest = []string{"migrate"}, tt.option
				b.mustUp(in)
				m := releaseMachine(t, b)
				g := m.Config.Guest
				assert.Equal(t, tt.want, MachineGuest{*g.CpuKind, *g.Cpus, *g.MemoryMb})
				meta := *m.Config.Metadata
				assert.Equal(t, "fly_app_release_command", meta["fly_process_group"])
				assert.Equal(t, "v2", meta["fly_platform_version"])
				assert.Equal(t, deployedBy, meta["fly_flyctl_version"])
				assert.NotEmpty(t, meta["fly_release_id"])
				assert.Equal(t, (*b.machines()[0].Config.Metadata)["fly_release_id"], meta["fly_release_id"], "the group's release")
				assert.Equal(t, (*b.machines()[0].Config.Metadata)["fly_release_version"], meta["fly_release_version"])
			})
		})
	}
}

// releaseMachine is the latest release command machine.
func releaseMachine(t *testing.T, b *bubble) flyfake.MachineState {
	t.Helper()
	var out []flyfake.MachineState
	for _, a := range b.fake.State().Apps {
		for _, m := range a.Machines {
			if strings.HasPrefix((*m.Config.Metadata)["fly_process_group"], "fly_app_release") {
				out = append(out, m)
			}
		}
	}
	require.NotEmpty(t, out)
	return last(out)
}
