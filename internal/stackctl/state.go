package stackctl

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
)

// stateResource is one resource of a stack's state, as a switch reports it.
type stateResource struct {
	URN, Type, ID  string
	RetainOnDelete bool
}

func (r stateResource) name() string { return r.URN[strings.LastIndex(r.URN, "::")+2:] }

// resources are the custom resources of the stack's state (not the stack,
// components or providers), by URN.
func resources(ctx context.Context, st auto.Stack) (map[string]stateResource, error) {
	dep, err := st.Export(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the state of %s: %w", st.Name(), err)
	}
	var state struct {
		Resources []struct {
			stateResource
			Custom bool `json:"custom"`
		} `json:"resources"`
	}
	if len(dep.Deployment) > 0 {
		if err := json.Unmarshal(dep.Deployment, &state); err != nil {
			return nil, fmt.Errorf("reading the state of %s: %w", st.Name(), err)
		}
	}
	out := map[string]stateResource{}
	for _, r := range state.Resources {
		if r.Custom && !strings.HasPrefix(r.Type, "pulumi:") {
			out[r.URN] = r.stateResource
		}
	}
	return out, nil
}
