package machines

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"

	"github.com/emothe/emothe/provider/config"
	"github.com/emothe/emothe/provider/fly"
	"github.com/emothe/emothe/provider/flyapi"
	"github.com/emothe/emothe/provider/internal/diff"
	"github.com/emothe/emothe/provider/internal/opt"
)

var (
	_ infer.CustomCheck[Args]                 = (*MachineGroup)(nil)
	_ infer.CustomDiff[Args, State]           = (*MachineGroup)(nil)
	_ infer.CustomRead[Args, State]           = (*MachineGroup)(nil)
	_ infer.CustomUpdate[Args, State]         = (*MachineGroup)(nil)
	_ infer.CustomDelete[State]               = (*MachineGroup)(nil)
	_ infer.ExplicitDependencies[Args, State] = (*MachineGroup)(nil)
	_ infer.CustomResource[Args, State]       = (*MachineGroup)(nil)
)

// Check validates the inputs and returns them normalized (defaults filled),
// so state, Diff and Read all compare like with like.
func (*MachineGroup) Check(ctx context.Context, req infer.CheckRequest) (infer.CheckResponse[Args], error) {
	raw, failures, err := infer.DefaultCheck[Args](ctx, req.NewInputs)
	if err != nil || len(failures) > 0 {
		return infer.CheckResponse[Args]{Inputs: raw, Failures: failures}, err
	}
	in := raw.normalize()
	return infer.CheckResponse[Args]{Inputs: in, Failures: validate(req.NewInputs, raw, in)}, nil
}

// Diff compares the inputs with state and, through the planner, the
// desired config with every machine's recorded digest: a machine that
// drifted (seen by a refresh) or is missing makes a change even when the
// inputs did not. Only app and processGroup replace the group.
func (*MachineGroup) Diff(_ context.Context, req infer.DiffRequest[Args, State]) (infer.DiffResponse, error) {
	in, old := req.Inputs.normalize(), req.State.Args.normalize()
	var d diff.Builder
	d.Replace("app", in.App != old.App)
	d.Replace("processGroup", in.ProcessGroup != old.ProcessGroup)
	d.Update("regions", !slices.Equal(slices.Sorted(slices.Values(in.Regions)), slices.Sorted(slices.Values(old.Regions))))
	d.Update("countPerRegion", in.CountPerRegion != old.CountPerRegion)
	d.Update("primaryRegion", in.PrimaryRegion != old.PrimaryRegion)
	configDiff(&d, in.Config, old.Config)
	d.Update("minSecretsVersion", in.MinSecretsVersion != old.MinSecretsVersion)
	d.Update("releaseCommand", !slices.Equal(in.ReleaseCommand, old.ReleaseCommand))
	d.Update("releaseCommandGuest", !reflect.DeepEqual(in.ReleaseCommandGuest, old.ReleaseCommandGuest))
	d.Update("releaseCommandTimeout", in.ReleaseCommandTimeout != old.ReleaseCommandTimeout)
	d.Update("strategy", *in.Strategy != *old.Strategy)
	d.Update("waitTimeout", in.WaitTimeout != old.WaitTimeout)
	resp := d.Response(false)
	if !d.Replaces() && !planRollout(req.State.Machines, in.target()).empty() {
		// The machines differ from unchanged inputs: drift a refresh saw, or
		// a rollout that stopped half-way. The state changes, not the inputs.
		if resp.DetailedDiff == nil {
			resp.DetailedDiff = map[string]p.PropertyDiff{}
		}
		resp.DetailedDiff["machines"] = p.PropertyDiff{Kind: p.Update}
		resp.HasChanges = true
	}
	return resp, nil
}

// configDiff records each changed config field as config.<field>.
func configDiff(d *diff.Builder, in, old MachineConfig) {
	t := reflect.TypeFor[MachineConfig]()
	nv, ov := reflect.ValueOf(in), reflect.ValueOf(old)
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("pulumi"), ",")
		d.Update("config."+name, !reflect.DeepEqual(nv.Field(i).Interface(), ov.Field(i).Interface()))
	}
}

