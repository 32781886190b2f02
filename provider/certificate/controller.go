package certificate

import (
	"context"
	"fmt"
	"regexp"

	"github.com/pulumi/pulumi-go-provider/infer"

	"github.com/emothe/emothe/provider/fly"
	"github.com/emothe/emothe/provider/flyapi"
	"github.com/emothe/emothe/provider/internal/check"
	"github.com/emothe/emothe/provider/internal/crud"
	"github.com/emothe/emothe/provider/internal/diff"
	"github.com/emothe/emothe/provider/internal/importid"
	"github.com/emothe/emothe/provider/internal/opt"
)

var (
	_ infer.CustomCheck[Args]           = (*Certificate)(nil)
	_ infer.CustomDiff[Args, State]     = (*Certificate)(nil)
	_ infer.CustomRead[Args, State]     = (*Certificate)(nil)
	_ infer.CustomDelete[State]         = (*Certificate)(nil)
	_ infer.CustomResource[Args, State] = (*Certificate)(nil)
)

// hostname is a fully qualified DNS name, optionally a wildcard.
var hostname = regexp.MustCompile(`^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$`)

// Check validates the inputs.
func (*Certificate) Check(ctx context.Context, req infer.CheckRequest) (infer.CheckResponse[Args], error) {
	in, failures, err := infer.DefaultCheck[Args](ctx, req.NewInputs)
	if err != nil || len(failures) > 0 {
		return infer.CheckResponse[Args]{Inputs: in, Failures: failures}, err
	}
	var f check.Failures
	f.Name(req.NewInputs, "app", in.App)
	if check.Known(req.NewInputs, "hostname") && (!hostname.MatchString(in.Hostname) || len(in.Hostname) > 253) {
		f.Addf("hostname", "hostname %q is not a fully qualified lower-case DNS name: use e.g. %q or %q",
			in.Hostname, "www.example.com", "*.example.com")
	}
	return infer.CheckResponse[Args]{Inputs: in, Failures: f}, nil
}

// Diff replaces on any change. Moving a hostname to another app deletes it
// first: a hostname belongs to one app at a time.
func (*Certificate) Diff(_ context.Context, req infer.DiffRequest[Args, State]) (infer.DiffResponse, error) {
	var d diff.Builder
	d.Replace("app", req.Inputs.App != req.State.App)
	d.Replace("hostname", req.Inputs.Hostname != req.State.Hostname)
	return d.Response(req.Inputs.Hostname == req.State.Hostname), nil
}

// Create adds the hostname and asks Fly to check its DNS at once, which
// starts the certificate's validation. The state is what a refresh (a
// plain read) will see.
func (r *Certificate) Create(ctx context.Context, req infer.CreateRequest[Args]) (infer.CreateResponse[State], error) {
	return crud.Create(ctx, r.Fly, req, func(in Args) infer.CreateResponse[State] {
		// Non-nil records, so preview shows them as unknown, not absent.
		return infer.CreateResponse[State]{ID: in.Hostname, Output: State{Args: in, DNSRecords: []DNSRecord{}}}
	}, create)
}

func create(ctx context.Context, client fly.Client, in Args) (infer.CreateResponse[State], error) {
	if _, err := client.CreateACMECertificate(ctx, in.App, in.Hostname); err != nil {
		return infer.CreateResponse[State]{}, fmt.Errorf("adding hostname %q to app %q: %w", in.Hostname, in.App, err)
	}
	if _, err := client.CheckCertificate(ctx, in.App, in.Hostname); err != nil {
		return infer.CreateResponse[State]{}, fmt.Errorf("checking the certificate of %q on app %q: %w", in.Hostname, in.App, err)
	}
	got, err := client.GetCertificate(ctx, in.App, in.Hostname)
	if err != nil {
		return infer.CreateResponse[State]{}, fmt.Errorf("reading the certificate of %q on app %q: %w", in.Hostname, in.App, err)
	}
	return infer.CreateResponse[State]{ID: in.Hostname, Output: state(in, got)}, nil
}

// Read reads the hostname's certificate as Fly last checked it. It never
// asks for a new check, which is a write: refresh and drift only read.
func (r *Certificate) Read(ctx context.Context, req infer.ReadRequest[Args, State]) (infer.ReadResponse[Args, State], error) {
	app, host, err := importid.Resolve(req.State.App, req.ID, "hostname", "my-app/www.example.com")
	if err != nil {
		return infer.ReadResponse[Args, State]{}, err
	}
	return crud.Read(ctx, r.Fly, func(ctx context.Context, client fly.Client) (infer.ReadResponse[Args, State], error) {
		got, err := client.GetCertificate(ctx, app, host)
		if err != nil {
			return infer.ReadResponse[Args, State]{}, fmt.Errorf("reading the certificate of %q on app %q: %w", host, app, err)
		}
		s := state(Args{App: app, Hostname: host}, got)
		return infer.ReadResponse[Args, State]{ID: host, Inputs: s.Args, State: s}, nil
	})
}

// Delete removes the hostname and its certificates; one already gone is fine.
func (r *Certificate) Delete(ctx context.Context, req infer.DeleteRequest[State]) (infer.DeleteResponse, error) {
	return crud.Delete(ctx, r.Fly, func(ctx context.Context, client fly.Client) error {
		if err := client.DeleteCertificate(ctx, req.State.App, req.ID); err != nil {
			return fmt.Errorf("removing hostname %q from app %q: %w", req.ID, req.State.App, err)
		}
		return nil
	})
}

func state(in Args, got flyapi.CertificateDetail) State {
	return State{
		Args:       in,
		Status:     opt.Val(got.Status),
		Configured: opt.Val(got.Configured),
		DNSRecords: records(in.Hostname, got.DnsRequirements),
	}
}

// records flattens Fly's DNS requirements into a list a DNS resource can
// iterate over, in a stable order.
func records(host string, req *flyapi.DNSRequirements) []DNSRecord {
	out := []DNSRecord{}
	if req == nil {
		return out
	}
	for _, a := range opt.Val(req.A) {
		out = append(out, DNSRecord{Type: "A", Name: host, Value: a, Purpose: PurposeRouting})
	}
	for _, aaaa := range opt.Val(req.Aaaa) {
		out = append(out, DNSRecord{Type: "AAAA", Name: host, Value: aaaa, Purpose: PurposeRouting})
	}
	if cname := opt.Val(req.Cname); cname != "" {
		out = append(out, DNSRecord{Type: "CNAME", Name: host, Value: cname, Purpose: PurposeRouting})
	}
	if c := req.AcmeChallenge; c != nil && opt.Val(c.Name) != "" {
		out = append(out, DNSRecord{Type: "CNAME", Name: opt.Val(c.Name), Value: opt.Val(c.Target), Purpose: PurposeAcmeChallenge})
	}
	if o := req.Ownership; o != nil && opt.Val(o.Name) != "" {
		out = append(out, DNSRecord{Type: "TXT", Name: opt.Val(o.Name), Value: opt.Val(o.AppValue), Purpose: PurposeOwnership})
	}
	return out
}
