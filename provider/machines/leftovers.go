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

// settleReleaseLeftovers deals with the release command machines an earlier,
// interrupted run of this provider left on the app, before a new one runs: no
// state records them, so nothing else would. One that runs is waited for (it
// destroys itself when its command exits), so two migrations never overlap;
// one that never started, or did not destroy itself, is destroyed. The
// machines carry flyctl's release metadata and our deployer mark
// (docs/fly-api.md#interrupted-creates); another deployer's are left alone.
func (r *rollout) settleReleaseLeftovers(ctx context.Context, timeout time.Duration) error {
	all, err := r.client.ListMachines(ctx, r.in.App)
	if err != nil {
		return fmt.Errorf("listing the machines of app %s: %w", r.in.App, err)
	}
	leftovers := slices.DeleteFunc(all, func(m flyapi.Machine) bool {
		meta := opt.Val(opt.Val(m.Config).Metadata)
		return meta[fly.MetaProcessGroup] != fly.ReleaseCommandGroup || meta[metaFlyctlVersion] != deployedBy
	})
	for _, m := range leftovers {
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
