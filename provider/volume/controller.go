package volume

import (
	"context"
	"fmt"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"

	"github.com/emothe/emothe/provider/fly"
	"github.com/emothe/emothe/provider/flyapi"
	"github.com/emothe/emothe/provider/internal/adopt"
	"github.com/emothe/emothe/provider/internal/check"
	"github.com/emothe/emothe/provider/internal/crud"
	"github.com/emothe/emothe/provider/internal/diff"
	"github.com/emothe/emothe/provider/internal/importid"
	"github.com/emothe/emothe/provider/internal/opt"
)

var (
	_ infer.CustomCheck[Args]                 = (*Volume)(nil)
	_ infer.CustomDiff[Args, State]           = (*Volume)(nil)
	_ infer.CustomRead[Args, State]           = (*Volume)(nil)
	_ infer.CustomUpdate[Args, State]         = (*Volume)(nil)
	_ infer.CustomDelete[State]               = (*Volume)(nil)
	_ infer.ExplicitDependencies[Args, State] = (*Volume)(nil)
	_ infer.CustomResource[Args, State]       = (*Volume)(nil)
)

// Check validates the inputs and applies the defaults.
func (*Volume) Check(ctx context.Context, req infer.CheckRequest) (infer.CheckResponse[Args], error) {
	in, failures, err := infer.DefaultCheck[Args](ctx, req.NewInputs)
	if err != nil || len(failures) > 0 {
		return infer.CheckResponse[Args]{Inputs: in, Failures: failures}, err
	}
	known := func(prop string) bool { return check.Known(req.NewInputs, prop) }
	var f check.Failures
	f.Name(req.NewInputs, "app", in.App)
	if known("name") && !check.VolumeName.MatchString(in.Name) {
		f.Addf("name", "name %q is not a valid volume name: use 1-30 letters, digits and _ (e.g. %q)", in.Name, "data")
	}
	f.Region(req.NewInputs, "region", in.Region)
	if known("sizeGb") && (in.SizeGB < 1 || in.SizeGB > 500) {
		f.Addf("sizeGb", "sizeGb %d is out of range: use 1 to 500 GB", in.SizeGB)
	}
	if known("snapshotRetention") && (in.SnapshotRetention < 1 || in.SnapshotRetention > 60) {
		f.Addf("snapshotRetention", "snapshotRetention %d is out of range: use 1 to 60 days", in.SnapshotRetention)
	}
	return infer.CheckResponse[Args]{Inputs: in, Failures: f}, nil
}

// Diff extends in place, replaces on identity changes and refuses to shrink.
// It compares with state, which a refresh keeps at the volume's real size.
func (*Volume) Diff(ctx context.Context, req infer.DiffRequest[Args, State]) (infer.DiffResponse, error) {
	in, old := req.Inputs, req.State
	adopt.Claim(ctx, old.App, req.ID)
	// A size of 0 is one not known yet in a preview (Check rejects a real 0).
	if in.SizeGB > 0 && in.SizeGB < old.SizeGB && !replaced(in, old) {
		return infer.DiffResponse{}, fmt.Errorf("volume %s: sizeGb %d is smaller than its current %d GB, and Fly "+
			"volumes never shrink: set sizeGb to %d or more, or create a new volume and move the data",
			req.ID, in.SizeGB, old.SizeGB, old.SizeGB)
	}
	var d diff.Builder
	d.Replace("app", in.App != old.App)
	d.Replace("name", in.Name != old.Name)
	d.Replace("region", in.Region != old.Region)
	d.Replace("encrypted", opt.Val(in.Encrypted) != opt.Val(old.Encrypted))
	d.Update("sizeGb", in.SizeGB != old.SizeGB)
	d.Update("snapshotRetention", in.SnapshotRetention != old.SnapshotRetention)
	d.Update("autoBackupEnabled", opt.Val(in.AutoBackupEnabled) != opt.Val(old.AutoBackupEnabled))
	d.Update("requireUniqueZone", opt.Val(in.RequireUniqueZone) != opt.Val(old.RequireUniqueZone))
	return d.Response(false), nil
}

func replaced(in Args, old State) bool {
	return in.App != old.App || in.Name != old.Name || in.Region != old.Region ||
		opt.Val(in.Encrypted) != opt.Val(old.Encrypted)
}

