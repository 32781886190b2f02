package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"

	"github.com/emothe/emothe/provider/config"
	"github.com/emothe/emothe/provider/fly"
	"github.com/emothe/emothe/provider/flyapi"
	"github.com/emothe/emothe/provider/internal/check"
	"github.com/emothe/emothe/provider/internal/crud"
	"github.com/emothe/emothe/provider/internal/diff"
	"github.com/emothe/emothe/provider/internal/opt"
)

var (
	_ infer.CustomCheck[Args]           = (*App)(nil)
	_ infer.CustomDiff[Args, State]     = (*App)(nil)
	_ infer.CustomRead[Args, State]     = (*App)(nil)
	_ infer.CustomDelete[State]         = (*App)(nil)
	_ infer.CustomResource[Args, State] = (*App)(nil)
)

// deleteTimeout bounds the wait for Fly's asynchronous app deletion.
const deleteTimeout = 2 * time.Minute

// Check validates the name and fills org from the provider's default.
func (*App) Check(ctx context.Context, req infer.CheckRequest) (infer.CheckResponse[Args], error) {
	in, failures, err := infer.DefaultCheck[Args](ctx, req.NewInputs)
	if err != nil || len(failures) > 0 {
		return infer.CheckResponse[Args]{Inputs: in, Failures: failures}, err
	}
	var f check.Failures
	f.Name(req.NewInputs, "name", in.Name)
	if in.Org == "" && check.Known(req.NewInputs, "org") {
		in.Org = config.Org(ctx)
	}
	return infer.CheckResponse[Args]{Inputs: in, Failures: f}, nil
}

// Diff replaces on any change. The old app is deleted first when the name
// stays: app names are global, so the new one could not be created beside it.
func (*App) Diff(_ context.Context, req infer.DiffRequest[Args, State]) (infer.DiffResponse, error) {
	var d diff.Builder
	d.Replace("name", req.Inputs.Name != req.State.Name)
	d.Replace("org", req.Inputs.Org != req.State.Org)
	d.Replace("network", req.Inputs.Network != req.State.Network)
	return d.Response(req.Inputs.Name == req.State.Name), nil
}

// Create creates the app; preview returns the inputs with unknown outputs.
func (r *App) Create(ctx context.Context, req infer.CreateRequest[Args]) (infer.CreateResponse[State], error) {
	return crud.Create(ctx, r.Fly, req, func(in Args) infer.CreateResponse[State] {
		return infer.CreateResponse[State]{ID: in.Name, Output: State{Args: in}}
	}, create)
}

func create(ctx context.Context, client fly.Client, in Args) (infer.CreateResponse[State], error) {
	_, err := client.CreateApp(ctx, flyapi.CreateAppRequest{
		Name:    &in.Name,
		OrgSlug: &in.Org,
		Network: opt.NonZero(in.Network),
	})
	if taken(err) {
		err = adopt(ctx, client, in, err)
	}
	if err != nil {
		return infer.CreateResponse[State]{}, fmt.Errorf("creating app %q in org %q: %w", in.Name, in.Org, hint(err))
	}
	// Read back what a refresh would see, so refresh after up shows no drift.
	got, err := client.GetApp(ctx, in.Name)
	if err != nil {
		return infer.CreateResponse[State]{}, fmt.Errorf("reading app %q after creating it: %w", in.Name, err)
	}
	return infer.CreateResponse[State]{ID: in.Name, Output: state(in, got)}, nil
}

// Read looks the app up by name (the resource ID), for refresh and import.
func (r *App) Read(ctx context.Context, req infer.ReadRequest[Args, State]) (infer.ReadResponse[Args, State], error) {
	return crud.Read(ctx, r.Fly, func(ctx context.Context, client fly.Client) (infer.ReadResponse[Args, State], error) {
		got, err := client.GetApp(ctx, req.ID)
		if err != nil {
			return infer.ReadResponse[Args, State]{}, fmt.Errorf("reading app %q: %w", req.ID, err)
		}
		in := Args{Name: req.ID, Org: req.Inputs.Org, Network: opt.Val(got.Network)}
		if got.Organization != nil && got.Organization.Slug != nil {
			in.Org = *got.Organization.Slug
		}
		s := state(in, got)
		return infer.ReadResponse[Args, State]{ID: req.ID, Inputs: s.Args, State: s}, nil
	})
}

