package infra

import (
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/infra/stack"
	"github.com/emothe/emothe/internal/pulumitest"
)

const goodKey = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// secretKeys marks the one secret these stacks set.
var secretKeys = map[string]bool{"secretKeyBase": true}

// registered is what the program registered, as type::name.
func registered(m *pulumitest.Mocks) []string {
	var out []string
	for _, r := range m.Resources() {
		out = append(out, r.Type+"::"+r.Name)
	}
	return out
}

func run(program pulumi.RunFunc, values map[string]string, secret map[string]bool) (*pulumitest.Mocks, error) {
	m := &pulumitest.Mocks{}
	return m, m.Run(program, "dev", values, secret)
}

// deployWith is the program that deploys the stack's config with backends.
func deployWith(backends map[string]stack.Platform) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		cfg, err := stack.FromContext(ctx)
		if err != nil {
			return err
		}
		_, err = Deploy(ctx, cfg, backends)
		return err
	}
}

func TestBadConfigRegistersNothing(t *testing.T) {
	cases := []struct {
		name   string
		values map[string]string
		secret map[string]bool
		want   string
	}{
		{"unknown backend", map[string]string{"appName": "emothe-dev", "backend": "nomad", "secretKeyBase": goodKey}, secretKeys, `emothe:backend = "nomad" is not one of fly, compose`},
		{"unknown region", map[string]string{"appName": "emothe-dev", "primaryRegion": "atlantis", "secretKeyBase": goodKey}, secretKeys, `emothe:primaryRegion = "atlantis"`},
		{"memory step", map[string]string{"appName": "emothe-dev", "memoryMb": "1000", "secretKeyBase": goodKey}, secretKeys, "multiple of 256"},
		{"negative count", map[string]string{"appName": "emothe-dev", "machinesPerRegion": "-2", "secretKeyBase": goodKey}, secretKeys, `emothe:machinesPerRegion = "-2"`},
		{"prod without domain", map[string]string{"appName": "emothe-prod", "environment": "production", "secretKeyBase": goodKey}, secretKeys, "emothe:domain"},
		{"plaintext secret", map[string]string{"appName": "emothe-dev", "secretKeyBase": goodKey}, nil, "emothe:secretKeyBase is stored in plain text"},
		{"backend refuses a missing secret", map[string]string{"appName": "emothe-dev", "backend": "compose", "secretKeyBase": goodKey}, secretKeys, "pulumi config set --secret emothe:databasePassword <value> --stack dev"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := run(Run, tc.values, tc.secret)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), goodKey)
			assert.Empty(t, m.Resources(), "nothing may be registered for a bad config")
		})
	}
}

// fakeBackend records the order in which Deploy drives the four steps.
type fakeBackend struct {
	steps  *[]string
	parent pulumi.Resource
}

func (f fakeBackend) Image(*pulumi.Context) (pulumi.StringOutput, error) {
	*f.steps = append(*f.steps, "image")
	return pulumi.String("registry.example/emothe@sha256:abc").ToStringOutput(), nil
}

func (f fakeBackend) Database(*pulumi.Context) (*stack.Database, error) {
	*f.steps = append(*f.steps, "database")
	url := pulumi.ToSecret(pulumi.String("postgres://u:p@db.internal/emothe")).(pulumi.StringOutput)
	return &stack.Database{Host: pulumi.String("db.internal").ToStringOutput(), URL: url, DirectURL: url}, nil
}

func (f fakeBackend) Secrets(_ *pulumi.Context, values pulumi.StringMap) (*stack.Secrets, error) {
	*f.steps = append(*f.steps, "secrets")
	if _, ok := values["SECRET_KEY_BASE"]; !ok {
		return nil, assert.AnError
	}
	return &stack.Secrets{Version: pulumi.Int(1).ToIntOutput()}, nil
}

func (f fakeBackend) App(*pulumi.Context, pulumi.StringOutput, *stack.Database, *stack.Secrets) (*stack.App, error) {
	*f.steps = append(*f.steps, "app")
	return &stack.App{URL: pulumi.String("https://emothe-dev.fly.dev").ToStringOutput(),
		DNSRecords: pulumi.StringArray{}.ToStringArrayOutput()}, nil
}

func TestDeployDrivesTheBackendInOrder(t *testing.T) {
	var steps []string
	backends := map[string]stack.Platform{"fly": {New: func(_ *pulumi.Context, _ *stack.Config, parent pulumi.Resource) (stack.Backend, error) {
		require.NotNil(t, parent)
		return fakeBackend{steps: &steps}, nil
	}}}
	program := func(ctx *pulumi.Context) error {
		cfg, err := stack.FromContext(ctx)
		if err != nil {
			return err
		}
		out, err := Deploy(ctx, cfg, backends)
		if err != nil {
			return err
		}
		var wg sync.WaitGroup
		wg.Add(1)
		pulumi.All(out.URL, out.Image, out.Backend, out.DatabaseHost, out.AppName).ApplyT(func(v []any) error {
			defer wg.Done()
			assert.Equal(t, []any{"https://emothe-dev.fly.dev", "registry.example/emothe@sha256:abc", "fly", "db.internal", "emothe-dev"}, v)
			return nil
		})
		wg.Wait()
		return nil
	}
	m, err := run(program, map[string]string{"appName": "emothe-dev", "secretKeyBase": goodKey}, secretKeys)
	require.NoError(t, err)
	assert.Equal(t, []string{"image", "database", "secrets", "app"}, steps)
	assert.Equal(t, []string{"emothe:index:Deployment::emothe-dev"}, registered(m))
}

func TestMissingSecretNamesTheCommand(t *testing.T) {
	backends := map[string]stack.Platform{"fly": {New: func(*pulumi.Context, *stack.Config, pulumi.Resource) (stack.Backend, error) {
		t.Fatal("the backend must not be built without its secrets")
		return nil, nil
	}}}
	m, err := run(deployWith(backends), map[string]string{"appName": "emothe-dev"}, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "pulumi config set --secret emothe:secretKeyBase <value> --stack dev")
	assert.Empty(t, m.Resources())
}

func TestUnavailableBackendRegistersNothing(t *testing.T) {
	m, err := run(deployWith(map[string]stack.Platform{}), map[string]string{"appName": "emothe-dev", "secretKeyBase": goodKey}, secretKeys)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `emothe:backend = "fly" is not available in this version (implemented: none yet)`)
	assert.Empty(t, m.Resources())
}

func TestPlatformCheckRunsBeforeAnythingIsRegistered(t *testing.T) {
	backends := map[string]stack.Platform{"fly": {
		Check: func(*pulumi.Context, *stack.Config) error { return assert.AnError },
		New: func(*pulumi.Context, *stack.Config, pulumi.Resource) (stack.Backend, error) {
			t.Fatal("a refused stack must not reach the factory")
			return nil, nil
		},
	}}
	m, err := run(deployWith(backends), map[string]string{"appName": "emothe-dev", "secretKeyBase": goodKey}, secretKeys)
	require.ErrorIs(t, err, assert.AnError)
	assert.Empty(t, m.Resources())
}
