package compose

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-docker/sdk/v4/go/docker"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/emothe/emothe/infra/stack"
)

// buildContext is the Dockerfile's context: the program runs from the
// repository root, where Pulumi.yaml is.
const buildContext = "."

// backend deploys a Spec with pulumi-docker. It is a stack.Backend.
type backend struct {
	cfg  *stack.Config
	spec Spec
	// opts parent every resource to the deployment and send it to the
	// stack's Docker host.
	opts []pulumi.ResourceOption
	// images are the pulled images' IDs by reference.
	images   map[string]pulumi.StringOutput
	networks map[string]pulumi.StringOutput
	volumes  map[string]pulumi.StringOutput
	// secrets are the secret variables' values by name (see Plan's Env*).
	secrets map[string]pulumi.StringOutput
}

var _ stack.Backend = (*backend)(nil)

// Check refuses a stack that runs its own Postgres without a password.
func Check(_ *pulumi.Context, cfg *stack.Config) error {
	if cfg.Compose.DatabaseURL.Set() {
		return nil
	}
	return stack.RequireSecret(cfg, "databasePassword", cfg.DatabasePassword, "the password of the Compose Postgres")
}

// New is the Compose backend's stack.Factory.
func New(ctx *pulumi.Context, cfg *stack.Config, parent pulumi.Resource) (stack.Backend, error) {
	b := &backend{
		cfg: cfg,
		// The release image is known only as the Image step's output: the
		// containers that run it take it from there (Container.Release).
		spec:     Plan(cfg, ""),
		images:   map[string]pulumi.StringOutput{},
		networks: map[string]pulumi.StringOutput{},
		volumes:  map[string]pulumi.StringOutput{},
		secrets:  map[string]pulumi.StringOutput{},
	}
	args := &docker.ProviderArgs{Host: pulumi.String(cfg.Compose.DockerHost)}
	if k := cfg.Compose; k.Registry != "" && k.RegistryUsername != "" {
		args.RegistryAuth = docker.ProviderRegistryAuthArray{docker.ProviderRegistryAuthArgs{
			Address:  pulumi.String(registryHost(k.Registry)),
			Username: pulumi.String(k.RegistryUsername),
			Password: secret(k.RegistryPassword.Value()),
		}}
	}
	prov, err := docker.NewProvider(ctx, cfg.AppName+"-docker", args, pulumi.Parent(parent))
	if err != nil {
		return nil, fmt.Errorf("docker provider for %s: %w", cfg.Compose.DockerHost, err)
	}
	b.opts = []pulumi.ResourceOption{pulumi.Parent(parent), pulumi.Provider(prov)}
	return b, nil
}

