package machines

import (
	"context"
	"crypto/rand"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/emothe/emothe/provider/fly"
	"github.com/emothe/emothe/provider/flyapi"
	"github.com/emothe/emothe/provider/internal/opt"
)

const (
	// leaseTTL is flyctl's deploy lease on existing machines: short, and
	// refreshed by the client while a rollout holds it, so a crashed rollout
	// frees the machines quickly. New machines are leased for the wait
	// timeout instead, as flyctl does.
	leaseTTL = 13 * time.Second
	// parallel bounds concurrent creates and immediate updates, as flyctl's
	// --max-concurrent default.
	parallel = 8
	// metaBluegreenTag marks the machines a bluegreen rollout starts.
	metaBluegreenTag = "fly_bluegreen_deployment_tag"
	// metaFlyctlVersion is where flyctl records which flyctl deployed a
	// machine; the group records deployedBy there, so Fly tooling sees who
	// made the release.
	metaFlyctlVersion = "fly_flyctl_version"
	deployedBy        = "pulumi-resource-flyio"
)

// running lists the states of a machine that an update reboots; others are
// updated with skip_launch and stay stopped, as flyctl does.
var running = []string{"started", "starting", "replacing", "failed"}

// rollout carries out one Create or Update of a group.
type rollout struct {
	client fly.Client
	in     Args                    // normalized
	group  flyapi.FlyMachineConfig // in.machineConfig()
	await  bool                    // wait for machines to start and pass checks
	checks bool                    // the config has health checks to wait for
	wait   time.Duration
	// waitBeforeCordon and waitBeforeStop are bluegreen's pauses for Fly's
	// proxy (strategy inputs).
	waitBeforeCordon, waitBeforeStop time.Duration
	// current is the group's machines as the rollout found them, and
	// leftovers the release command machines an interrupted run left
	// (settleReleaseLeftovers), from the same read of the app's machines.
	current, leftovers []flyapi.Machine
	// releaseID and releaseVersion are this rollout's release metadata.
	releaseID      string
	releaseVersion int
	volumes        *volumes
	say            func(format string, args ...any)
	// releases are the lease releases under way: nothing the rollout does
	// next waits for them, and converge waits for them after its final read.
	releases sync.WaitGroup
}

// newRollout plans from all, the app's machines as one list call found
// them: the group's, and what an interrupted release command left.
func newRollout(client fly.Client, in Args, all []flyapi.Machine, releaseVersion int, say func(string, ...any)) (*rollout, error) {
	r := &rollout{
		client:         client,
		in:             in,
		group:          in.machineConfig(),
		await:          in.Strategy.Type != "immediate",
		checks:         hasChecks(in.Config),
		current:        inGroup(all, in.ProcessGroup),
		leftovers:      releaseLeftovers(all),
		releaseID:      rand.Text(),
		releaseVersion: releaseVersion,
		say:            say,
	}
	for _, d := range []struct {
		name, value string
		to          *time.Duration
	}{
		{"waitTimeout", in.WaitTimeout, &r.wait},
		{"strategy.waitBeforeCordon", in.Strategy.WaitBeforeCordon, &r.waitBeforeCordon},
		{"strategy.waitBeforeStop", in.Strategy.WaitBeforeStop, &r.waitBeforeStop},
	} {
		var err error
		if *d.to, err = time.ParseDuration(d.value); err != nil {
			return nil, fmt.Errorf("%s %q: %w", d.name, d.value, err)
		}
	}
	if len(in.Config.Mounts) > 0 {
		r.volumes = &volumes{client: client, app: in.App, name: in.Config.Mounts[0].Volume}
	}
	return r, nil
}

