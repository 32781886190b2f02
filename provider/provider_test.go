package provider_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"
	pschema "github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/provider"
	"github.com/emothe/emothe/provider/app"
	"github.com/emothe/emothe/provider/certificate"
	"github.com/emothe/emothe/provider/config"
	"github.com/emothe/emothe/provider/ip"
	"github.com/emothe/emothe/provider/machines"
	"github.com/emothe/emothe/provider/postgres"
	"github.com/emothe/emothe/provider/secrets"
	"github.com/emothe/emothe/provider/volume"
)

// annotator checks what Annotate methods pass it: infer panics at schema
// time on a non-pointer, this fails the test instead.
type annotator struct{ t *testing.T }

func (a annotator) pointer(i any) {
	a.t.Helper()
	assert.Equal(a.t, reflect.Pointer, reflect.TypeOf(i).Kind(), "Annotate passed a %T, not a pointer", i)
}
func (a annotator) Describe(i any, _ string)                  { a.pointer(i) }
func (a annotator) SetDefault(i any, _ any, _ ...string)      { a.pointer(i) }
func (a annotator) Deprecate(i any, _ string)                 { a.pointer(i) }
func (annotator) SetToken(tokens.ModuleName, tokens.TypeName) {}
func (annotator) AddAlias(tokens.ModuleName, tokens.TypeName) {}

// annotatedTypes returns the struct types reachable from roots (through
// fields, embedding, pointers, slices and maps) that have an Annotate method.
func annotatedTypes(roots ...any) []reflect.Type {
	seen := map[reflect.Type]bool{}
	var out []reflect.Type
	var walk func(reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || seen[t] {
			return
		}
		seen[t] = true
		if reflect.PointerTo(t).Implements(reflect.TypeFor[infer.Annotated]()) {
			out = append(out, t)
		}
		for i := range t.NumField() {
			walk(t.Field(i).Type)
		}
	}
	for _, r := range roots {
		walk(reflect.TypeOf(r))
	}
	return out
}

func TestAnnotateDoesNotPanic(t *testing.T) {
	t.Parallel()
	types := annotatedTypes(
		config.Config{},
		app.App{}, app.Args{}, app.State{},
		secrets.AppSecrets{}, secrets.Args{}, secrets.State{},
		volume.Volume{}, volume.Args{}, volume.State{},
		ip.IPAddress{}, ip.Args{}, ip.State{},
		certificate.Certificate{}, certificate.Args{}, certificate.State{},
		postgres.ManagedPostgres{}, postgres.Args{}, postgres.State{},
		machines.MachineGroup{}, machines.Args{}, machines.State{},
	)
	assert.Contains(t, types, reflect.TypeFor[certificate.DNSRecord](), "nested types are found")
	for _, typ := range types {
		v := reflect.New(typ).Interface().(infer.Annotated)
		assert.NotPanics(t, func() { v.Annotate(annotator{t}) }, "%s.Annotate", typ)
	}
}

func schema(t *testing.T) pschema.PackageSpec {
	t.Helper()
	prov, err := provider.Provider()
	require.NoError(t, err)
	spec, err := p.GetSchema(context.Background(), provider.Name, "", prov)
	require.NoError(t, err)
	return spec
}

func TestSchemaBindsWithEveryResourceInIndex(t *testing.T) {
	t.Parallel()
	spec := schema(t)
	_, diags, err := pschema.BindSpec(spec, pschema.NewNullLoader(), pschema.ValidationOptions{})
	require.NoError(t, err)
	require.False(t, diags.HasErrors(), diags.Error())

	var names []string
	for tk := range spec.Resources {
		names = append(names, tk)
	}
	assert.ElementsMatch(t, []string{
		"flyio:index:App", "flyio:index:AppSecrets", "flyio:index:Volume",
		"flyio:index:IPAddress", "flyio:index:Certificate", "flyio:index:ManagedPostgres",
		"flyio:index:MachineGroup",
	}, names)
	assert.Contains(t, string(mustJSON(t, spec.Language["go"])), `"importBasePath":"github.com/emothe/emothe/sdk/go/flyio"`)
}

// Every property is documented: the schema is the SDKs' only documentation.
func TestSchemaDescribesEveryProperty(t *testing.T) {
	t.Parallel()
	spec := schema(t)
	for name, prop := range spec.Config.Variables {
		assert.NotEmpty(t, prop.Description, "config %s", name)
	}
	for tk, r := range spec.Resources {
		assert.NotEmpty(t, r.Description, tk)
		for name, prop := range r.InputProperties {
			assert.NotEmpty(t, prop.Description, "%s input %s", tk, name)
		}
		for name, prop := range r.Properties {
			assert.NotEmpty(t, prop.Description, "%s output %s", tk, name)
		}
	}
}

func TestSchemaMarksSecrets(t *testing.T) {
	t.Parallel()
	spec := schema(t)
	assert.True(t, spec.Config.Variables["token"].Secret, "config token")
	assert.True(t, spec.Provider.InputProperties["token"].Secret, "provider input token")
	assert.True(t, spec.Resources["flyio:index:AppSecrets"].InputProperties["values"].Secret, "AppSecrets values")
	assert.True(t, spec.Resources["flyio:index:AppSecrets"].Properties["digests"].Secret, "AppSecrets digests")
	for _, out := range []string{"connectionUri", "directUri"} {
		assert.True(t, spec.Resources["flyio:index:ManagedPostgres"].Properties[out].Secret, "ManagedPostgres %s", out)
	}
	// Nothing else is secret: a stray secret hides useful diffs.
	var secret []string
	for tk, r := range spec.Resources {
		for name, prop := range r.Properties {
			if prop.Secret {
				secret = append(secret, tk+"."+name)
			}
		}
	}
	assert.ElementsMatch(t, []string{
		"flyio:index:AppSecrets.digests",
		"flyio:index:ManagedPostgres.connectionUri", "flyio:index:ManagedPostgres.directUri",
	}, secret)
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}
