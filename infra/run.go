// Package infra is the Pulumi program behind main.go: it loads the stack's
// configuration, picks the backend it names and deploys Emothe with it.
package infra

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/emothe/emothe/infra/compose"
	"github.com/emothe/emothe/infra/fly"
	"github.com/emothe/emothe/infra/stack"
)

// Backends are the implemented backends, each declared in its own folder;
// the first is the default emothe:backend.
var Backends = stack.Registry{fly.Platform, compose.Platform}

// Outputs are the stack outputs, the same shape for every backend.
type Outputs struct {
	URL          pulumi.StringOutput
	Image        pulumi.StringOutput
	AppName      pulumi.StringOutput
	DatabaseHost pulumi.StringOutput
	DNSRecords   pulumi.StringArrayOutput
	Backend      pulumi.StringOutput
}

// Run is the program: main.go only calls it.
func Run(ctx *pulumi.Context) error {
	st, err := Backends.FromContext(ctx)
	if err != nil {
		return err
	}
	out, err := Deploy(ctx, st)
	if err != nil {
		return err
	}
	ctx.Export("url", out.URL)
	ctx.Export("image", out.Image)
	ctx.Export("appName", out.AppName)
	ctx.Export("databaseHost", out.DatabaseHost)
	ctx.Export("dnsRecords", out.DNSRecords)
	ctx.Export("backend", out.Backend)
	return nil
}

// deployment is the component that parents everything a backend creates.
type deployment struct {
	pulumi.ResourceState
}

// Deploy registers a loaded stack's deployment under one component. The
// configuration was validated, and the deployment planned, when it was
// loaded: a bad stack never gets here, so it is left exactly as it was.
func Deploy(ctx *pulumi.Context, st *stack.Loaded) (*Outputs, error) {
	cfg := st.Config
	comp := &deployment{}
	if err := ctx.RegisterComponentResource("emothe:index:Deployment", cfg.AppName, comp); err != nil {
		return nil, err
	}
	d, err := st.Deploy(ctx, comp)
	if err != nil {
		return nil, err
	}
	out := &Outputs{
		URL:          d.App.URL,
		Image:        d.Image,
		AppName:      pulumi.String(cfg.AppName).ToStringOutput(),
		DatabaseHost: d.Database.Host,
		DNSRecords:   d.App.DNSRecords,
		Backend:      pulumi.String(cfg.Backend).ToStringOutput(),
	}
	err = ctx.RegisterResourceOutputs(comp, pulumi.Map{
		"url": out.URL, "image": out.Image, "databaseHost": out.DatabaseHost, "backend": out.Backend,
	})
	return out, err
}