// run applies a plan in flyctl's order: the release command, new machines,
// changed machines per strategy, then the machines no longer wanted (last,
// so capacity only goes once its replacement serves).
func (r *rollout) run(ctx context.Context, p plan) error {
	if p.newRelease() && len(r.in.ReleaseCommand) > 0 {
		if err := r.releaseCommand(ctx); err != nil {
			return err
		}
	}
	if err := r.createAll(ctx, p.create); err != nil {
		return err
	}
	changed := slices.Concat(p.update, p.replace)
	if len(changed) > 0 {
		var err error
		switch r.in.Strategy.Type {
		case "bluegreen":
			err = r.bluegreen(ctx, changed)
		case "immediate":
			err = r.inPlace(ctx, changed, p.replace, parallel)
		default:
			err = r.inPlace(ctx, changed, p.replace, r.in.Strategy.MaxUnavailable)
		}
		if err != nil {
			return err
		}
	}
	served, err := r.serveKept(ctx, p)
	switch {
	case err != nil:
		return err
	case served:
		return r.retireSurplus(ctx, p.destroy)
	}
	return r.destroyAll(ctx, p.destroy)
}

// createAll launches a machine per region entry. A machine that does not
// become ready is destroyed, so the next run creates it again instead of
// taking it for a good one.
func (r *rollout) createAll(ctx context.Context, regions []string) error {
	return each(regions, parallel, func(_ int, region string) error {
		return r.launchReady(ctx, region)
	})
}

// launchReady launches a machine in region and gives its lease back once it
// is ready; one that does not become ready is destroyed.
func (r *rollout) launchReady(ctx context.Context, region string) error {
	m, lease, err := r.launch(ctx, region, false)
	if err != nil {
		if m.Id != nil {
			r.discard(ctx, m, lease)
		}
		return err
	}
	r.release(ctx, opt.Val(m.Id), lease)
	return nil
}

// each runs fn for every item, at most limit at once. After a failure it
// starts no more, lets those running finish (a machine half-way through an
// update is better waited for than abandoned), and returns the first error.
func each[T any](items []T, limit int, fn func(int, T) error) error {
	var (
		g      errgroup.Group
		failed atomic.Bool
	)
	g.SetLimit(limit)
	for i, it := range items {
		g.Go(func() error {
			if failed.Load() {
				return nil
			}
			err := fn(i, it)
			if err != nil {
				failed.Store(true)
			}
			return err
		})
	}
	return g.Wait()
}

// launch creates a machine of the group in region and waits until it is
// ready. The create takes the machine's lease for the wait timeout, as
// flyctl's does, and the lease is refreshed until the caller releases it,
// so nothing else changes the machine while it boots. launch returns the
// machine and its lease whenever one was created, error or not. Green
// machines (bluegreen) start out of service registration.
func (r *rollout) launch(ctx context.Context, region string, green bool) (flyapi.Machine, *fly.Lease, error) {
	volumeID := ""
	if r.volumes != nil {
		var err error
		if volumeID, err = r.volumes.claim(ctx, region); err != nil {
			return flyapi.Machine{}, nil, err
		}
	}
	cfg := r.configFor(volumeID)
	if green {
		meta := maps.Clone(*cfg.Metadata)
		meta[metaBluegreenTag] = r.releaseID
		cfg.Metadata = &meta
	}
	sent := time.Now()
	m, err := r.client.CreateMachine(ctx, r.in.App, flyapi.CreateMachineRequest{
		Config:                  &cfg,
		Region:                  &region,
		LeaseTtl:                new(int(math.Ceil(r.wait.Seconds()))),
		MinSecretsVersion:       opt.NonZero(r.in.MinSecretsVersion),
		SkipServiceRegistration: opt.NonZero(green),
	}, rand.Text())
	switch {
	case fly.InsufficientCapacity(err):
		return m, nil, r.noCapacity(region, err)
	case err != nil:
		return m, nil, fmt.Errorf("creating a machine in %s: %w", region, err)
	}
	id := opt.Val(m.Id)
	var lease *fly.Lease
	if m.Nonce != nil {
		lease = r.client.HoldLease(ctx, r.in.App, id, *m.Nonce, r.wait, sent)
	}
	r.say("machine %s (%s): created", id, region)
	return m, lease, r.ready(ctx, id, region, opt.Val(m.InstanceId))
}

// noCapacity explains a machine Fly found no room for in region, even
// after CreateMachine's retries, and how to get past it.
func (r *rollout) noCapacity(region string, err error) error {
	g := r.in.Config.Guest
	return fmt.Errorf("region %s has no capacity for a machine of %d %s CPU(s) and %d MB, even after retrying: "+
		"deploy to another region (the group's regions and primaryRegion; emothe:regions and emothe:primaryRegion "+
		"in an Emothe stack) or choose another size (config.guest; emothe:cpuKind, emothe:cpus, emothe:memoryMb), "+
		"then run `pulumi up` again, which adds only the machines still missing: %w",
		region, g.CPUs, g.CPUKind, g.MemoryMB, err)
}

