package compose

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-docker/sdk/v4/go/docker"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/emothe/emothe/contract"
	"github.com/emothe/emothe/infra/postgres"
	"github.com/emothe/emothe/infra/stack"
)

// steps deploy a Spec with pulumi-docker. They are the Compose backend's
// stack.Steps.
type steps struct {
	cfg  Config
	spec Spec
}

// base is what every step builds on: the options that send each resource
// to the stack's Docker host, and the project's networks, volumes and
// pulled images, which containers refer to by these outputs.
type base struct {
	opts     []pulumi.ResourceOption
	networks map[string]pulumi.StringOutput
	volumes  map[string]pulumi.StringOutput
	// images are the pulled images' IDs by reference.
	images map[string]pulumi.StringOutput
}

var _ stack.Steps[*base] = (*steps)(nil)

// Base registers the Docker provider of the stack's host, the networks and
// volumes, and pulls every image the Spec names (once per reference).
func (s *steps) Base(ctx *pulumi.Context, parent pulumi.Resource) (*base, error) {
	k := s.cfg
	args := &docker.ProviderArgs{Host: pulumi.String(k.DockerHost)}
	if k.Registry != "" && k.RegistryUsername != "" {
		args.RegistryAuth = docker.ProviderRegistryAuthArray{docker.ProviderRegistryAuthArgs{
			Address:  pulumi.String(registryHost(k.Registry)),
			Username: pulumi.String(k.RegistryUsername),
			Password: secret(k.RegistryPassword.Value()),
		}}
	}
	prov, err := docker.NewProvider(ctx, k.AppName+"-docker", args, pulumi.Parent(parent))
	if err != nil {
		return nil, fmt.Errorf("docker provider for %s: %w", k.DockerHost, err)
	}
	b := &base{
		opts:     []pulumi.ResourceOption{pulumi.Parent(parent), pulumi.Provider(prov)},
		networks: map[string]pulumi.StringOutput{},
		volumes:  map[string]pulumi.StringOutput{},
		images:   map[string]pulumi.StringOutput{},
	}
	for _, n := range s.spec.Networks {
		labels := docker.NetworkLabelArray{}
		for _, k := range slices.Sorted(maps.Keys(n.Labels)) {
			labels = append(labels, docker.NetworkLabelArgs{Label: pulumi.String(k), Value: pulumi.String(n.Labels[k])})
		}
		net, err := docker.NewNetwork(ctx, n.Name, &docker.NetworkArgs{
			Name: pulumi.String(n.Name), Internal: pulumi.Bool(n.Internal), Labels: labels,
		}, b.opts...)
		if err != nil {
			return nil, fmt.Errorf("network %s: %w", n.Name, err)
		}
		b.networks[n.Name] = net.Name
	}
	for _, v := range s.spec.Volumes {
		labels := docker.VolumeLabelArray{}
		for _, k := range slices.Sorted(maps.Keys(v.Labels)) {
			labels = append(labels, docker.VolumeLabelArgs{Label: pulumi.String(k), Value: pulumi.String(v.Labels[k])})
		}
		vol, err := docker.NewVolume(ctx, v.Name, &docker.VolumeArgs{Name: pulumi.String(v.Name), Labels: labels},
			append(slices.Clone(b.opts), pulumi.RetainOnDelete(v.Keep))...)
		if err != nil {
			return nil, fmt.Errorf("volume %s: %w", v.Name, err)
		}
		b.volumes[v.Name] = vol.Name
	}
	for _, c := range s.spec.Containers {
		if c.Release {
			continue
		}
		if err := b.pull(ctx, s.spec.Project, c.Service, c.Image); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// Image is the configured image, pulled onto the host, or the Dockerfile's
// build, pushed when a registry is configured. Either way the reference is
// a digest: the local image ID, or the pushed repo@sha256.
func (s *steps) Image(ctx *pulumi.Context, b *base) (pulumi.StringOutput, error) {
	k := s.cfg
	if k.Image != "" {
		if err := b.pull(ctx, s.spec.Project, "app", k.Image); err != nil {
			return pulumi.StringOutput{}, err
		}
		return b.images[k.Image], nil
	}
	args := &docker.ImageArgs{
		ImageName: pulumi.String(imageName(k)),
		Build: &docker.DockerBuildArgs{
			Context:    pulumi.String(stack.BuildContext),
			Dockerfile: pulumi.String(stack.Dockerfile),
			Platform:   pulumi.String(stack.BuildPlatform),
		},
		SkipPush: pulumi.Bool(k.Registry == ""),
	}
	if k.Registry != "" {
		reg := &docker.RegistryArgs{Server: pulumi.String(registryHost(k.Registry))}
		if k.RegistryUsername != "" {
			reg.Username = pulumi.String(k.RegistryUsername)
			reg.Password = secret(k.RegistryPassword.Value())
		}
		args.Registry = reg
	}
	img, err := docker.NewImage(ctx, s.spec.Project+"-image", args, b.opts...)
	if err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("build %s: %w", imageName(k), err)
	}
	return img.RepoDigest, nil
}

// Database is the Postgres container, unless the stack names an external
// database.
func (s *steps) Database(ctx *pulumi.Context, b *base) (*stack.Database, error) {
	host := pulumi.String(s.spec.DatabaseHost).ToStringOutput()
	if k := s.cfg; k.DatabaseURL.Set() {
		url := secret(k.DatabaseURL.Value())
		return &stack.Database{Host: host, URL: url, DirectURL: url}, nil
	}
	password := s.cfg.DatabasePassword.Value()
	env := pulumi.StringMap{postgres.EnvPassword: secret(password)}
	db, err := b.container(ctx, s.spec.Service("db")[0], pulumi.StringOutput{}, env)
	if err != nil {
		return nil, err
	}
	url := secret(s.spec.DatabaseURL(password))
	return &stack.Database{Host: host, URL: url, DirectURL: url, Resources: []pulumi.Resource{db}}, nil
}

// Secrets hands the values on to the containers' environment: a Docker
// host has no secret store, and each container gets its own secret
// variables. A changed value changes the containers that read it.
func (s *steps) Secrets(_ *pulumi.Context, _ *base, env pulumi.StringMap) (*stack.Secrets, error) {
	return &stack.Secrets{Env: env}, nil
}

// App runs the migrations to completion, then the app replicas (each new
// one healthy before the one it replaces stops), the proxy and the backups.
// A migration that fails stops the update before any replica changes.
func (s *steps) App(ctx *pulumi.Context, b *base, image pulumi.StringOutput, db *stack.Database, secrets *stack.Secrets) (*stack.App, error) {
	before := append(slices.Clone(db.Resources), secrets.Resources...)
	// The migration goes to the database directly, under the name the
	// container reads.
	migrateEnv := pulumi.StringMap{contract.EnvDatabaseURL: secrets.Env[contract.EnvDatabaseDirectURL]}
	migrate, err := b.container(ctx, s.spec.Service("migrate")[0], image, migrateEnv, pulumi.DependsOn(before))
	if err != nil {
		return nil, err
	}
	released := pulumi.All(image, migrate.ExitCode, migrate.Name, migrate.URN()).ApplyT(
		func(a []any) (string, error) {
			if code := a[1].(int); code != 0 {
				return "", fmt.Errorf("the migration container %s exited with code %d, so the app was left on its previous image: "+
					"see `docker logs %s`; once the cause is fixed, rerun the migration with `pulumi up --replace '%s'`",
					a[2], code, a[2], a[3])
			}
			return a[0].(string), nil
		}).(pulumi.StringOutput)
	for _, c := range s.spec.Service("app") {
		if _, err := b.container(ctx, c, released, secrets.Env, pulumi.DependsOn([]pulumi.Resource{migrate})); err != nil {
			return nil, err
		}
	}
	// The proxy depends on no app container: replacing them leaves it be.
	if _, err := b.container(ctx, s.spec.Service("proxy")[0], pulumi.StringOutput{}, nil); err != nil {
		return nil, err
	}
	// The first dump is taken at start: after the migration, so that it
	// holds the schema.
	if _, err := b.container(ctx, s.spec.Service("backup")[0], pulumi.StringOutput{}, secrets.Env,
		pulumi.DependsOn(append(slices.Clone(db.Resources), migrate))); err != nil {
		return nil, err
	}
	return &stack.App{
		URL:        pulumi.String(s.spec.URL).ToStringOutput(),
		DNSRecords: pulumi.ToStringArray(s.spec.DNSRecords).ToStringArrayOutput(),
	}, nil
}

// container registers one container of the Spec. release is the image of
// Release containers; the others run the images Base pulled. secrets holds
// the values of the container's secret variables.
func (b *base) container(ctx *pulumi.Context, c Container, release pulumi.StringOutput,
	secrets pulumi.StringMap, opts ...pulumi.ResourceOption,
) (*docker.Container, error) {
	image := release
	if !c.Release {
		image = b.images[c.Image]
	}
	env := pulumi.StringArray{}
	for _, k := range slices.Sorted(maps.Keys(c.Env)) {
		env = append(env, pulumi.String(k+"="+c.Env[k]))
	}
	for _, k := range c.Secrets {
		v, ok := secrets[k]
		if !ok {
			return nil, fmt.Errorf("container %s: no value for its secret variable %s", c.Name, k)
		}
		env = append(env, pulumi.Sprintf("%s=%s", k, pulumi.ToSecret(v)))
	}
	args := containerArgs(c, image, env, b.networks, b.volumes)
	opts = append(slices.Clone(b.opts), opts...)
	// StartFirst leaves the name to Pulumi's autonaming (the resource name
	// plus a random suffix), so old and new can run side by side.
	opts = append(opts, pulumi.DeleteBeforeReplace(c.Rollout == Recreate))
	res, err := docker.NewContainer(ctx, c.Name, args, opts...)
	if err != nil {
		return nil, fmt.Errorf("container %s: %w", c.Name, err)
	}
	return res, nil
}

// pull registers one image pull per reference, the first service to name
// it naming the pull, and keeps the image's ID.
func (b *base) pull(ctx *pulumi.Context, project, service, ref string) error {
	if _, ok := b.images[ref]; ok {
		return nil
	}
	img, err := docker.NewRemoteImage(ctx, project+"-"+service+"-image", &docker.RemoteImageArgs{
		Name: pulumi.String(ref),
		// Other projects on the host may use the same image.
		KeepLocally: pulumi.Bool(true),
	}, b.opts...)
	if err != nil {
		return fmt.Errorf("pull %s: %w", ref, err)
	}
	b.images[ref] = img.ImageId
	return nil
}

// imageName is the built image's name: in the registry when there is one,
// else local to the host.
func imageName(cfg Config) string {
	tag := cfg.ImageTag()
	if cfg.Registry != "" {
		return cfg.Registry + ":" + tag
	}
	return cfg.AppName + ":" + tag
}

// registryHost is the registry server of a repository such as
// ghcr.io/acme/emothe.
func registryHost(repository string) string {
	host, _, _ := strings.Cut(repository, "/")
	return host
}

func secret(v string) pulumi.StringOutput {
	return pulumi.ToSecret(pulumi.String(v)).(pulumi.StringOutput)
}
