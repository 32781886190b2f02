// Package echo is a minimal backend, for tests only: it proves that a
// backend is one folder. It declares its settings, validates them, plans
// and wires its resources here, and the registry does the rest (the
// emothe:backend choices, Pulumi.yaml's block, the README's table). It runs
// a prebuilt image against an external database, as one component.
package echo

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/emothe/emothe/infra/stack"
)

// Platform is the echo backend.
var Platform = stack.Platform{
	Name:  "echo",
	About: "a test backend",
	Settings: []stack.Setting{
		{Key: "echoDatabaseUrl", Kind: stack.KindString, Secret: true, Description: "Echo: the external database."},
		{Key: "echoReplicas", Kind: stack.KindInteger, Default: "1", Description: "Echo: copies of the app."},
	},
	Load: func(r *stack.Reader, cfg *stack.Config) stack.Deployer {
		s := &steps{cfg: cfg, db: r.Secret("echoDatabaseUrl"), replicas: r.Integer("echoReplicas", 1, 3)}
		r.Require("echoDatabaseUrl", s.db, "the database the echo app uses")
		if cfg.Image == "" && !r.Bad("image") {
			r.Missing("image", "required on echo: it builds nothing", "pulumi config set emothe:image <ref>")
		}
		return stack.Drive(cfg, s)
	},
}

type steps struct {
	cfg      *stack.Config
	db       stack.Secret
	replicas int
}

// site is the app as the echo backend registers it.
type site struct{ pulumi.ResourceState }

func (s *steps) Base(_ *pulumi.Context, parent pulumi.Resource) (pulumi.ResourceOption, error) {
	return pulumi.Parent(parent), nil
}

func (s *steps) Image(*pulumi.Context, pulumi.ResourceOption) (pulumi.StringOutput, error) {
	return pulumi.String(s.cfg.Image).ToStringOutput(), nil
}

func (s *steps) Database(*pulumi.Context, pulumi.ResourceOption) (*stack.Database, error) {
	url := pulumi.ToSecret(pulumi.String(s.db.Value())).(pulumi.StringOutput)
	host := strings.Split(strings.TrimPrefix(s.db.Value(), "postgres://"), "/")[0]
	return &stack.Database{Host: pulumi.String(host).ToStringOutput(), URL: url, DirectURL: url}, nil
}

func (s *steps) Secrets(_ *pulumi.Context, _ pulumi.ResourceOption, env pulumi.StringMap) (*stack.Secrets, error) {
	return &stack.Secrets{Env: env}, nil
}

func (s *steps) App(ctx *pulumi.Context, parent pulumi.ResourceOption, image pulumi.StringOutput, _ *stack.Database, secrets *stack.Secrets) (*stack.App, error) {
	for n := 1; n <= s.replicas; n++ {
		c := &site{}
		name := fmt.Sprintf("%s-%d", s.cfg.AppName, n)
		if err := ctx.RegisterComponentResource("emothe:echo:Site", name, c, parent); err != nil {
			return nil, err
		}
		if err := ctx.RegisterResourceOutputs(c, pulumi.Map{"image": image, "env": secrets.Env}); err != nil {
			return nil, err
		}
	}
	return &stack.App{URL: pulumi.String(s.cfg.PublicURL("http://" + s.cfg.AppName + ".echo")).ToStringOutput(),
		DNSRecords: pulumi.StringArray{}.ToStringArrayOutput()}, nil
}