// WireDependencies tells the engine which outputs an input change makes
// unknown in a preview: a new strategy or timeout changes no machine.
func (*MachineGroup) WireDependencies(f infer.FieldSelector, args *Args, state *State) {
	machines := []infer.InputField{
		f.InputField(&args.App), f.InputField(&args.ProcessGroup), f.InputField(&args.Regions),
		f.InputField(&args.CountPerRegion), f.InputField(&args.PrimaryRegion), f.InputField(&args.Config),
		f.InputField(&args.MinSecretsVersion),
	}
	f.OutputField(&state.Machines).DependsOn(machines...)
	f.OutputField(&state.ReleaseVersion).DependsOn(machines...)
	f.OutputField(&state.Image).DependsOn(f.InputField(&args.App), f.InputField(&args.ProcessGroup), f.InputField(&args.Config))
}

// Create converges the group from whatever machines of it already exist
// (none, usually): a create that failed half-way, or a group deployed by
// flyctl, is taken over rather than duplicated. Machines that made it are
// kept in state when a later one fails.
func (g *MachineGroup) Create(ctx context.Context, req infer.CreateRequest[Args]) (infer.CreateResponse[State], error) {
	in := req.Inputs.normalize()
	id := resourceID(in.App, in.ProcessGroup)
	if req.DryRun { // outputs other than the inputs read as unknown
		return infer.CreateResponse[State]{ID: id, Output: State{Args: in, Machines: []GroupMachine{}}}, nil
	}
	s, err := deploy(ctx, g.Fly, in, true)
	if err != nil && len(s.Machines) > 0 {
		err = errors.Join(infer.ResourceInitFailedError{Reasons: []string{err.Error()}}, err)
	}
	if err != nil && len(s.Machines) == 0 {
		return infer.CreateResponse[State]{}, err
	}
	return infer.CreateResponse[State]{ID: id, Output: s}, err
}

// Update plans against the machines as Fly has them now, so an unchanged
// config costs one read and no write.
func (g *MachineGroup) Update(ctx context.Context, req infer.UpdateRequest[Args, State]) (infer.UpdateResponse[State], error) {
	in := req.Inputs.normalize()
	if req.DryRun {
		s := req.State
		s.Args = in
		return infer.UpdateResponse[State]{Output: s}, nil
	}
	s, err := deploy(ctx, g.Fly, in, false)
	var release *ReleaseCommandError
	switch {
	case err == nil:
	case errors.As(err, &release), s.App == "":
		// Nothing changed, or Fly could not even be read: keep the old state.
		return infer.UpdateResponse[State]{}, err
	default:
		err = errors.Join(infer.ResourceInitFailedError{Reasons: []string{err.Error()}}, err)
	}
	return infer.UpdateResponse[State]{Output: s}, err
}

// deploy brings the group to in with a client from f, reporting
// progress to the engine. A create first makes sure the machines it finds
// (an interrupted create's) are ready, as their launch would have. One
// list call serves the whole plan: each read here is on the path of every
// `up`, before the release command and the machines it waits for.
func deploy(ctx context.Context, f config.Factory, in Args, create bool) (State, error) {
	client, err := f.Client(ctx)
	if err != nil {
		return State{}, err
	}
	logger := p.GetLogger(ctx)
	ctx = fly.WithProgress(ctx, logger.InfoStatus)
	all, err := appMachines(ctx, client, in.App)
	if err != nil {
		return State{}, err
	}
	if create {
		waited, err := readyAdopted(ctx, client, in, all, logger.InfoStatusf)
		if err != nil {
			ms, lerr := groupMachines(ctx, client, in.App, in.ProcessGroup)
			return stateOf(in, ms), errors.Join(err, lerr)
		}
		if waited {
			if all, err = appMachines(ctx, client, in.App); err != nil {
				return State{}, err
			}
		}
	}
	return converge(ctx, client, in, all, logger.InfoStatusf)
}

