package stackctl

import (
	"context"
	"sync/atomic"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/emothe/emothe/infra"
	"github.com/emothe/emothe/infra/stack"
)

// Check runs program (infra.Run when nil) on the stack's configuration
// under the SDK's mocks, without the engine, and returns the error it stops
// with before registering anything: a configuration it refuses. The tool
// checks before each engine run, so such an error is its one line of
// output, and the stack's state is not touched, not even by the stack
// resource a failed update would leave. Once the program registers a
// resource the configuration has passed, and nothing after is judged: that
// is the engine's run.
func Check(ctx context.Context, st auto.Stack, program pulumi.RunFunc) error {
	all, err := st.GetAllConfig(ctx)
	if err != nil {
		return err
	}
	return CheckConfig(st.Name(), all, program)
}

// CheckConfig is Check of the configuration all of stack name, which need
// not be the stack's own yet: a switch checks the configuration it is about
// to write.
func CheckConfig(name string, all auto.ConfigMap, program pulumi.RunFunc) error {
	if program == nil {
		program = infra.Run
	}
	config := map[string]string{}
	var secret []string
	for k, v := range all {
		config[k] = v.Value
		if v.Secret {
			secret = append(secret, k)
		}
	}
	m := &registrations{}
	err := pulumi.RunErr(program, pulumi.WithMocks(stack.Namespace, name, m), func(info *pulumi.RunInfo) {
		info.Config, info.ConfigSecretKeys, info.DryRun = config, secret, true
	})
	if m.seen.Load() {
		return nil
	}
	// The SDK lists the program's error in a multierror.
	if list, ok := err.(interface{ WrappedErrors() []error }); ok && len(list.WrappedErrors()) == 1 {
		return list.WrappedErrors()[0]
	}
	return err
}

// registrations are mocks that note whether the program registered or
// invoked anything.
type registrations struct{ seen atomic.Bool }

func (m *registrations) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	m.seen.Store(true)
	return args.Name, args.Inputs, nil
}

func (m *registrations) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	m.seen.Store(true)
	return args.Args, nil
}
