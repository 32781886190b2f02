package infra

import (
	"fmt"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/contract"
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
func deployWith(backends stack.Registry) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		st, err := backends.FromContext(ctx)
		if err != nil {
			return err
		}
		_, err = Deploy(ctx, st)
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
		{"missing secret", map[string]string{"appName": "emothe-dev"}, nil, "pulumi config set --secret emothe:secretKeyBase <value> --stack dev"},
		{"not a boolean", map[string]string{"appName": "emothe-dev", "dedicatedIpv4": "yes", "secretKeyBase": goodKey}, secretKeys, `emothe:dedicatedIpv4 = "yes" is not true or false; fix: pulumi config set emothe:dedicatedIpv4 true`},
		{"build without a token", map[string]string{"appName": "emothe-dev", "secretKeyBase": goodKey}, secretKeys, "pulumi config set --secret flyio:token"},
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

// fakeSteps record the order in which Deploy drives the steps, and what
// each step is handed.
type fakeSteps struct {
	steps *[]string
	t     *testing.T
}

// fakeBase is what the fake's Base registers nothing for.
type fakeBase struct{ parent pulumi.Resource }

func (f fakeSteps) Base(_ *pulumi.Context, parent pulumi.Resource) (fakeBase, error) {
	*f.steps = append(*f.steps, "base")
	return fakeBase{parent: parent}, nil
}

func (f fakeSteps) Image(_ *pulumi.Context, b fakeBase) (pulumi.StringOutput, error) {
	require.NotNil(f.t, b.parent, "steps get Base's result")
	*f.steps = append(*f.steps, "image")
	return pulumi.String("registry.example/emothe@sha256:abc").ToStringOutput(), nil
}

func (f fakeSteps) Database(*pulumi.Context, fakeBase) (*stack.Database, error) {
	*f.steps = append(*f.steps, "database")
	url := pulumi.ToSecret(pulumi.String("postgres://u:p@db.internal/emothe")).(pulumi.StringOutput)
	return &stack.Database{Host: pulumi.String("db.internal").ToStringOutput(), URL: url, DirectURL: url}, nil
}

func (f fakeSteps) Secrets(_ *pulumi.Context, _ fakeBase, env pulumi.StringMap) (*stack.Secrets, error) {
	*f.steps = append(*f.steps, "secrets")
	for _, k := range []string{contract.EnvSecretKeyBase, contract.EnvDatabaseURL, contract.EnvDatabaseDirectURL} {
		if _, ok := env[k]; !ok {
			return nil, fmt.Errorf("no %s in the secret environment", k)
		}
	}
	return &stack.Secrets{Version: pulumi.Int(1).ToIntOutput()}, nil
}

func (f fakeSteps) App(*pulumi.Context, fakeBase, pulumi.StringOutput, *stack.Database, *stack.Secrets) (*stack.App, error) {
	*f.steps = append(*f.steps, "app")
	return &stack.App{URL: pulumi.String("https://emothe-dev.fly.dev").ToStringOutput(),
		DNSRecords: pulumi.StringArray{}.ToStringArrayOutput()}, nil
}

// fake is a backend named fly that deploys steps.
func fake(load func(*stack.Reader, *stack.Config) stack.Deployer) stack.Registry {
	return stack.Registry{{Name: "fly", About: "a fake", Load: load}}
}

func TestDeployDrivesTheBackendInOrder(t *testing.T) {
	var steps []string
	backends := fake(func(_ *stack.Reader, cfg *stack.Config) stack.Deployer {
		return stack.Drive(cfg, fakeSteps{steps: &steps, t: t})
	})
	program := func(ctx *pulumi.Context) error {
		st, err := backends.FromContext(ctx)
		if err != nil {
			return err
		}
		require.Empty(t, steps, "loading registers nothing")
		out, err := Deploy(ctx, st)
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
	assert.Equal(t, []string{"base", "image", "database", "secrets", "app"}, steps)
	assert.Equal(t, []string{"emothe:index:Deployment::emothe-dev"}, registered(m))
}

// A problem a backend finds is reported with the shared ones, and nothing
// is registered.
func TestBackendProblemsRegisterNothing(t *testing.T) {
	backends := fake(func(r *stack.Reader, _ *stack.Config) stack.Deployer {
		r.Fail("appName", "emothe-dev", "is refused by the fake", "none")
		return func(*pulumi.Context, pulumi.Resource) (*stack.Deployed, error) {
			t.Fatal("a refused stack must not be deployed")
			return nil, nil
		}
	})
	m, err := run(deployWith(backends), map[string]string{"appName": "emothe-dev", "logLevel": "loud"}, nil)
	require.Error(t, err)
	var ce *stack.ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Len(t, ce.Problems, 3, "logLevel, the missing secretKeyBase and the fake's: %v", ce.Problems)
	assert.Contains(t, err.Error(), `emothe:appName = "emothe-dev" is refused by the fake`)
	assert.Empty(t, m.Resources())
}