// converge brings the group to in from all, the app's machines as Fly has
// them now, and returns the group's state as Fly then reports it, also when
// the rollout failed part-way.
func converge(ctx context.Context, client fly.Client, in Args, all []flyapi.Machine, say func(string, ...any)) (State, error) {
	before := stateOf(in, inGroup(all, in.ProcessGroup))
	pl := planRollout(before.Machines, in.target())
	if pl.empty() {
		return before, nil
	}
	r, err := newRollout(client, in, all, before.ReleaseVersion+1, say)
	if err != nil {
		return before, err
	}
	runErr := r.run(ctx, pl)
	if runErr != nil {
		runErr = fmt.Errorf("deploying machine group %s of app %s: %w", in.ProcessGroup, in.App, runErr)
	}
	ms, err := groupMachines(ctx, client, in.App, in.ProcessGroup)
	r.releases.Wait() // the leases went back alongside the read
	if err != nil {
		return before, errors.Join(runErr, fmt.Errorf("reading the group after the rollout: %w", err))
	}
	return stateOf(in, ms), runErr
}

// Read rebuilds the group from its machines with one list call, for
// refresh and for import by `<app>/<processGroup>`.
func (g *MachineGroup) Read(ctx context.Context, req infer.ReadRequest[Args, State]) (infer.ReadResponse[Args, State], error) {
	app, group, err := parseID(req.ID)
	if err != nil {
		return infer.ReadResponse[Args, State]{}, err
	}
	client, err := g.Fly.Client(ctx)
	if err != nil {
		return infer.ReadResponse[Args, State]{}, err
	}
	prev := req.Inputs
	if len(prev.Regions) == 0 {
		prev = req.State.Args
	}
	s, found, err := read(ctx, client, app, group, prev)
	if err != nil || !found {
		return infer.ReadResponse[Args, State]{}, err // not found: the group is gone
	}
	return infer.ReadResponse[Args, State]{ID: req.ID, Inputs: s.Args, State: s}, nil
}

// read rebuilds the group's state from its machines; prev supplies the
// inputs Fly does not hold.
func read(ctx context.Context, client fly.Client, app, group string, prev Args) (State, bool, error) {
	ms, err := groupMachines(ctx, client, app, group)
	if err != nil || len(ms) == 0 {
		return State{}, false, err
	}
	return stateOf(rebuild(prev, app, group, ms), ms), true, nil
}

// Delete destroys every machine of the group, each under its lease so no
// one else's operation on it is cut short; machines already gone are fine.
func (g *MachineGroup) Delete(ctx context.Context, req infer.DeleteRequest[State]) (infer.DeleteResponse, error) {
	app, group, err := parseID(req.ID)
	if err != nil {
		return infer.DeleteResponse{}, err
	}
	client, err := g.Fly.Client(ctx)
	if err != nil {
		return infer.DeleteResponse{}, err
	}
	ms, err := groupMachines(ctx, client, app, group)
	if err != nil {
		return infer.DeleteResponse{}, err
	}
	logger := p.GetLogger(ctx)
	return infer.DeleteResponse{}, each(ms, parallel, func(_ int, m flyapi.Machine) error {
		id := opt.Val(m.Id)
		logger.InfoStatusf("machine %s (%s): destroying it", id, opt.Val(m.Region))
		return destroyLeased(ctx, client, app, id)
	})
}

// destroyLeased destroys a machine under its lease.
func destroyLeased(ctx context.Context, client fly.Client, app, id string) error {
	l, err := client.AcquireLease(ctx, app, id, leaseTTL)
	if errors.Is(err, fly.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("destroying machine %s of app %s: %w", id, app, err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		_ = l.Release(ctx) // sends nothing once the machine is gone
	}()
	nonce, err := l.Nonce(ctx)
	if err == nil {
		err = client.DestroyMachine(ctx, app, id, nonce, true)
	}
	if err != nil {
		return fmt.Errorf("destroying machine %s of app %s: %w", id, app, err)
	}
	l.Gone() // the lease went with the machine
	return nil
}
