// Package infra is the Pulumi program behind main.go: it loads the stack's
// configuration, picks the backend it names and deploys Emothe with it.
package infra

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/emothe/emothe/infra/compose"
	"github.com/emothe/emothe/infra/fly"
	"github.com/emothe/emothe/infra/stack"
)

// Backends are the implemented backends by `emothe:backend` value.
var Backends = map[string]stack.Platform{
	"compose": {Check: compose.Check, New: compose.New},
	"fly":     {Check: fly.Check, New: fly.New},
}

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
	cfg, err := stack.FromContext(ctx)
	if err != nil {
		return err
	}
	out, err := Deploy(ctx, cfg, Backends)
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

// Deploy runs the backend cfg names through its four steps under one
// component. An unknown backend, a missing secret or a configuration the
// backend refuses fails before anything is registered.
func Deploy(ctx *pulumi.Context, cfg *stack.Config, backends map[string]stack.Platform) (*Outputs, error) {
	platform, ok := backends[cfg.Backend]
	if !ok {
		names := make([]string, 0, len(backends))
		for n := range backends {
			names = append(names, n)
		}
		slices.Sort(names)
		return nil, fmt.Errorf("%s:backend = %q is not available in this version (implemented: %s); nothing was created; fix: pulumi config set %s:backend <one of those>",
			stack.Namespace, cfg.Backend, orNone(names), stack.Namespace)
	}
	if err := stack.RequireSecret(cfg, "secretKeyBase", cfg.SecretKeyBase, "the service's SECRET_KEY_BASE, at least 64 characters"); err != nil {
		return nil, err
	}
	if platform.Check != nil {
		if err := platform.Check(ctx, cfg); err != nil {
			return nil, err
		}
	}

	comp := &deployment{}
	if err := ctx.RegisterComponentResource("emothe:index:Deployment", cfg.AppName, comp); err != nil {
		return nil, err
	}
	b, err := platform.New(ctx, cfg, comp)
	if err != nil {
		return nil, err
	}
	image, err := b.Image(ctx)
	if err != nil {
		return nil, fmt.Errorf("image: %w", err)
	}
	db, err := b.Database(ctx)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	secrets, err := b.Secrets(ctx, stack.SecretEnv(cfg, db))
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	app, err := b.App(ctx, image, db, secrets)
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	out := &Outputs{
		URL:          app.URL,
		Image:        image,
		AppName:      pulumi.String(cfg.AppName).ToStringOutput(),
		DatabaseHost: db.Host,
		DNSRecords:   app.DNSRecords,
		Backend:      pulumi.String(cfg.Backend).ToStringOutput(),
	}
	err = ctx.RegisterResourceOutputs(comp, pulumi.Map{
		"url": out.URL, "image": out.Image, "databaseHost": out.DatabaseHost, "backend": out.Backend,
	})
	return out, err
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none yet"
	}
	return strings.Join(names, ", ")
}
