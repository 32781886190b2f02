package stackctl

import (
	"context"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
)

// stateResource is one resource of a stack's state, as a switch reports it.
type stateResource struct {
	URN, Type, ID  string
	RetainOnDelete bool
}

func (r stateResource) name() string { return urnName(r.URN) }

// resources are the custom resources of the stack's state (not the stack,
// components or providers), by URN.
func resources(ctx context.Context, st auto.Stack) (map[string]stateResource, error) {
	s, err := readState(ctx, st)
	if err != nil {
		return nil, err
	}
	out := map[string]stateResource{}
	for _, r := range s.Resources {
		if r.Custom && !strings.HasPrefix(string(r.Type), "pulumi:") {
			out[string(r.URN)] = stateResource{URN: string(r.URN), Type: string(r.Type), ID: string(r.ID), RetainOnDelete: r.RetainOnDelete}
		}
	}
	return out, nil
}
