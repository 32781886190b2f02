package ip

import (
	"context"
	"fmt"
	"slices"
	"strings"

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
	_ infer.CustomCheck[Args]           = (*IPAddress)(nil)
	_ infer.CustomDiff[Args, State]     = (*IPAddress)(nil)
	_ infer.CustomRead[Args, State]     = (*IPAddress)(nil)
	_ infer.CustomDelete[State]         = (*IPAddress)(nil)
	_ infer.CustomResource[Args, State] = (*IPAddress)(nil)
)

// Check validates the inputs.
func (*IPAddress) Check(ctx context.Context, req infer.CheckRequest) (infer.CheckResponse[Args], error) {
	in, failures, err := infer.DefaultCheck[Args](ctx, req.NewInputs)
	if err != nil || len(failures) > 0 {
		return infer.CheckResponse[Args]{Inputs: in, Failures: failures}, err
	}
	var f check.Failures
	f.Name(req.NewInputs, "app", in.App)
	f.OneOf(req.NewInputs, "type", string(in.Type), string(V4), string(V6), string(SharedV4), string(PrivateV6))
	if check.Known(req.NewInputs, "type") && in.Network != "" && in.Type != PrivateV6 {
		f.Addf("network", "network %q only applies to private_v6 (Flycast) addresses, not %s: "+
			"remove network or set type to private_v6", in.Network, in.Type)
	}
	return infer.CheckResponse[Args]{Inputs: in, Failures: f}, nil
}

// Diff replaces on any change. A shared IPv4 is the app's one shared
// address, so its old resource is released before a new one takes it.
func (*IPAddress) Diff(ctx context.Context, req infer.DiffRequest[Args, State]) (infer.DiffResponse, error) {
	in, old := req.Inputs, req.State
	adopt.Claim(ctx, old.App, req.ID)
	var d diff.Builder
	d.Replace("app", in.App != old.App)
	d.Replace("type", in.Type != old.Type)
	d.Replace("region", in.Region != old.Region)
	d.Replace("network", in.Network != old.Network)
	d.Replace("serviceName", in.ServiceName != old.ServiceName)
	return d.Response(in.Type == SharedV4 && old.Type == SharedV4 && in.App == old.App), nil
}

// Create assigns the address.
func (r *IPAddress) Create(ctx context.Context, req infer.CreateRequest[Args]) (infer.CreateResponse[State], error) {
	return crud.Create(ctx, r.Fly, req, func(in Args) infer.CreateResponse[State] {
		return infer.CreateResponse[State]{Output: State{Args: in}}
	}, create)
}

func create(ctx context.Context, client fly.Client, in Args) (infer.CreateResponse[State], error) {
	req := flyapi.AssignIPRequest{
		Type:        new(string(in.Type)),
		Region:      opt.NonZero(in.Region),
		Network:     opt.NonZero(in.Network),
		ServiceName: opt.NonZero(in.ServiceName),
	}
	return adopt.Serialize(ctx, "ip", in.App, func() (infer.CreateResponse[State], error) {
		got, found, err := leftover(ctx, client, in, req)
		if err == nil && !found {
			got, err = client.AssignIP(ctx, in.App, req)
		}
		if err != nil {
			return infer.CreateResponse[State]{}, fmt.Errorf("assigning a %s address to app %q: %w", in.Type, in.App, err)
		}
		if found {
			p.GetLogger(ctx).Infof("address %s of app %q: adopting what an interrupted create left", opt.Val(got.Ip), in.App)
		}
		s := state(in, got)
		adopt.Claim(ctx, in.App, s.Address)
		return infer.CreateResponse[State]{ID: s.Address, Output: s}, nil
	})
}