// Delete deletes the app and waits until Fly no longer knows it, so a
// replacement with the same name can be created right after.
func (r *App) Delete(ctx context.Context, req infer.DeleteRequest[State]) (infer.DeleteResponse, error) {
	return crud.Delete(ctx, r.Fly, func(ctx context.Context, client fly.Client) error {
		if err := client.DeleteApp(ctx, req.ID); err != nil {
			return fmt.Errorf("deleting app %q: %w", req.ID, err)
		}
		return awaitGone(ctx, client, req.ID)
	})
}

// awaitGone polls until Fly no longer knows the app.
func awaitGone(ctx context.Context, client fly.Client, app string) error {
	ctx, cancel := context.WithTimeout(ctx, deleteTimeout)
	defer cancel()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		_, err := client.GetApp(ctx, app)
		if errors.Is(err, fly.ErrNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("waiting for app %q to be deleted: %w", app, err)
		}
		p.GetLogger(ctx).InfoStatusf("waiting for Fly to finish deleting app %q", app)
		select {
		case <-ctx.Done():
			return fmt.Errorf("app %q is still being deleted after %s: %w", app, deleteTimeout, ctx.Err())
		case <-tick.C:
		}
	}
}

func state(in Args, got flyapi.App) State {
	return State{
		Args:     in,
		AppID:    opt.Val(got.Id),
		Status:   opt.Val(got.Status),
		Hostname: in.Name + ".fly.dev",
	}
}

// taken reports Fly's name_taken answer to a create.
func taken(err error) bool {
	var apiErr *fly.APIError
	return errors.As(err, &apiErr) && apiErr.Code == "name_taken"
}

// hint adds the fix to Fly's terse name_taken error.
func hint(err error) error {
	if taken(err) {
		return fmt.Errorf("%w: app names are global across Fly; choose another name (the App's name; emothe:appName "+
			"in an Emothe stack), or adopt the existing app with `pulumi import flyio:index:App <resource name> <app>` "+
			"(docs/adopting.md)", err)
	}
	return err
}

// adopt takes over an app of our name that an earlier, interrupted create
// made: Pulumi never recorded it, so the next `up` creates it again and Fly
// answers name_taken. Apps carry no metadata to mark them as ours, so what an
// interrupted create leaves is recognized by what it is: an app our token
// reads (another organization's answers 403), in the organization asked for,
// holding no machine, volume, IP address or secret
// (docs/fly-api.md#interrupted-creates). Anything else stays an error.
func adopt(ctx context.Context, client fly.Client, in Args, takenErr error) error {
	got, err := client.GetApp(ctx, in.Name)
	if err != nil {
		return takenErr // another organization's, or unreadable: not ours to adopt
	}
	if org := opt.Val(opt.Val(got.Organization).Slug); org != "" && in.Org != fly.PersonalOrg && org != in.Org {
		return fmt.Errorf("%w: app %q belongs to organization %q, not %q", takenErr, in.Name, org, in.Org)
	}
	var held []string
	count := func(what string, n int, err error) error {
		if n > 0 {
			held = append(held, fmt.Sprintf("%d %s", n, what))
		}
		return err
	}
	ms, err := client.ListMachines(ctx, in.Name)
	if err = count("machine(s)", len(ms), err); err != nil {
		return errors.Join(takenErr, err)
	}
	vs, err := client.ListVolumes(ctx, in.Name)
	if err = count("volume(s)", len(vs), err); err != nil {
		return errors.Join(takenErr, err)
	}
	ips, err := client.ListIPs(ctx, in.Name)
	if err = count("IP address(es)", len(ips), err); err != nil {
		return errors.Join(takenErr, err)
	}
	secrets, err := client.ListSecrets(ctx, in.Name)
	if err = count("secret(s)", len(secrets), err); err != nil {
		return errors.Join(takenErr, err)
	}
	if len(held) > 0 {
		return fmt.Errorf("%w: app %q already exists and holds %s, so it is not what an interrupted create leaves",
			takenErr, in.Name, strings.Join(held, ", "))
	}
	p.GetLogger(ctx).Infof("app %q already exists, empty, in organization %q: adopting what an interrupted create left",
		in.Name, opt.Val(opt.Val(got.Organization).Slug))
	return nil
}
