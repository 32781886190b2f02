package machines

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/emothe/emothe/provider/fly"
	"github.com/emothe/emothe/provider/flyapi"
	"github.com/emothe/emothe/provider/internal/opt"
)

// resourceID is the group's ID, `<app>/<processGroup>`, which is also how
// an existing group is imported.
func resourceID(app, group string) string { return app + "/" + group }

func parseID(id string) (app, group string, err error) {
	app, group, ok := strings.Cut(id, "/")
	if !ok || app == "" || group == "" || strings.Contains(group, "/") {
		return "", "", fmt.Errorf("machine group ID %q is not <app>/<processGroup>: use e.g. %q", id, "my-app/app")
	}
	return app, group, nil
}

// groupMachines lists the app's machines of one process group: one API
// call, whatever the group's size.
func groupMachines(ctx context.Context, client fly.Client, app, group string) ([]flyapi.Machine, error) {
	all, err := appMachines(ctx, client, app)
	return inGroup(all, group), err
}

// appMachines lists all the app's machines, of every process group.
func appMachines(ctx context.Context, client fly.Client, app string) ([]flyapi.Machine, error) {
	all, err := client.ListMachines(ctx, app)
	if err != nil {
		return nil, fmt.Errorf("listing the machines of app %s: %w", app, err)
	}
	return all, nil
}

// inGroup is the machines of all in one process group, in a new slice.
func inGroup(all []flyapi.Machine, group string) []flyapi.Machine {
	return slices.DeleteFunc(slices.Clone(all), func(m flyapi.Machine) bool {
		return m.Config == nil || opt.Val(m.Config.Metadata)[fly.MetaProcessGroup] != group
	})
}

// observe is a machine as the planner and the state see it. Its digest is
// taken of the config rebuilt from the group inputs the machine's config
// stands for, so it equals the desired digest exactly when the machine
// runs what the inputs ask, whatever defaults Fly adds.
func observe(m flyapi.Machine) GroupMachine {
	cfg := opt.Val(m.Config)
	out := GroupMachine{
		ID:           opt.Val(m.Id),
		Region:       opt.Val(m.Region),
		InstanceID:   opt.Val(m.InstanceId),
		State:        opt.Val(m.State),
		PrivateIP:    opt.Val(m.PrivateIp),
		Image:        opt.Val(cfg.Image),
		ConfigDigest: digest(fromConfig(cfg).machineConfig()),
	}
	if mounts := opt.Val(cfg.Mounts); len(mounts) > 0 {
		out.Volume, out.VolumeName = opt.Val(mounts[0].Volume), opt.Val(mounts[0].Name)
	}
	return out
}

// stateOf records the group: in (normalized) and its machines as listed.
func stateOf(in Args, ms []flyapi.Machine) State {
	s := State{Args: in, Machines: make([]GroupMachine, 0, len(ms))}
	for _, m := range ms {
		s.Machines = append(s.Machines, observe(m))
		v, _ := strconv.Atoi(opt.Val(opt.Val(m.Config).Metadata)[fly.MetaReleaseVersion])
		s.ReleaseVersion = max(s.ReleaseVersion, v)
	}
	slices.SortFunc(s.Machines, func(a, b GroupMachine) int {
		return cmp.Or(cmp.Compare(a.Region, b.Region), cmp.Compare(a.ID, b.ID))
	})
	// The image: of a machine running the requested one, pinned to the
	// digest Fly resolved.
	for _, m := range ms {
		cfg := opt.Val(m.Config)
		if s.Image == "" || opt.Val(cfg.Image) == in.Config.Image {
			s.Image = pinned(opt.Val(cfg.Image), m.ImageRef)
		}
	}
	return s
}

// rebuild derives the group inputs from its machines, for refresh and
// import. The config is the one most machines run (ties go to the lowest
// machine ID); inputs Fly does not hold (release command, strategy,
// timeouts) come from prev, the inputs known so far.
func rebuild(prev Args, app, group string, ms []flyapi.Machine) Args {
	in := prev.normalize()
	in.App, in.ProcessGroup = app, group
	ms = slices.SortedFunc(slices.Values(ms), func(a, b flyapi.Machine) int { return cmp.Compare(opt.Val(a.Id), opt.Val(b.Id)) })
	votes := map[string]int{}
	var rep Args
	best := 0
	perRegion := map[string]int{}
	for _, m := range ms {
		obs := observe(m)
		perRegion[obs.Region]++
		votes[obs.ConfigDigest]++
		if votes[obs.ConfigDigest] > best {
			best, rep = votes[obs.ConfigDigest], fromConfig(opt.Val(m.Config))
		}
	}
	in.Config, in.PrimaryRegion, in.MinSecretsVersion = rep.Config, rep.PrimaryRegion, rep.MinSecretsVersion
	// Regions keep the order the program gave, new ones follow sorted.
	in.Regions = slices.DeleteFunc(slices.Clone(prev.Regions), func(r string) bool { return perRegion[r] == 0 })
	var extra []string
	in.CountPerRegion = 0
	for r, n := range perRegion {
		if !slices.Contains(in.Regions, r) {
			extra = append(extra, r)
		}
		in.CountPerRegion = max(in.CountPerRegion, n)
	}
	slices.Sort(extra)
	in.Regions = append(in.Regions, extra...)
	return in.normalize()
}

// target is what the planner compares the machines with.
func (a Args) target() target {
	t := target{regions: a.Regions, count: a.CountPerRegion, digest: digest(a.machineConfig())}
	if len(a.Config.Mounts) > 0 {
		t.volumeName = a.Config.Mounts[0].Volume
	}
	return t
}
