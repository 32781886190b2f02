// Package fly is the Fly.io backend: it deploys a Plan with the project's
// own flyio provider (sdk/go/flyio), which the stack configures through
// `flyio:token` (or FLY_API_TOKEN), `flyio:org` and `flyio:apiUrl`.
//
// The app, its secrets (AppSecrets, whose version the machines boot with),
// its machines (a MachineGroup running `emothe migrate` as the release
// command), IPs and certificate; Postgres as Fly Managed Postgres or as a
// machine on an app of its own; the image prebuilt or built and pushed to
// Fly's registry.
package fly

import (
	"fmt"
	"slices"

	"github.com/pulumi/pulumi-docker/sdk/v4/go/docker"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/emothe/emothe/infra/stack"
	"github.com/emothe/emothe/sdk/go/flyio"
)

// steps deploy a Plan. They are the Fly backend's stack.Steps.
type steps struct {
	plan Plan
	cfg  Config
}

// base is what every step builds on: the Fly app, which the registry, the
// database attachment and the secrets all need, and the options that
// parent every resource to the deployment.
type base struct {
	app  *flyio.App
	opts []pulumi.ResourceOption
}

var _ stack.Steps[*base] = (*steps)(nil)

// with is b's options and then opts.
func (b *base) with(opts ...pulumi.ResourceOption) []pulumi.ResourceOption {
	return append(slices.Clone(b.opts), opts...)
}

// Base creates the app.
func (s *steps) Base(ctx *pulumi.Context, parent pulumi.Resource) (*base, error) {
	b := &base{opts: []pulumi.ResourceOption{pulumi.Parent(parent)}}
	app, err := flyio.NewApp(ctx, s.plan.App, &flyio.AppArgs{Name: pulumi.String(s.plan.App)}, b.opts...)
	if err != nil {
		return nil, fmt.Errorf("app %s: %w", s.plan.App, err)
	}
	b.app = app
	return b, nil
}

// Image is the prebuilt reference, or the Dockerfile's build pushed to
// <emothe:flyRegistry>/<app>, referenced by its repo digest: an unchanged build
// leaves the machines as they are.
func (s *steps) Image(ctx *pulumi.Context, b *base) (pulumi.StringOutput, error) {
	if s.plan.Image != "" {
		return pulumi.String(s.plan.Image).ToStringOutput(), nil
	}
	// The push needs the app (Fly's registry keeps an app's images under its
	// name), and docker.Image builds and pushes in one step: the build waits
	// for the app's create, a second against a build of minutes.
	img, err := docker.NewImage(ctx, s.plan.App+"-image", imageArgs(s.plan.Build, s.cfg.Token.Value()),
		b.with(pulumi.DependsOn([]pulumi.Resource{b.app}))...)
	if err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("build %s: %w", s.plan.Build.Name, err)
	}
	return img.RepoDigest, nil
}

// imageArgs builds the Dockerfile for Fly's machines and pushes it with the
// token as the (secret) registry password.
func imageArgs(bd Build, token string) *docker.ImageArgs {
	return &docker.ImageArgs{
		ImageName: pulumi.String(bd.Name),
		Build: &docker.DockerBuildArgs{
			Context:    pulumi.String(bd.Context),
			Dockerfile: pulumi.String(bd.Dockerfile),
			Platform:   pulumi.String(bd.Platform),
		},
		Registry: &docker.RegistryArgs{
			Server:   pulumi.String(bd.Registry),
			Username: pulumi.String(bd.Username),
			Password: secret(registryPassword(token)),
		},
	}
}

// Database is the Managed Postgres cluster or the Postgres machine.
func (s *steps) Database(ctx *pulumi.Context, b *base) (*stack.Database, error) {
	if m := s.plan.Database.Managed; m != nil {
		return s.managedPostgres(ctx, b, *m)
	}
	return s.machinePostgres(ctx, b, *s.plan.Database.Machine)
}

// Secrets sets the app's secrets in Fly's store; the machines boot with
// their version.
func (s *steps) Secrets(ctx *pulumi.Context, b *base, env pulumi.StringMap) (*stack.Secrets, error) {
	sec, err := flyio.NewAppSecrets(ctx, s.plan.App+"-secrets", &flyio.AppSecretsArgs{App: b.app.Name, Values: env}, b.opts...)
	if err != nil {
		return nil, fmt.Errorf("secrets of %s: %w", s.plan.App, err)
	}
	return &stack.Secrets{Version: sec.Version, Resources: []pulumi.Resource{sec}}, nil
}