// leftover finds the address an interrupted create of this resource left:
// assignments carry no metadata, so it is one of the app's of this kind,
// region and service that no resource claims. A shared IPv4 needs no search:
// an app has one, and assigning it again answers it.
func leftover(ctx context.Context, client fly.Client, in Args, req flyapi.AssignIPRequest) (flyapi.IPAssignment, bool, error) {
	if in.Type == SharedV4 {
		return flyapi.IPAssignment{}, false, nil
	}
	ips, err := client.ListIPs(ctx, in.App)
	if err != nil {
		return flyapi.IPAssignment{}, false, fmt.Errorf("listing addresses of app %q before assigning one: %w", in.App, err)
	}
	ips = slices.DeleteFunc(ips, func(a flyapi.IPAssignment) bool { return typeOf(a) != in.Type || !fly.IPMatches(a, req) })
	var addrs []string
	for _, a := range ips {
		addrs = append(addrs, opt.Val(a.Ip))
	}
	addr, err := adopt.Pick(ctx, in.App, fmt.Sprintf("%s addresses", in.Type), addrs,
		fmt.Sprintf("release the extra ones (`fly ips release <address> -a %s`) or import each into the stack "+
			"(`pulumi import flyio:index:IPAddress <resource name> %s/<address>`)", in.App, in.App))
	i := slices.IndexFunc(ips, func(a flyapi.IPAssignment) bool { return opt.Val(a.Ip) == addr })
	if err != nil || i < 0 {
		return flyapi.IPAssignment{}, false, err
	}
	return ips[i], true, nil
}

// Read finds the address among the app's assignments; the import ID is
// `<app>/<address>`, as an address alone does not name its app.
func (r *IPAddress) Read(ctx context.Context, req infer.ReadRequest[Args, State]) (infer.ReadResponse[Args, State], error) {
	app, addr, err := importid.Resolve(req.State.App, req.ID, "address", "my-app/2a09:8280:1::1")
	if err != nil {
		return infer.ReadResponse[Args, State]{}, err
	}
	adopt.Claim(ctx, app, addr)
	return crud.Read(ctx, r.Fly, func(ctx context.Context, client fly.Client) (infer.ReadResponse[Args, State], error) {
		ips, err := client.ListIPs(ctx, app) // not found: the app and its addresses are gone
		if err != nil {
			return infer.ReadResponse[Args, State]{}, fmt.Errorf("listing addresses of app %q: %w", app, err)
		}
		i := slices.IndexFunc(ips, func(got flyapi.IPAssignment) bool { return opt.Val(got.Ip) == addr })
		if i < 0 {
			return infer.ReadResponse[Args, State]{}, nil
		}
		in := req.Inputs
		in.App = app
		in.Type = typeOf(ips[i])
		s := state(in, ips[i])
		return infer.ReadResponse[Args, State]{ID: addr, Inputs: s.Args, State: s}, nil
	})
}

// Delete releases the address. Releasing one that is already gone is not an
// error (the old providers' "Could not find IPAssignment").
func (r *IPAddress) Delete(ctx context.Context, req infer.DeleteRequest[State]) (infer.DeleteResponse, error) {
	return crud.Delete(ctx, r.Fly, func(ctx context.Context, client fly.Client) error {
		if err := client.ReleaseIP(ctx, req.State.App, req.ID); err != nil {
			return fmt.Errorf("releasing address %s of app %q: %w", req.ID, req.State.App, err)
		}
		return nil
	})
}

func state(in Args, got flyapi.IPAssignment) State {
	// Fly reports global addresses with region "global"; unset means the same.
	if region := opt.Val(got.Region); !(in.Region == "" && region == "global") {
		in.Region = opt.Or(got.Region, in.Region)
	}
	in.ServiceName = opt.Or(got.ServiceName, in.ServiceName)
	return State{Args: in, Address: opt.Val(got.Ip)}
}

// typeOf tells the kind of an assignment: the Machines API reports whether
// it is shared but not its type, and Flycast addresses are in fdaa::/16.
func typeOf(got flyapi.IPAssignment) IPType {
	addr := opt.Val(got.Ip)
	switch {
	case opt.Val(got.Shared):
		return SharedV4
	case strings.HasPrefix(addr, "fdaa:"):
		return PrivateV6
	case strings.Contains(addr, ":"):
		return V6
	default:
		return V4
	}
}