// WireDependencies keeps outputs known in previews of updates that cannot
// change them (e.g. the ID when only the retention changes).
func (*Volume) WireDependencies(f infer.FieldSelector, args *Args, state *State) {
	identity := []infer.InputField{
		f.InputField(&args.App), f.InputField(&args.Name), f.InputField(&args.Region), f.InputField(&args.Encrypted),
	}
	f.OutputField(&state.VolumeID).DependsOn(identity...)
	f.OutputField(&state.Zone).DependsOn(identity...)
	f.OutputField(&state.AttachedMachineID).DependsOn(identity...)
	f.OutputField(&state.State).DependsOn(append(identity, f.InputField(&args.SizeGB))...)
	f.OutputField(&state.NeedsRestart).DependsOn(f.InputField(&args.SizeGB))
}

// Create creates the volume.
func (r *Volume) Create(ctx context.Context, req infer.CreateRequest[Args]) (infer.CreateResponse[State], error) {
	return crud.Create(ctx, r.Fly, req, func(in Args) infer.CreateResponse[State] {
		return infer.CreateResponse[State]{Output: State{Args: in}}
	}, create)
}

func create(ctx context.Context, client fly.Client, in Args) (infer.CreateResponse[State], error) {
	return adopt.Serialize(ctx, "volume", in.App, func() (infer.CreateResponse[State], error) {
		id, err := leftover(ctx, client, in)
		switch {
		case err != nil:
			return infer.CreateResponse[State]{}, err
		case id == "":
			return createNew(ctx, client, in)
		}
		p.GetLogger(ctx).Infof("volume %s (%q in %s) of app %q: adopting what an interrupted create left", id, in.Name, in.Region, in.App)
		got, err := client.GetVolume(ctx, in.App, id)
		if err != nil {
			return infer.CreateResponse[State]{}, fmt.Errorf("reading volume %s of app %q to adopt it: %w", id, in.App, err)
		}
		return infer.CreateResponse[State]{ID: id, Output: state(in, got, false)}, nil
	})
}

// leftover finds the volume an interrupted create of this resource left:
// Fly volume names are not unique and volumes carry no metadata, so it is an
// unattached volume of the app with this name, region and encryption that no
// resource claims; "" when there is none.
func leftover(ctx context.Context, client fly.Client, in Args) (string, error) {
	vols, err := client.ListVolumes(ctx, in.App)
	if err != nil {
		return "", fmt.Errorf("listing volumes of app %q before creating one: %w", in.App, err)
	}
	var ids []string
	for _, v := range vols {
		if opt.Val(v.Name) == in.Name && opt.Val(v.Region) == in.Region && opt.Val(v.AttachedMachineId) == "" &&
			(in.Encrypted == nil || v.Encrypted == nil || *in.Encrypted == *v.Encrypted) {
			ids = append(ids, opt.Val(v.Id))
		}
	}
	return adopt.Pick(ctx, in.App, fmt.Sprintf("unattached volumes named %q in %s", in.Name, in.Region), ids,
		fmt.Sprintf("delete the extra ones (`fly volumes destroy <id> -a %s`) or import each into the stack "+
			"(`pulumi import flyio:index:Volume <resource name> %s/<id>`)", in.App, in.App))
}

func createNew(ctx context.Context, client fly.Client, in Args) (infer.CreateResponse[State], error) {
	created, err := client.CreateVolume(ctx, in.App, flyapi.CreateVolumeRequest{
		Name:              &in.Name,
		Region:            &in.Region,
		SizeGb:            &in.SizeGB,
		Encrypted:         in.Encrypted,
		SnapshotRetention: &in.SnapshotRetention,
		AutoBackupEnabled: in.AutoBackupEnabled,
		RequireUniqueZone: in.RequireUniqueZone,
	})
	if err != nil {
		return infer.CreateResponse[State]{}, fmt.Errorf("creating volume %q of app %q in %s: %w", in.Name, in.App, in.Region, err)
	}
	id := opt.Val(created.Id)
	adopt.Claim(ctx, in.App, id)
	// The create answers with the whole volume, as a read would show it.
	return infer.CreateResponse[State]{ID: id, Output: state(in, created, false)}, nil
}

// Update extends the volume and changes its snapshot settings in place.
func (r *Volume) Update(ctx context.Context, req infer.UpdateRequest[Args, State]) (infer.UpdateResponse[State], error) {
	return crud.Update(ctx, r.Fly, req, State.withInputs, update)
}