// release gives back a lease the rollout holds (nil for none), also after
// ctx was cancelled, in the background: no step waits on it (see releases).
func (r *rollout) release(ctx context.Context, id string, l *fly.Lease) {
	if l == nil {
		return
	}
	r.releases.Go(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if err := l.Release(ctx); err != nil {
			r.say("machine %s: releasing its lease failed, it expires by itself: %v", id, err)
		}
	})
}

// nonceOf is the nonce to send for a machine under l, "" for no lease.
func nonceOf(ctx context.Context, l *fly.Lease) (string, error) {
	if l == nil {
		return "", nil
	}
	return l.Nonce(ctx)
}

// ready waits until the machine runs version and passes its health checks.
// Both waits fail fast, naming the machine, when it exits instead.
func (r *rollout) ready(ctx context.Context, id, region, version string) error {
	if !r.await {
		return nil
	}
	r.say("machine %s (%s): waiting for it to start", id, region)
	if err := r.client.WaitState(ctx, r.in.App, id, version, r.wait, "started"); err != nil {
		return fmt.Errorf("machine %s (%s) did not start: %w", id, region, err)
	}
	if !r.checks {
		return nil
	}
	r.say("machine %s (%s): started, waiting for its health checks", id, region)
	if _, err := r.client.WaitHealthy(ctx, r.in.App, id, r.wait); err != nil {
		return fmt.Errorf("machine %s (%s) is not healthy: %w", id, region, err)
	}
	r.say("machine %s (%s): healthy", id, region)
	return nil
}

// configFor is the config of one machine: the group's, this rollout's
// release metadata, and the machine's own volume.
func (r *rollout) configFor(volumeID string) flyapi.FlyMachineConfig {
	cfg := r.group
	meta := maps.Clone(*cfg.Metadata)
	meta[fly.MetaReleaseID] = r.releaseID
	meta[fly.MetaReleaseVersion] = strconv.Itoa(r.releaseVersion)
	meta[metaFlyctlVersion] = deployedBy
	cfg.Metadata = &meta
	if cfg.Mounts != nil {
		mounts := slices.Clone(*cfg.Mounts)
		mounts[0].Volume = &volumeID
		cfg.Mounts = &mounts
	}
	return cfg
}

// inPlace updates machines (and replaces those in replace) with at most
// window of them out of service at once: a sliding window, so the next
// machine goes as soon as one is healthy again, and the number of healthy
// machines never drops by more than window. The first failure stops it.
func (r *rollout) inPlace(ctx context.Context, machines, replace []GroupMachine, window int) error {
	leases, release, err := r.leaseAll(ctx, machines)
	if err != nil {
		return err
	}
	defer release()
	err = each(machines, window, func(_ int, m GroupMachine) error {
		nonce, err := leases[m.ID].Nonce(ctx)
		switch {
		case err != nil:
			return fmt.Errorf("machine %s (%s): %w", m.ID, m.Region, err)
		case slices.ContainsFunc(replace, func(x GroupMachine) bool { return x.ID == m.ID }):
			r.say("machine %s (%s): replacing it, as its volume changes", m.ID, m.Region)
			return r.replace(ctx, m, nonce)
		}
		return r.update(ctx, m, nonce)
	})
	if err != nil {
		return fmt.Errorf("%s rollout stopped: %w", r.in.Strategy.Type, err)
	}
	return nil
}

