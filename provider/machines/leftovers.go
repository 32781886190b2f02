package machines

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/emothe/emothe/provider/fly"
	"github.com/emothe/emothe/provider/flyapi"
	"github.com/emothe/emothe/provider/internal/opt"
)

// settleReleaseLeftovers deals with the release command machines an earlier,
// interrupted run of this provider left on the app, before a new one runs: no
// state records them, so nothing else would. One that runs is waited for (it
// destroys itself when its command exits), so two migrations never overlap;
// one that never started, or did not destroy itself, is destroyed. The
// machines carry flyctl's release metadata and our deployer mark
// (docs/fly-api.md#interrupted-creates); another deployer's are left alone.
func (r *rollout) settleReleaseLeftovers(ctx context.Context, timeout time.Duration) error {
	for _, m := range r.leftovers {
		id, state := opt.Val(m.Id), opt.Val(m.State)
		if slices.Contains(running, state) && state != "failed" {
			r.say("release command machine %s of an interrupted deploy is still running: waiting for it to finish", id)
			err := r.client.WaitState(ctx, r.in.App, id, "", timeout, "destroyed")
			if err == nil {
				continue
			}
			r.say("release command machine %s did not finish in time, destroying it: %v", id, err)
		} else {
			r.say("release command machine %s of an interrupted deploy (%s): destroying it", id, state)
		}
		if err := r.client.DestroyMachine(ctx, r.in.App, id, "", true); err != nil {
			return fmt.Errorf("destroying release command machine %s, left by an interrupted deploy: %w", id, err)
		}
	}
	return nil
}

// releaseLeftovers is what settleReleaseLeftovers deals with among the
// app's machines: release command machines that we deployed.
func releaseLeftovers(all []flyapi.Machine) []flyapi.Machine {
	return slices.DeleteFunc(inGroup(all, fly.ReleaseCommandGroup), func(m flyapi.Machine) bool {
		return opt.Val(opt.Val(m.Config).Metadata)[metaFlyctlVersion] != deployedBy
	})
}

// serveKept makes sure, before a rollout destroys machines, that the
// machines it keeps serve: a bluegreen rollout that was killed leaves its
// green machines beside the old ones, maybe still starting, out of traffic,
// or both. The planner keeps the green ones (they run the config asked for)
// and destroys the old ones as surplus, so each kept machine that a
// bluegreen rollout launched is first waited for and put into traffic, as
// the killed rollout would have done; it reports whether there were any.
// Uncordoning one that serves already changes nothing.
func (r *rollout) serveKept(ctx context.Context, p plan) (bool, error) {
	want := digest(r.group)
	if !slices.ContainsFunc(p.destroy, func(m GroupMachine) bool { return m.ConfigDigest != want }) {
		return false, nil // a scale-down: what goes runs what stays
	}
	tag := func(m flyapi.Machine) string { return opt.Val(opt.Val(m.Config).Metadata)[metaBluegreenTag] }
	gone := map[string]bool{}
	for _, m := range slices.Concat(p.destroy, p.update, p.replace) {
		gone[m.ID] = true
	}
	// A rollout's own machines share its tag: surplus of the same rollout
	// (a scale-down) says nothing about the kept ones.
	retired := map[string]bool{}
	for _, m := range r.current {
		if gone[opt.Val(m.Id)] {
			retired[tag(m)] = true
		}
	}
	var kept []GroupMachine
	for _, m := range r.current {
		if t := tag(m); t != "" && !retired[t] && !gone[opt.Val(m.Id)] {
			kept = append(kept, observe(m))
		}
	}
	if len(kept) == 0 {
		return false, nil
	}
	leases, release, err := r.leaseAll(ctx, kept)
	if err != nil {
		return false, err
	}
	defer release()
	return true, each(kept, parallel, func(_ int, m GroupMachine) error {
		if slices.Contains(running, m.State) { // a stopped one takes traffic once it starts
			if err := r.ready(ctx, m.ID, m.Region, m.InstanceID); err != nil {
				return fmt.Errorf("machine %s (%s), kept from an interrupted rollout: %w", m.ID, m.Region, err)
			}
		}
		nonce, err := leases[m.ID].Nonce(ctx)
		if err == nil {
			err = r.client.Uncordon(ctx, r.in.App, m.ID, nonce)
		}
		if err != nil {
			return fmt.Errorf("putting machine %s (%s), kept from an interrupted rollout, into traffic: %w", m.ID, m.Region, err)
		}
		return nil
	})
}

// retireSurplus takes the old machines that make way for an interrupted
// bluegreen rollout's green ones out of traffic as that rollout would have,
// instead of destroying them at once.
func (r *rollout) retireSurplus(ctx context.Context, machines []GroupMachine) error {
	leases, release, err := r.leaseAll(ctx, machines)
	if err != nil {
		return err
	}
	defer release()
	return r.switchOver(ctx, machines, leases)
}

// readyAdopted waits until the running machines of the group that a create
// finds already there among all, the app's machines (an interrupted create
// launched them, and its wait for them died with it), are started and
// healthy, as their launch would have; one that does not become ready is
// destroyed, so the rollout that follows launches it again instead of
// taking it for a good one. Machines of another config are left to the
// rollout, which updates them. It reports whether it waited on any, which
// leaves all out of date.
func readyAdopted(ctx context.Context, client fly.Client, in Args, all []flyapi.Machine, say func(string, ...any)) (bool, error) {
	r, err := newRollout(client, in, all, 0, say)
	if err != nil || len(r.current) == 0 {
		return false, err
	}
	want := digest(r.group)
	var adopted []GroupMachine
	for _, m := range r.current {
		if g := observe(m); g.ConfigDigest == want && slices.Contains(running, g.State) {
			adopted = append(adopted, g)
		}
	}
	return len(adopted) > 0, each(adopted, parallel, func(_ int, m GroupMachine) error {
		say("machine %s (%s): launched by an interrupted create, waiting until it is ready", m.ID, m.Region)
		err := r.ready(ctx, m.ID, m.Region, m.InstanceID)
		if err == nil {
			return nil
		}
		cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		return errors.Join(err, destroyLeased(cleanup, client, in.App, m.ID))
	})
}