// withInputs is the preview of an update: the outputs it cannot change stay known.
func (s State) withInputs(in Args) State {
	s.Args = in
	return s
}

func update(ctx context.Context, client fly.Client, req infer.UpdateRequest[Args, State]) (infer.UpdateResponse[State], error) {
	in, old := req.Inputs, req.State
	adopt.Claim(ctx, in.App, req.ID)
	needsRestart := old.NeedsRestart
	if in.SizeGB > old.SizeGB {
		var err error
		_, needsRestart, err = client.ExtendVolume(ctx, in.App, req.ID, in.SizeGB)
		if err != nil {
			return infer.UpdateResponse[State]{}, fmt.Errorf("extending volume %s of app %q to %d GB: %w", req.ID, in.App, in.SizeGB, err)
		}
	}
	if in.SnapshotRetention != old.SnapshotRetention || opt.Val(in.AutoBackupEnabled) != opt.Val(old.AutoBackupEnabled) {
		_, err := client.UpdateVolume(ctx, in.App, req.ID, flyapi.UpdateVolumeRequest{
			SnapshotRetention: &in.SnapshotRetention,
			AutoBackupEnabled: in.AutoBackupEnabled,
		})
		if err != nil {
			return infer.UpdateResponse[State]{}, fmt.Errorf("updating volume %s of app %q: %w", req.ID, in.App, err)
		}
	}
	got, err := client.GetVolume(ctx, in.App, req.ID)
	if err != nil {
		return infer.UpdateResponse[State]{}, fmt.Errorf("reading volume %s of app %q after updating it: %w", req.ID, in.App, err)
	}
	return infer.UpdateResponse[State]{Output: state(in, got, needsRestart)}, nil
}

// Read reads the volume for refresh, and for import by `<app>/<volume ID>`.
func (r *Volume) Read(ctx context.Context, req infer.ReadRequest[Args, State]) (infer.ReadResponse[Args, State], error) {
	app, id, err := importid.Resolve(req.State.App, req.ID, "volume ID", "my-app/vol_123")
	if err != nil {
		return infer.ReadResponse[Args, State]{}, err
	}
	adopt.Claim(ctx, app, id)
	return crud.Read(ctx, r.Fly, func(ctx context.Context, client fly.Client) (infer.ReadResponse[Args, State], error) {
		got, err := client.GetVolume(ctx, app, id) // not found also when being destroyed
		if err != nil {
			return infer.ReadResponse[Args, State]{}, fmt.Errorf("reading volume %s of app %q: %w", id, app, err)
		}
		in := req.Inputs
		in.App = app
		if in.RequireUniqueZone == nil { // creation-time only: Fly does not report it
			in.RequireUniqueZone = new(true)
		}
		s := state(in, got, req.State.NeedsRestart)
		return infer.ReadResponse[Args, State]{ID: id, Inputs: s.Args, State: s}, nil
	})
}

// Delete destroys the volume; one that is already gone is fine.
func (r *Volume) Delete(ctx context.Context, req infer.DeleteRequest[State]) (infer.DeleteResponse, error) {
	return crud.Delete(ctx, r.Fly, func(ctx context.Context, client fly.Client) error {
		if err := client.DeleteVolume(ctx, req.State.App, req.ID); err != nil {
			return fmt.Errorf("deleting volume %s of app %q: %w", req.ID, req.State.App, err)
		}
		return nil
	})
}

// state builds the recorded state from what Fly reports, keeping an input
// where Fly leaves the field out.
func state(in Args, got flyapi.Volume, needsRestart bool) State {
	in.Name = opt.Or(got.Name, in.Name)
	in.Region = opt.Or(got.Region, in.Region)
	in.SizeGB = opt.Or(got.SizeGb, in.SizeGB)
	in.SnapshotRetention = opt.Or(got.SnapshotRetention, in.SnapshotRetention)
	if got.Encrypted != nil {
		in.Encrypted = got.Encrypted
	}
	if got.AutoBackupEnabled != nil {
		in.AutoBackupEnabled = got.AutoBackupEnabled
	}
	return State{
		Args:              in,
		VolumeID:          opt.Val(got.Id),
		Zone:              opt.Val(got.Zone),
		State:             opt.Val(got.State),
		AttachedMachineID: opt.Val(got.AttachedMachineId),
		NeedsRestart:      needsRestart,
	}
}
