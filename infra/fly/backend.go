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
	"os"
	"slices"

	"github.com/pulumi/pulumi-docker/sdk/v4/go/docker"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/emothe/emothe/infra/stack"
	"github.com/emothe/emothe/sdk/go/flyio"
)

// EnvToken is where the token comes from when `flyio:token` is unset, as
// for the provider itself.
const EnvToken = "FLY_API_TOKEN"

// backend deploys a Plan. It is a stack.Backend.
type backend struct {
	cfg  *stack.Config
	plan Plan
	// token pushes the built image; empty with a prebuilt one.
	token string
	// opts parent every resource to the deployment.
	opts []pulumi.ResourceOption
	// app is the Fly app: every other resource of it waits for it.
	app *flyio.App
	// direct is the database's unpooled URL, for the release command.
	direct pulumi.StringOutput
}

var _ stack.Backend = (*backend)(nil)

// Check refuses, before anything is registered, a stack the Fly backend
// cannot deploy: names Fly would reject, the Postgres machine's password
// missing, or no token to push a build with.
func Check(ctx *pulumi.Context, cfg *stack.Config) error {
	plan, err := NewPlan(cfg)
	if err != nil {
		return err
	}
	if plan.Database.Machine != nil {
		if err := stack.RequireSecret(cfg, "databasePassword", cfg.DatabasePassword, "the password of the Postgres machine"); err != nil {
			return err
		}
	}
	if plan.Image == "" && flyToken(ctx) == "" {
		return fmt.Errorf("%s:image is empty, so the image is built and pushed to %s, which needs a Fly token: "+
			"run `pulumi config set --secret flyio:token \"$(fly tokens create deploy)\" --stack %s` or export %s; "+
			"or set a prebuilt image with `pulumi config set %s:image registry.fly.io/%s@sha256:<digest> --stack %s`",
			stack.Namespace, plan.Build.Name, cfg.Stack, EnvToken, stack.Namespace, plan.App, cfg.Stack)
	}
	return nil
}

// New is the Fly backend's stack.Factory, for a stack Check accepted. It
// creates the app at once: the registry, the database attachment and the
// secrets all need it to exist.
func New(ctx *pulumi.Context, cfg *stack.Config, parent pulumi.Resource) (stack.Backend, error) {
	plan, err := NewPlan(cfg)
	if err != nil {
		return nil, err
	}
	b := &backend{cfg: cfg, plan: plan, opts: []pulumi.ResourceOption{pulumi.Parent(parent)}}
	if plan.Image == "" {
		b.token = flyToken(ctx)
	}
	b.app, err = flyio.NewApp(ctx, plan.App, &flyio.AppArgs{Name: pulumi.String(plan.App)}, b.opts...)
	if err != nil {
		return nil, fmt.Errorf("app %s: %w", plan.App, err)
	}
	return b, nil
}

// flyToken is the token the provider uses: `flyio:token`, else the
// environment's.
func flyToken(ctx *pulumi.Context) string {
	if t := config.Get(ctx, "flyio:token"); t != "" {
		return t
	}
	return os.Getenv(EnvToken)
}

