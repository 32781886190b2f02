package machines

import (
	"context"
	"crypto/rand"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/emothe/emothe/provider/fly"
	"github.com/emothe/emothe/provider/flyapi"
	"github.com/emothe/emothe/provider/internal/opt"
)

const (
	// leaseTTL is flyctl's deploy lease: short, and refreshed by the client
	// at half-life while a rollout holds it, so a crashed rollout frees the
	// machines quickly. New machines are created holding one as well.
	leaseTTL = 13 * time.Second
	// parallel bounds concurrent creates and immediate updates, as flyctl's
	// --max-concurrent default.
	parallel = 8
	// metaBluegreenTag marks the machines a bluegreen rollout starts.
	metaBluegreenTag = "fly_bluegreen_deployment_tag"
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
	// releaseID and releaseVersion are this rollout's release metadata.
	releaseID      string
	releaseVersion int
	volumes        *volumes
	say            func(format string, args ...any)
}

func newRollout(client fly.Client, in Args, releaseVersion int, say func(string, ...any)) (*rollout, error) {
	wait, err := time.ParseDuration(in.WaitTimeout)
	if err != nil {
		return nil, fmt.Errorf("waitTimeout %q: %w", in.WaitTimeout, err)
	}
	r := &rollout{
		client:         client,
		in:             in,
		group:          in.machineConfig(),
		await:          in.Strategy.Type != "immediate",
		checks:         hasChecks(in.Config),
		wait:           wait,
		releaseID:      rand.Text(),
		releaseVersion: releaseVersion,
		say:            say,
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
	return r.destroyAll(ctx, p.destroy)
}

// createAll launches a machine per region entry. A machine that does not
// become ready is destroyed, so the next run creates it again instead of
// taking it for a good one.
func (r *rollout) createAll(ctx context.Context, regions []string) error {
	return each(regions, parallel, func(_ int, region string) error {
		m, err := r.launch(ctx, region, false)
		if err != nil && m.Id != nil {
			r.discard(ctx, m)
		}
		return err
	})
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
// ready. It returns the machine whenever one was created, error or not.
// Green machines (bluegreen) start out of service registration.
func (r *rollout) launch(ctx context.Context, region string, green bool) (flyapi.Machine, error) {
	volumeID := ""
	if r.volumes != nil {
		var err error
		if volumeID, err = r.volumes.claim(ctx, region); err != nil {
			return flyapi.Machine{}, err
		}
	}
	cfg := r.configFor(volumeID)
	if green {
		meta := maps.Clone(*cfg.Metadata)
		meta[metaBluegreenTag] = r.releaseID
		cfg.Metadata = &meta
	}
	m, err := r.client.CreateMachine(ctx, r.in.App, flyapi.CreateMachineRequest{
		Config:                  &cfg,
		Region:                  &region,
		LeaseTtl:                new(int(leaseTTL / time.Second)),
		MinSecretsVersion:       opt.NonZero(r.in.MinSecretsVersion),
		SkipServiceRegistration: opt.NonZero(green),
	}, rand.Text())
	if err != nil {
		return m, fmt.Errorf("creating a machine in %s: %w", region, err)
	}
	id := opt.Val(m.Id)
	r.say("machine %s (%s): created", id, region)
	if err := r.ready(ctx, id, region, opt.Val(m.InstanceId)); err != nil {
		return m, err
	}
	if !green { // a green machine keeps its lease until it is uncordoned
		r.releaseCreationLease(ctx, m)
	}
	return m, nil
}

// releaseCreationLease hands back the lease a create took, so the next
// operation on the machine need not wait for it to expire.
func (r *rollout) releaseCreationLease(ctx context.Context, m flyapi.Machine) {
	if m.Nonce == nil {
		return
	}
	id := opt.Val(m.Id)
	if err := r.client.ReleaseLease(ctx, r.in.App, id, *m.Nonce); err != nil {
		r.say("machine %s: releasing its creation lease failed, it expires within %s: %v", id, leaseTTL, err)
	}
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
		nonce := leases[m.ID].Nonce()
		if slices.ContainsFunc(replace, func(x GroupMachine) bool { return x.ID == m.ID }) {
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
	if err != nil {
		return fmt.Errorf("updating machine %s (%s): %w", m.ID, m.Region, err)
	}
	if !boot {
		r.say("machine %s (%s): updated, left %s as it was", m.ID, m.Region, m.State)
		return nil
	}
	return r.ready(ctx, m.ID, m.Region, opt.Val(got.InstanceId))
}

// replace destroys a machine whose volume changes and launches its
// successor in the same region: Fly cannot swap a mounted volume.
func (r *rollout) replace(ctx context.Context, m GroupMachine, nonce string) error {
	r.say("machine %s (%s): replacing it, as its volume changes", m.ID, m.Region)
	if err := r.client.DestroyMachine(ctx, r.in.App, m.ID, nonce); err != nil {
		return fmt.Errorf("destroying machine %s (%s) to replace it: %w", m.ID, m.Region, err)
	}
	created, err := r.launch(ctx, m.Region, false)
	if err != nil && created.Id != nil {
		r.discard(ctx, created)
	}
	return err
}

// bluegreen starts a green copy of every changed (blue) machine, out of
// service, and only when all are healthy switches traffic to them and
// destroys the blue ones. Until then any failure destroys the green
// machines and leaves the blue ones serving untouched.
func (r *rollout) bluegreen(ctx context.Context, blue []GroupMachine) error {
	leases, release, err := r.leaseAll(ctx, blue)
	if err != nil {
		return err
	}
	defer release()
	green := make([]flyapi.Machine, len(blue))
	err = each(blue, parallel, func(i int, b GroupMachine) error {
		var err error
		green[i], err = r.launch(ctx, b.Region, true)
		return err
	})
	if err == nil {
		err = each(green, parallel, func(_ int, m flyapi.Machine) error {
			id := opt.Val(m.Id)
			r.say("machine %s (%s): healthy, taking traffic", id, opt.Val(m.Region))
			if err := r.client.Uncordon(ctx, r.in.App, id, opt.Val(m.Nonce)); err != nil {
				return fmt.Errorf("uncordoning green machine %s: %w", id, err)
			}
			r.releaseCreationLease(ctx, m)
			return nil
		})
	}
	if err != nil {
		for _, m := range green {
			if m.Id != nil {
				r.discard(ctx, m)
			}
		}
		return fmt.Errorf("bluegreen rollout failed, so its new machines were destroyed and the old ones keep serving: %w", err)
	}
	// Every old machine leaves traffic before any is destroyed.
	err = each(blue, parallel, func(_ int, b GroupMachine) error {
		r.say("machine %s (%s): out of traffic, destroying it", b.ID, b.Region)
		if err := r.client.Cordon(ctx, r.in.App, b.ID, leases[b.ID].Nonce()); err != nil {
			return fmt.Errorf("bluegreen: cordoning old machine %s (the new machines already serve): %w", b.ID, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return each(blue, parallel, func(_ int, b GroupMachine) error {
		if err := r.client.DestroyMachine(ctx, r.in.App, b.ID, leases[b.ID].Nonce()); err != nil {
			return fmt.Errorf("bluegreen: destroying old machine %s (the new machines already serve): %w", b.ID, err)
		}
		return nil
	})
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
		if err := r.client.DestroyMachine(ctx, r.in.App, m.ID, leases[m.ID].Nonce()); err != nil {
			return fmt.Errorf("destroying machine %s (%s): %w", m.ID, m.Region, err)
		}
		return nil
	})
}

// discard destroys a machine this rollout created and gave up on. It runs
// even when ctx was cancelled by the failure, and only reports its own
// failure, as the rollout already fails.
func (r *rollout) discard(ctx context.Context, m flyapi.Machine) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	id := opt.Val(m.Id)
	if err := r.client.DestroyMachine(ctx, r.in.App, id, opt.Val(m.Nonce)); err != nil {
		r.say("machine %s: could not destroy it after the failure, destroy it with `fly machine destroy --force %s`: %v", id, id, err)
	}
}

// leaseAll takes the lease of every machine (the client refreshes them);
// release gives them back, also after ctx is cancelled.
func (r *rollout) leaseAll(ctx context.Context, machines []GroupMachine) (map[string]*fly.Lease, func(), error) {
	held := make([]*fly.Lease, len(machines))
	release := func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		_ = each(machines, parallel, func(i int, m GroupMachine) error {
			if l := held[i]; l != nil {
				if err := l.Release(ctx); err != nil {
					r.say("machine %s: releasing its lease failed, it expires within %s: %v", m.ID, leaseTTL, err)
				}
			}
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