// Image is the configured image, pulled onto the host, or the Dockerfile's
// build, pushed when a registry is configured. Either way the reference is
// a digest: the local image ID, or the pushed repo@sha256.
func (b *backend) Image(ctx *pulumi.Context) (pulumi.StringOutput, error) {
	if b.cfg.Image != "" {
		return b.pull(ctx, "app", b.cfg.Image)
	}
	k := b.cfg.Compose
	args := &docker.ImageArgs{
		ImageName: pulumi.String(imageName(b.cfg)),
		Build: &docker.DockerBuildArgs{
			Context:    pulumi.String(buildContext),
			Dockerfile: pulumi.String("Dockerfile"),
			Platform:   pulumi.String("linux/amd64"),
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
	img, err := docker.NewImage(ctx, b.spec.Project+"-image", args, b.opts...)
	if err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("build %s: %w", imageName(b.cfg), err)
	}
	return img.RepoDigest, nil
}

// Database makes the project's networks and volumes, and the Postgres
// container unless the stack names an external database.
func (b *backend) Database(ctx *pulumi.Context) (*stack.Database, error) {
	for _, n := range b.spec.Networks {
		labels := docker.NetworkLabelArray{}
		for _, k := range sortedKeys(n.Labels) {
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
	for _, v := range b.spec.Volumes {
		labels := docker.VolumeLabelArray{}
		for _, k := range sortedKeys(v.Labels) {
			labels = append(labels, docker.VolumeLabelArgs{Label: pulumi.String(k), Value: pulumi.String(v.Labels[k])})
		}
		vol, err := docker.NewVolume(ctx, v.Name, &docker.VolumeArgs{Name: pulumi.String(v.Name), Labels: labels},
			append(slices.Clone(b.opts), pulumi.Protect(v.Keep), pulumi.RetainOnDelete(v.Keep))...)
		if err != nil {
			return nil, fmt.Errorf("volume %s: %w", v.Name, err)
		}
		b.volumes[v.Name] = vol.Name
	}

	host := pulumi.String(b.spec.DatabaseHost).ToStringOutput()
	if k := b.cfg.Compose; k.DatabaseURL.Set() {
		url := secret(k.DatabaseURL.Value())
		return &stack.Database{Host: host, URL: url, DirectURL: url}, nil
	}
	password := b.cfg.DatabasePassword.Value()
	b.secrets[EnvPostgresPassword] = secret(password)
	db, err := b.container(ctx, b.spec.Service("db")[0], pulumi.StringOutput{}, nil)
	if err != nil {
		return nil, err
	}
	url := secret(b.spec.DatabaseURL(password))
	return &stack.Database{Host: host, URL: url, DirectURL: url, Resources: []pulumi.Resource{db}}, nil
}

// Secrets keeps the values for the containers' environment: a Docker host
// has no secret store, and each container gets its own secret variables.
func (b *backend) Secrets(ctx *pulumi.Context, values pulumi.StringMap) (*stack.Secrets, error) {
	keys := sortedKeys(values)
	all := make([]any, len(keys))
	for i, k := range keys {
		b.secrets[k] = values[k].ToStringOutput()
		all[i] = values[k]
	}
	// A digest of the values, secret itself, so that it changes with them.
	version := pulumi.All(all...).ApplyT(func(vs []any) int {
		h := sha256.New()
		for i, v := range vs {
			fmt.Fprintf(h, "%s=%s\x00", keys[i], v)
		}
		return int(binary.BigEndian.Uint32(h.Sum(nil)) >> 1)
	}).(pulumi.IntOutput)
	return &stack.Secrets{Version: version}, nil
}

// App runs the migrations to completion, then the app replicas (each new
// one healthy before the one it replaces stops), the proxy and the backups.
// A migration that fails stops the update before any replica changes.
func (b *backend) App(ctx *pulumi.Context, image pulumi.StringOutput, db *stack.Database, secrets *stack.Secrets) (*stack.App, error) {
	before := append(slices.Clone(db.Resources), secrets.Resources...)
	migrate, err := b.container(ctx, b.spec.Service("migrate")[0], image,
		map[string]pulumi.StringOutput{EnvDatabaseURL: db.DirectURL}, pulumi.DependsOn(before))
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
	for _, c := range b.spec.Service("app") {
		if _, err := b.container(ctx, c, released, nil, pulumi.DependsOn([]pulumi.Resource{migrate})); err != nil {
			return nil, err
		}
	}
	// The proxy depends on no app container: replacing them leaves it be.
	if _, err := b.container(ctx, b.spec.Service("proxy")[0], pulumi.StringOutput{}, nil); err != nil {
		return nil, err
	}
	// The first dump is taken at start: after the migration, so that it
	// holds the schema.
	if _, err := b.container(ctx, b.spec.Service("backup")[0], pulumi.StringOutput{}, nil,
		pulumi.DependsOn(append(slices.Clone(db.Resources), migrate))); err != nil {
		return nil, err
	}
	return &stack.App{
		URL:        pulumi.String(b.spec.URL).ToStringOutput(),
		DNSRecords: pulumi.ToStringArray(b.spec.DNSRecords).ToStringArrayOutput(),
	}, nil
}

// container registers one container of the Spec. release is the image of
// Release containers; the others' images are pulled by reference. override
// replaces secret values for this container alone.
func (b *backend) container(ctx *pulumi.Context, c Container, release pulumi.StringOutput,
	override map[string]pulumi.StringOutput, opts ...pulumi.ResourceOption,
) (*docker.Container, error) {
	image := release
	if !c.Release {
		var err error
		if image, err = b.pull(ctx, c.Service, c.Image); err != nil {
			return nil, err
		}
	}
	env := pulumi.StringArray{}
	for _, k := range sortedKeys(c.Env) {
		env = append(env, pulumi.String(k+"="+c.Env[k]))
	}
	for _, k := range c.Secrets {
		v, ok := override[k]
		if !ok {
			if v, ok = b.secrets[k]; !ok {
				return nil, fmt.Errorf("container %s: no value for its secret variable %s", c.Name, k)
			}
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

// pull registers one image pull per reference and returns the image's ID.
func (b *backend) pull(ctx *pulumi.Context, service, ref string) (pulumi.StringOutput, error) {
	if id, ok := b.images[ref]; ok {
		return id, nil
	}
	img, err := docker.NewRemoteImage(ctx, b.spec.Project+"-"+service+"-image", &docker.RemoteImageArgs{
		Name: pulumi.String(ref),
		// Other projects on the host may use the same image.
		KeepLocally: pulumi.Bool(true),
	}, b.opts...)
	if err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("pull %s: %w", ref, err)
	}
	b.images[ref] = img.ImageId
	return img.ImageId, nil
}

// imageName is the built image's name: in the registry when there is one,
// else local to the host.
func imageName(cfg *stack.Config) string {
	tag := cfg.Stack
	if tag == "" {
		tag = "latest"
	}
	if cfg.Compose.Registry != "" {
		return cfg.Compose.Registry + ":" + tag
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

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