// Image is the prebuilt reference, or the Dockerfile's build pushed to
// registry.fly.io/<app>, referenced by its repo digest: an unchanged build
// leaves the machines as they are.
func (b *backend) Image(ctx *pulumi.Context) (pulumi.StringOutput, error) {
	if b.plan.Image != "" {
		return pulumi.String(b.plan.Image).ToStringOutput(), nil
	}
	img, err := docker.NewImage(ctx, b.plan.App+"-image", imageArgs(b.plan.Build, b.token),
		append(slices.Clone(b.opts), pulumi.DependsOn([]pulumi.Resource{b.app}))...)
	if err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("build %s: %w", b.plan.Build.Name, err)
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
func (b *backend) Database(ctx *pulumi.Context) (*stack.Database, error) {
	var (
		db  *stack.Database
		err error
	)
	if m := b.plan.Database.Managed; m != nil {
		db, err = b.managedPostgres(ctx, *m)
	} else {
		db, err = b.machinePostgres(ctx, *b.plan.Database.Machine)
	}
	if err != nil {
		return nil, err
	}
	b.direct = db.DirectURL
	return db, nil
}

// Secrets sets the app's secrets, plus the database's unpooled URL for the
// release command.
func (b *backend) Secrets(ctx *pulumi.Context, values pulumi.StringMap) (*stack.Secrets, error) {
	all := pulumi.StringMap{EnvDirectURL: pulumi.ToSecret(b.direct).(pulumi.StringOutput)}
	for k, v := range values {
		all[k] = v
	}
	s, err := flyio.NewAppSecrets(ctx, b.plan.App+"-secrets", &flyio.AppSecretsArgs{App: b.app.Name, Values: all}, b.opts...)
	if err != nil {
		return nil, fmt.Errorf("secrets of %s: %w", b.plan.App, err)
	}
	return &stack.Secrets{Version: s.Version, Resources: []pulumi.Resource{s}}, nil
}

// App allocates the IPs and the certificate, then rolls the machines onto
// image: the release command first, then the machines per the strategy.
func (b *backend) App(ctx *pulumi.Context, image pulumi.StringOutput, db *stack.Database, secrets *stack.Secrets) (*stack.App, error) {
	var leaves []pulumi.Resource
	for _, typ := range b.plan.IPs {
		name := fmt.Sprintf("%s-ip-%s", b.plan.App, typ)
		ip, err := flyio.NewIPAddress(ctx, name, &flyio.IPAddressArgs{App: b.app.Name, Type: typ}, b.opts...)
		if err != nil {
			return nil, fmt.Errorf("IP address %s: %w", name, err)
		}
		leaves = append(leaves, ip)
	}
	records := pulumi.StringArray{}.ToStringArrayOutput()
	if d := b.plan.Domain; d != "" {
		// After the IPs: Fly lists them as the A/AAAA records to create.
		cert, err := flyio.NewCertificate(ctx, b.plan.App+"-cert", &flyio.CertificateArgs{
			App: b.app.Name, Hostname: pulumi.String(d),
		}, append(slices.Clone(b.opts), pulumi.DependsOn(slices.Clone(leaves)))...)
		if err != nil {
			return nil, fmt.Errorf("certificate for %s: %w", d, err)
		}
		records = cert.DnsRecords.ApplyT(DNSRecords).(pulumi.StringArrayOutput)
		leaves = append(leaves, cert)
	}
	after := append(slices.Clone(db.Resources), secrets.Resources...)
	machines, err := b.group(ctx, b.plan.App+"-machines", b.app.Name, b.plan.Machines, image, secrets.Version, after)
	if err != nil {
		return nil, err
	}
	if err := b.guard(ctx, append(leaves, machines)); err != nil {
		return nil, err
	}
	return &stack.App{URL: pulumi.String(b.plan.URL).ToStringOutput(), DNSRecords: records}, nil
}

// destroyGuard stands for the whole deployment on `pulumi destroy`.
type destroyGuard struct{ pulumi.ResourceState }

// guard registers a resource that depends on every leaf of the deployment,
// so a destroy deletes it first, and protects it with the database. The
// engine refuses a protected resource only when its turn comes: without
// the guard, a destroy of a protected stack would take down the machines,
// secrets, IPs and certificate before stopping at the database.
func (b *backend) guard(ctx *pulumi.Context, leaves []pulumi.Resource) error {
	g := &destroyGuard{}
	err := ctx.RegisterComponentResource("emothe:index:DestroyGuard", b.plan.App+"-destroy-guard", g,
		append(slices.Clone(b.opts), pulumi.DependsOn(leaves), pulumi.Protect(b.plan.Database.Protect))...)
	if err != nil {
		return fmt.Errorf("destroy guard: %w", err)
	}
	return ctx.RegisterResourceOutputs(g, pulumi.Map{})
}

// group registers a MachineGroup running g on app with image, booting with
// the secrets of version.
func (b *backend) group(ctx *pulumi.Context, name string, app pulumi.StringInput, g Group, image pulumi.StringOutput,
	version pulumi.IntOutput, after []pulumi.Resource,
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
	grp, err := flyio.NewMachineGroup(ctx, name, args, append(slices.Clone(b.opts), pulumi.DependsOn(after))...)
	if err != nil {
		return nil, fmt.Errorf("machines %s: %w", name, err)
	}
	return grp, nil
}

func secret(v string) pulumi.StringOutput {
	return pulumi.ToSecret(pulumi.String(v)).(pulumi.StringOutput)
}
