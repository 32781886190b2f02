package stackctl

import (
	"context"
	"encoding/json"
	"fmt"

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
	dep, err := st.Export(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the state of %s: %w", st.Name(), err)
	}
	var state struct {
		Resources []struct {
			URN            string `json:"urn"`
			Type           string `json:"type"`
			RetainOnDelete bool   `json:"retainOnDelete"`
		} `json:"resources"`
	}
	if len(dep.Deployment) > 0 {
		if err := json.Unmarshal(dep.Deployment, &state); err != nil {
			return nil, fmt.Errorf("reading the state of %s: %w", st.Name(), err)
		}
	}
	var kept []string
	for _, r := range state.Resources {
		if r.RetainOnDelete {
			kept = append(kept, r.Type+" "+urnName(r.URN))
		}
	}
	return kept, nil
}