// App allocates the IPs and the certificate, then rolls the machines onto
// image: the release command first, then the machines per the strategy.
func (s *steps) App(ctx *pulumi.Context, b *base, image pulumi.StringOutput, db *stack.Database, secrets *stack.Secrets) (*stack.App, error) {
	var leaves []pulumi.Resource
	var addresses pulumi.StringArray
	for _, typ := range s.plan.IPs {
		name := fmt.Sprintf("%s-ip-%s", s.plan.App, typ)
		ip, err := flyio.NewIPAddress(ctx, name, &flyio.IPAddressArgs{App: b.app.Name, Type: typ}, b.opts...)
		if err != nil {
			return nil, fmt.Errorf("IP address %s: %w", name, err)
		}
		leaves = append(leaves, ip)
		addresses = append(addresses, ip.Address)
	}
	records := pulumi.StringArray{}.ToStringArrayOutput()
	if d := s.plan.Domain; d != "" {
		// After the IPs: Fly lists them as the A/AAAA records to create.
		cert, err := flyio.NewCertificate(ctx, s.plan.App+"-cert", &flyio.CertificateArgs{
			App: b.app.Name, Hostname: pulumi.String(d),
		}, append(slices.Clone(b.opts), pulumi.DependsOn(slices.Clone(leaves)))...)
		if err != nil {
			return nil, fmt.Errorf("certificate for %s: %w", d, err)
		}
		records = pulumi.All(cert.DnsRecords, addresses.ToStringArrayOutput()).ApplyT(func(v []any) []string {
			return DNSRecords(d, v[0].([]flyio.DNSRecord), v[1].([]string))
		}).(pulumi.StringArrayOutput)
		leaves = append(leaves, cert)
	}
	after := append(slices.Clone(db.Resources), secrets.Resources...)
	machines, err := b.group(ctx, s.plan.App+"-machines", b.app.Name, s.plan.Machines, image, secrets.Version,
		b.with(pulumi.DependsOn(after)))
	if err != nil {
		return nil, err
	}
	if err := b.guard(ctx, s.plan.App, s.plan.Database.Protect, append(leaves, machines)); err != nil {
		return nil, err
	}
	return &stack.App{URL: pulumi.String(s.plan.URL).ToStringOutput(), DNSRecords: records}, nil
}

// destroyGuard stands for the whole deployment on `pulumi destroy`.
type destroyGuard struct{ pulumi.ResourceState }

// guard registers a resource that depends on every leaf of the deployment,
// so a destroy deletes it first, and protects it with the database. The
// engine refuses a protected resource only when its turn comes: without
// the guard, a destroy of a protected stack would take down the machines,
// secrets, IPs and certificate before stopping at the database.
func (b *base) guard(ctx *pulumi.Context, app string, protect bool, leaves []pulumi.Resource) error {
	g := &destroyGuard{}
	err := ctx.RegisterComponentResource("emothe:index:DestroyGuard", app+"-destroy-guard", g,
		b.with(pulumi.DependsOn(leaves), pulumi.Protect(protect))...)
	if err != nil {
		return fmt.Errorf("destroy guard: %w", err)
	}
	return ctx.RegisterResourceOutputs(g, pulumi.Map{})
}

// group registers a MachineGroup running g on app with image, booting with
// the secrets of version, with opts.
func (b *base) group(ctx *pulumi.Context, name string, app pulumi.StringInput, g Group, image pulumi.StringOutput,
	version pulumi.IntOutput, opts []pulumi.ResourceOption,
) (*flyio.MachineGroup, error) {
	config := image.ApplyT(func(img string) flyio.MachineConfig {
		c := g.Config
		c.Image = img
		return c
	}).(flyio.MachineConfigOutput)
	args := &flyio.MachineGroupArgs{
		App:               app,
		Regions:           pulumi.ToStringArray(g.Regions),
		CountPerRegion:    pulumi.Int(g.CountPerRegion),
		PrimaryRegion:     pulumi.String(g.PrimaryRegion),
		Config:            config,
		MinSecretsVersion: version.ToIntPtrOutput(),
	}
	if len(g.ReleaseCommand) > 0 {
		args.ReleaseCommand = pulumi.ToStringArray(g.ReleaseCommand)
	}
	if s := g.Strategy; s != nil {
		args.Strategy = flyio.RolloutStrategyArgs{Type: pulumi.StringPtrFromPtr(s.Type), MaxUnavailable: pulumi.IntPtrFromPtr(s.MaxUnavailable)}
	}
	grp, err := flyio.NewMachineGroup(ctx, name, args, opts...)
	if err != nil {
		return nil, fmt.Errorf("machines %s: %w", name, err)
	}
	return grp, nil
}

func secret(v string) pulumi.StringOutput {
	return pulumi.ToSecret(pulumi.String(v)).(pulumi.StringOutput)
}
