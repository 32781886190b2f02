package pulumitest

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type thing struct {
	pulumi.CustomResourceState
	Digest pulumi.StringOutput `pulumi:"digest"`
}

func TestMocksRecordWhatTheProgramRegisters(t *testing.T) {
	m := &Mocks{Outputs: func(args pulumi.MockResourceArgs, out resource.PropertyMap) {
		out["digest"] = resource.NewProperty("sha256:" + args.Name)
	}}
	var digest any
	err := m.Run(func(ctx *pulumi.Context) error {
		name, _ := ctx.GetConfig("emothe:name")
		token, _ := ctx.GetConfig("flyio:token")
		assert.Equal(t, "emothe-dev", name, "a bare key is the project's")
		assert.Equal(t, "tok", token, "a namespaced key is kept as written")
		assert.True(t, ctx.IsConfigSecret("emothe:key"))
		assert.True(t, ctx.IsConfigSecret("flyio:token"))
		assert.False(t, ctx.IsConfigSecret("emothe:name"))

		var a, b thing
		if err := ctx.RegisterResource("test:index:Thing", "a", pulumi.Map{"n": pulumi.Int(1)}, &a); err != nil {
			return err
		}
		if err := ctx.RegisterResource("test:index:Other", "b", pulumi.Map{}, &b, pulumi.DependsOn([]pulumi.Resource{&a}),
			pulumi.Protect(true), pulumi.RetainOnDelete(true), pulumi.DeleteBeforeReplace(true)); err != nil {
			return err
		}
		v, err := internals.UnsafeAwaitOutput(ctx.Context(), a.Digest)
		digest = v.Value
		return err
	}, "dev", map[string]string{"name": "emothe-dev", "key": "k", "flyio:token": "tok"}, map[string]bool{"key": true, "flyio:token": true})
	require.NoError(t, err)

	assert.Equal(t, "sha256:a", digest, "the program reads what Outputs computed")
	assert.Equal(t, []string{"a", "b"}, Names(m.Resources()))
	a, b := m.Get(t, "a"), m.Get(t, "b")
	assert.Equal(t, 1.0, a.Inputs["n"].NumberValue())
	assert.Nil(t, a.DeleteBeforeReplace, "left to the provider")
	assert.False(t, a.Protect || a.RetainOnDelete)
	assert.True(t, b.DependsOn("a"))
	assert.False(t, a.DependsOn("b"))
	assert.True(t, b.Protect && b.RetainOnDelete)
	require.NotNil(t, b.DeleteBeforeReplace)
	assert.True(t, *b.DeleteBeforeReplace)
	assert.Equal(t, []string{"b"}, Names(m.OfType("test:index:Other")))
	assert.True(t, m.Has("a"))
	assert.False(t, m.Has("c"))
}

func TestPlainHidesSecrets(t *testing.T) {
	v := resource.NewProperty(resource.PropertyMap{
		"env": resource.NewProperty([]resource.PropertyValue{
			resource.NewProperty("LOG_LEVEL=debug"),
			resource.MakeSecret(resource.NewProperty("KEY=hunter2")),
		}),
		"out": resource.NewProperty(resource.Output{Element: resource.NewProperty("pw=hunter2"), Known: true, Secret: true}),
	})
	shown := Plain(v)
	assert.NotContains(t, shown, "hunter2")
	assert.Contains(t, shown, "LOG_LEVEL=debug")
	assert.Equal(t, []string{"LOG_LEVEL=debug", "KEY=hunter2"}, Strings(v.ObjectValue()["env"]))
	assert.Equal(t, "pw=hunter2", Reveal(v.ObjectValue()["out"]).StringValue())
}
