package stackctl

import (
	"context"
	"maps"
	"slices"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"

	"github.com/emothe/emothe/infra"
	"github.com/emothe/emothe/infra/stack"
)

// Destroy runs `pulumi destroy`, unless the stack protects its database on
// a backend that cannot keep it through a destroy: then it refuses before
// the engine starts, naming emothe:protectDatabase and the backend's
// runbook (the engine would stop only at the protected resource, naming its
// URN). It returns what the destroy left in place on purpose (retainOnDelete),
// by type and name, for the caller to report.
func Destroy(ctx context.Context, st auto.Stack, opts ...optdestroy.Option) ([]string, error) {
	cfg, err := st.GetAllConfig(ctx)
	if err != nil {
		return nil, err
	}
	if err := infra.Backends.RefuseDestroy(stack.RawFromConfig(st.Name(), cfg)); err != nil {
		return nil, err
	}
	kept, err := retained(ctx, st)
	if err != nil {
		return nil, err
	}
	if _, err := st.Destroy(ctx, opts...); err != nil {
		return nil, err
	}
	return kept, nil
}

// retained lists the stack's resources that a delete leaves in place.
func retained(ctx context.Context, st auto.Stack) ([]string, error) {
	all, err := resources(ctx, st)
	if err != nil {
		return nil, err
	}
	var kept []string
	for _, urn := range slices.Sorted(maps.Keys(all)) {
		if r := all[urn]; r.RetainOnDelete {
			kept = append(kept, r.Type+" "+r.name())
		}
	}
	return kept, nil
}