// update puts the group config on one machine, keeping its volume.
func (r *rollout) update(ctx context.Context, m GroupMachine, nonce string) error {
	boot := slices.Contains(running, m.State)
	cfg := r.configFor(m.Volume)
	r.say("machine %s (%s): updating", m.ID, m.Region)
	got, err := r.client.UpdateMachine(ctx, r.in.App, m.ID, nonce, flyapi.UpdateMachineRequest{
		Config:            &cfg,
		MinSecretsVersion: opt.NonZero(r.in.MinSecretsVersion),
		SkipLaunch:        opt.NonZero(!boot),
	})
	switch {
	case fly.InsufficientCapacity(err) && m.Volume == "":
		// flyctl pushes forward: a new machine goes wherever Fly finds room.
		r.say("machine %s (%s): its host has no room for the new config, replacing it", m.ID, m.Region)
		return r.replace(ctx, m, nonce)
	case fly.InsufficientCapacity(err):
		// Its volume pins a replacement to the same host, so flyctl stops too.
		return r.noCapacity(m.Region, fmt.Errorf("updating machine %s, whose volume %s keeps it on its host: %w", m.ID, m.Volume, err))
	case err != nil:
		return fmt.Errorf("updating machine %s (%s): %w", m.ID, m.Region, err)
	}
	if !boot {
		r.say("machine %s (%s): updated, left %s as it was", m.ID, m.Region, m.State)
		return nil
	}
	return r.ready(ctx, m.ID, m.Region, opt.Val(got.InstanceId))
}

// replace destroys a machine and launches its successor in the same
// region: for a new volume (Fly cannot swap a mounted one), or a host with
// no room for the new config.
func (r *rollout) replace(ctx context.Context, m GroupMachine, nonce string) error {
	if err := r.client.DestroyMachine(ctx, r.in.App, m.ID, nonce, true); err != nil {
		return fmt.Errorf("destroying machine %s (%s) to replace it: %w", m.ID, m.Region, err)
	}
	return r.launchReady(ctx, m.Region)
}

// destroyAll destroys machines under their lease, so no one else's
// operation is cut short.
func (r *rollout) destroyAll(ctx context.Context, machines []GroupMachine) error {
	if len(machines) == 0 {
		return nil
	}
	leases, release, err := r.leaseAll(ctx, machines)
	if err != nil {
		return err
	}
	defer release()
	return each(machines, parallel, func(_ int, m GroupMachine) error {
		r.say("machine %s (%s): no longer wanted, destroying it", m.ID, m.Region)
		nonce, err := leases[m.ID].Nonce(ctx)
		if err == nil {
			err = r.client.DestroyMachine(ctx, r.in.App, m.ID, nonce, true)
		}
		if err != nil {
			return fmt.Errorf("destroying machine %s (%s): %w", m.ID, m.Region, err)
		}
		leases[m.ID].Gone()
		return nil
	})
}

// discard destroys a machine this rollout created and gave up on, under
// its lease l (nil for none), and gives the lease back. It runs even when
// ctx was cancelled by the failure, and only reports its own failure, as
// the rollout already fails.
func (r *rollout) discard(ctx context.Context, m flyapi.Machine, l *fly.Lease) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	id := opt.Val(m.Id)
	nonce, err := nonceOf(ctx, l)
	if err == nil {
		err = r.client.DestroyMachine(ctx, r.in.App, id, nonce, true)
	}
	switch {
	case err != nil:
		r.say("machine %s: could not destroy it after the failure, destroy it with `fly machine destroy --force %s`: %v", id, id, err)
	case l != nil:
		l.Gone()
	}
	r.release(ctx, id, l)
}

// leaseAll takes the lease of every machine (the client refreshes them);
// release gives them back, also after ctx is cancelled.
func (r *rollout) leaseAll(ctx context.Context, machines []GroupMachine) (map[string]*fly.Lease, func(), error) {
	held := make([]*fly.Lease, len(machines))
	release := func() {
		_ = each(machines, parallel, func(i int, m GroupMachine) error {
			r.release(ctx, m.ID, held[i])
			return nil
		})
	}
	err := each(machines, parallel, func(i int, m GroupMachine) error {
		l, err := r.client.AcquireLease(ctx, r.in.App, m.ID, leaseTTL)
		if err != nil {
			return fmt.Errorf("machine %s (%s): %w", m.ID, m.Region, err)
		}
		held[i] = l
		return nil
	})
	if err != nil {
		release()
		return nil, nil, err
	}
	leases := make(map[string]*fly.Lease, len(machines))
	for i, m := range machines {
		leases[m.ID] = held[i]
	}
	return leases, release, nil
}
