package fly

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/emothe/emothe/infra/postgres"
	"github.com/emothe/emothe/infra/stack"
	"github.com/emothe/emothe/sdk/go/flyio"
)

// keep is how a protected database's resources are registered: Pulumi
// refuses to delete them, and a destroy (or a switch to another backend,
// once they are unprotected) leaves them in Fly, all of them: a Postgres
// machine's app, volume, password and machine, so the database stays
// reachable, not only its disk.
func (s *steps) keep(b *base, opts ...pulumi.ResourceOption) []pulumi.ResourceOption {
	p := s.plan.Database.Protect
	return append(b.with(pulumi.Protect(p), pulumi.RetainOnDelete(p)), opts...)
}

// managedPostgres is a Fly Managed Postgres cluster attached to the app: the
// app serves through its pooler and migrates on its direct endpoint.
func (s *steps) managedPostgres(ctx *pulumi.Context, b *base, m ManagedPostgres) (*stack.Database, error) {
	pg, err := flyio.NewManagedPostgres(ctx, m.Name, &flyio.ManagedPostgresArgs{
		Name:           pulumi.String(m.Name),
		Region:         pulumi.String(m.Region),
		Plan:           pulumi.String(m.Plan),
		PgMajorVersion: pulumi.String(m.Version),
		DiskSizeGb:     pulumi.Int(m.DiskGB),
		AttachApps:     pulumi.StringArray{b.app.Name},
	}, s.keep(b)...)
	if err != nil {
		return nil, fmt.Errorf("managed postgres %s: %w", m.Name, err)
	}
	return &stack.Database{
		Host:      pg.PoolerHost,
		URL:       pulumi.ToSecret(pg.ConnectionUri).(pulumi.StringOutput),
		DirectURL: pulumi.ToSecret(pg.DirectUri).(pulumi.StringOutput),
		Resources: []pulumi.Resource{pg},
	}, nil
}

// machinePostgres runs Postgres on a machine of its own app, with its data
// on a volume and its password a secret of that app. It has no public
// service: the app reaches it at <db app>.internal on the private network.
func (s *steps) machinePostgres(ctx *pulumi.Context, b *base, m MachinePostgres) (*stack.Database, error) {
	app, err := flyio.NewApp(ctx, m.App, &flyio.AppArgs{Name: pulumi.String(m.App)}, s.keep(b)...)
	if err != nil {
		return nil, fmt.Errorf("database app %s: %w", m.App, err)
	}
	vol, err := flyio.NewVolume(ctx, m.App+"-data", &flyio.VolumeArgs{
		App:       app.Name,
		Name:      pulumi.String(dbVolume),
		Region:    pulumi.String(m.Region),
		SizeGb:    pulumi.Int(m.VolumeGB),
		Encrypted: pulumi.Bool(true),
	}, s.keep(b)...)
	if err != nil {
		return nil, fmt.Errorf("database volume of %s: %w", m.App, err)
	}
	password := s.cfg.DatabasePassword.Value()
	sec, err := flyio.NewAppSecrets(ctx, m.App+"-secrets", &flyio.AppSecretsArgs{
		App:    app.Name,
		Values: pulumi.StringMap{postgres.EnvPassword: secret(password)},
	}, s.keep(b)...)
	if err != nil {
		return nil, fmt.Errorf("secrets of %s: %w", m.App, err)
	}
	image := pulumi.String(m.Machines.Config.Image).ToStringOutput()
	grp, err := b.group(ctx, m.App+"-machines", app.Name, m.Machines, image, sec.Version, s.keep(b, pulumi.DependsOn([]pulumi.Resource{vol, sec})))
	if err != nil {
		return nil, err
	}
	url := secret(m.URL(password))
	return &stack.Database{
		Host:      pulumi.String(m.Host).ToStringOutput(),
		URL:       url,
		DirectURL: url,
		Resources: []pulumi.Resource{grp},
	}, nil
}
