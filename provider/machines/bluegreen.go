package machines

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/emothe/emothe/provider/fly"
	"github.com/emothe/emothe/provider/flyapi"
	"github.com/emothe/emothe/provider/internal/opt"
)

// bluegreen starts a green copy of every changed (blue) machine, out of
// service, and only when all are healthy switches traffic to them and
// retires the blue ones, in flyctl's phases: uncordon green, wait for the
// proxy to see it, cordon blue, wait for the proxy to drop it, stop blue
// gracefully, destroy it. Until green serves, any failure destroys the green
// machines and leaves the blue ones serving untouched.
func (r *rollout) bluegreen(ctx context.Context, blue []GroupMachine) error {
	leases, release, err := r.leaseAll(ctx, blue)
	if err != nil {
		return err
	}
	defer release()
	green := make([]flyapi.Machine, len(blue))
	greenLeases := make([]*fly.Lease, len(blue)) // held from creation until uncordoned
	err = each(blue, parallel, func(i int, b GroupMachine) error {
		var err error
		green[i], greenLeases[i], err = r.launch(ctx, b.Region, true)
		return err
	})
	if err == nil {
		err = each(green, parallel, func(i int, m flyapi.Machine) error {
			id := opt.Val(m.Id)
			nonce, err := nonceOf(ctx, greenLeases[i])
			if err == nil {
				err = r.client.Uncordon(ctx, r.in.App, id, nonce)
			}
			if err != nil {
				return fmt.Errorf("uncordoning green machine %s: %w", id, err)
			}
			r.say("machine %s (%s): healthy, taking traffic", id, opt.Val(m.Region))
			return nil
		})
	}
	if err != nil {
		for i, m := range green {
			if m.Id != nil {
				r.discard(ctx, m, greenLeases[i])
			}
		}
		return fmt.Errorf("bluegreen rollout failed, so its new machines were destroyed and the old ones keep serving: %w", err)
	}
	for i, m := range green {
		r.release(ctx, opt.Val(m.Id), greenLeases[i])
	}
	return r.switchOver(ctx, blue, leases)
}

// switchOver takes the old (blue) machines out of traffic once the new ones
// serve, in flyctl's phases: a pause for Fly's proxy to see the new ones,
// every old one cordoned, a pause for the proxy to drop them, then each
// stopped gracefully and destroyed. leases holds the old machines' leases.
func (r *rollout) switchOver(ctx context.Context, blue []GroupMachine, leases map[string]*fly.Lease) error {
	if err := r.pause(ctx, r.waitBeforeCordon, "waiting %s for Fly's proxy to see the new machines before the old ones leave traffic"); err != nil {
		return fmt.Errorf("bluegreen: the new machines serve, but the old ones were left serving too: %w", err)
	}
	// Every old machine leaves traffic before any is stopped.
	err := each(blue, parallel, func(_ int, b GroupMachine) error {
		nonce, err := leases[b.ID].Nonce(ctx)
		if err == nil {
			err = r.client.Cordon(ctx, r.in.App, b.ID, nonce)
		}
		if err != nil {
			return fmt.Errorf("bluegreen: cordoning old machine %s (the new machines already serve): %w", b.ID, err)
		}
		r.say("machine %s (%s): out of traffic", b.ID, b.Region)
		return nil
	})
	if err != nil {
		return err
	}
	if err := r.pause(ctx, r.waitBeforeStop, "waiting %s for Fly's proxy to stop routing to the old machines"); err != nil {
		return fmt.Errorf("bluegreen: the new machines serve, but the old ones were left cordoned: %w", err)
	}
	return each(blue, parallel, func(_ int, b GroupMachine) error { return r.retire(ctx, b, leases[b.ID]) })
}

// retire stops an old machine with its own stop signal and grace period, so
// it finishes the requests it holds, and then destroys it. One that does not
// stop in time is destroyed by force, as flyctl always does.
func (r *rollout) retire(ctx context.Context, b GroupMachine, l *fly.Lease) error {
	nonce, err := l.Nonce(ctx)
	if err != nil {
		return fmt.Errorf("bluegreen: old machine %s (the new machines already serve): %w", b.ID, err)
	}
	stop := r.stopRequest(b.ID)
	r.say("machine %s (%s): stopping it (signal %s, grace %s)", b.ID, b.Region,
		opt.Or(stop.Signal, "default"), opt.Or(stop.Timeout, "default"))
	err = r.client.StopMachine(ctx, r.in.App, b.ID, nonce, stop)
	if err == nil {
		err = r.client.WaitState(ctx, r.in.App, b.ID, "", r.wait, "stopped")
	}
	force := err != nil
	if force {
		r.say("machine %s (%s): did not stop gracefully, destroying it by force: %v", b.ID, b.Region, err)
	}
	if nonce, err = l.Nonce(ctx); err == nil {
		err = r.client.DestroyMachine(ctx, r.in.App, b.ID, nonce, force)
	}
	if err != nil {
		return fmt.Errorf("bluegreen: destroying old machine %s (the new machines already serve): %w", b.ID, err)
	}
	l.Gone()
	r.say("machine %s (%s): destroyed", b.ID, b.Region)
	return nil
}

// stopRequest stops machine id the way its config says (kill_signal and
// kill_timeout in fly.toml); empty leaves Fly's defaults.
func (r *rollout) stopRequest(id string) flyapi.StopRequest {
	i := slices.IndexFunc(r.current, func(m flyapi.Machine) bool { return opt.Val(m.Id) == id })
	if i < 0 || r.current[i].Config == nil || r.current[i].Config.StopConfig == nil {
		return flyapi.StopRequest{}
	}
	sc := r.current[i].Config.StopConfig
	return flyapi.StopRequest{
		Signal:  opt.NonZero(flyapi.StopRequestSignal(opt.Val(sc.Signal))),
		Timeout: opt.NonZero(opt.Val(sc.Timeout)),
	}
}

// pause waits d, saying why (format takes d); 0 skips it.
func (r *rollout) pause(ctx context.Context, d time.Duration, format string) error {
	if d <= 0 {
		return nil
	}
	r.say(format, d)
	waited, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	<-waited.Done()
	return context.Cause(ctx) // nil unless ctx itself ended
}
