// Package pulumitest runs the Pulumi program under the SDK's mocks and
// records what it registers. The program's tests (infra, infra/compose,
// infra/fly) all need the same recording, lookups and stack config; they
// share this one and keep only what differs, the outputs each backend's
// providers would compute.
package pulumitest

import (
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/emothe/emothe/infra/stack"
)

// Resource is one resource as the program registered it.
type Resource struct {
	Type, Name string
	Inputs     resource.PropertyMap
	Deps       []string // URNs
	// DeleteBeforeReplace is nil when the program left it to the provider.
	DeleteBeforeReplace     *bool
	Protect, RetainOnDelete bool
}

// DependsOn reports whether r depends directly on the resource named name.
func (r Resource) DependsOn(name string) bool {
	for _, urn := range r.Deps {
		if strings.HasSuffix(urn, "::"+name) {
			return true
		}
	}
	return false
}

// Mocks is a pulumi.MockResourceMonitor that records every registration.
// The zero value is ready to use.
type Mocks struct {
	// Outputs, when set, adds to out (a copy of the inputs) what the provider
	// would compute for the registration, such as a digest or an exit code.
	Outputs func(args pulumi.MockResourceArgs, out resource.PropertyMap)

	mu  sync.Mutex
	got []Resource // in registration order
}

// NewResource records the registration and answers its inputs, plus what
// Outputs adds, as its outputs.
func (m *Mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	rpc := args.RegisterRPC
	r := Resource{Type: args.TypeToken, Name: args.Name, Inputs: args.Inputs, Deps: rpc.GetDependencies(),
		Protect: rpc.GetProtect(), RetainOnDelete: rpc.GetRetainOnDelete()}
	if rpc.GetDeleteBeforeReplaceDefined() {
		v := rpc.GetDeleteBeforeReplace()
		r.DeleteBeforeReplace = &v
	}
	m.mu.Lock()
	m.got = append(m.got, r)
	m.mu.Unlock()

	out := args.Inputs.Copy()
	if m.Outputs != nil {
		m.Outputs(args, out)
	}
	return args.Name + "-id", out, nil
}

// Call answers a provider function with its arguments.
func (m *Mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) { return args.Args, nil }

// Resources is every registration so far, in order.
func (m *Mocks) Resources() []Resource {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Resource(nil), m.got...)
}

// Get is the one resource registered as name; it fails tb when there is
// none, or several (of different types) that a name alone cannot tell apart.
func (m *Mocks) Get(tb testing.TB, name string) Resource {
	tb.Helper()
	var found []Resource
	for _, r := range m.Resources() {
		if r.Name == name {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		tb.Fatalf("%s was registered %d times, want once", name, len(found))
	}
	return found[0]
}

// Has reports whether anything was registered as name.
func (m *Mocks) Has(name string) bool {
	for _, r := range m.Resources() {
		if r.Name == name {
			return true
		}
	}
	return false
}

// OfType is every registration of type typ, in order.
func (m *Mocks) OfType(typ string) []Resource {
	var out []Resource
	for _, r := range m.Resources() {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

// Names is the names of rs, in order.
func Names(rs []Resource) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return out
}

// Run runs program under m on the stack stackName, with values as the
// stack's configuration.
func (m *Mocks) Run(program pulumi.RunFunc, stackName string, values map[string]string, secret map[string]bool) error {
	return pulumi.RunErr(program, pulumi.WithMocks(stack.Namespace, stackName, m), config(values, secret))
}

// config sets stack configuration the way the engine passes it: a key
// without a namespace is the project's, and the keys secret names (as
// written in values) are marked secret.
func config(values map[string]string, secret map[string]bool) pulumi.RunOption {
	return func(info *pulumi.RunInfo) {
		info.Config = map[string]string{}
		for k, v := range values {
			key := k
			if !strings.Contains(k, ":") {
				key = stack.Namespace + ":" + k
			}
			info.Config[key] = v
			if secret[k] {
				info.ConfigSecretKeys = append(info.ConfigSecretKeys, key)
			}
		}
	}
}
