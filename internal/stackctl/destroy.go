package stackctl

import (
	"context"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"

	"github.com/emothe/emothe/infra"
	"github.com/emothe/emothe/infra/stack"
)

// Destroy runs `pulumi destroy`, unless the stack protects its database:
// then it refuses before the engine starts, naming emothe:protectDatabase
// and the backend's runbook (the engine would stop only at the protected
// resource, naming its URN).
func Destroy(ctx context.Context, st auto.Stack, opts ...optdestroy.Option) (auto.DestroyResult, error) {
	cfg, err := st.GetAllConfig(ctx)
	if err != nil {
		return auto.DestroyResult{}, err
	}
	if err := infra.Backends.RefuseDestroy(stack.RawFromConfig(st.Name(), cfg)); err != nil {
		return auto.DestroyResult{}, err
	}
	return st.Destroy(ctx, opts...)
}
