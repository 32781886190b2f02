package stackctl

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
)

// state is what recovery reads of a stack's deployment: its resources and
// the operations a killed engine left pending. The engine records an
// operation as pending before it asks the provider, and clears it once the
// provider answers; a kill in between leaves it, and whether the provider
// did the work is unknown.
type state struct {
	Resources []apitype.ResourceV3  `json:"resources"`
	Pending   []apitype.OperationV2 `json:"pending_operations"`
}

func parseState(dep apitype.UntypedDeployment) (state, error) {
	var s state
	if len(dep.Deployment) == 0 {
		return s, nil
	}
	if err := json.Unmarshal(dep.Deployment, &s); err != nil {
		return s, fmt.Errorf("read the deployment: %w", err)
	}
	return s, nil
}

// urnName is a resource's last URN component, as the engine's output shows it.
func urnName(urn string) string { return urn[strings.LastIndex(urn, "::")+2:] }

// describe is a pending operation as the report says it.
func describe(op apitype.OperationV2) string {
	return fmt.Sprintf("pending %s of %s %s", verb(op.Type), op.Resource.Type, urnName(string(op.Resource.URN)))
}

func verb(t apitype.OperationType) string {
	switch t {
	case apitype.OperationTypeCreating:
		return "create"
	case apitype.OperationTypeUpdating:
		return "update"
	case apitype.OperationTypeDeleting:
		return "delete"
	case apitype.OperationTypeReading:
		return "read"
	default:
		return string(t)
	}
}

// rootType is the type of a stack's root resource.
const rootType = "pulumi:pulumi:Stack"

// refreshTargets are the resources a refresh must read so that the state
// matches what the interrupted operations did: those with a pending update,
// delete, read or import, which the state holds. The stack's root resource
// is always among them, so that a recovery of pending creates alone (which
// the refresh then clears) reads nothing else; nil when nothing is pending.
func (s state) refreshTargets() []string {
	if len(s.Pending) == 0 {
		return nil
	}
	held := map[string]bool{}
	targets := s.root()
	for _, r := range s.Resources {
		held[string(r.URN)] = true
	}
	for _, op := range s.Pending {
		urn := string(op.Resource.URN)
		if op.Type != apitype.OperationTypeCreating && held[urn] && !slices.Contains(targets, urn) {
			targets = append(targets, urn)
		}
	}
	return targets
}

// root is the URN of the stack's root resource, alone; none in an empty state.
func (s state) root() []string {
	for _, r := range s.Resources {
		if r.Type == rootType {
			return []string{string(r.URN)}
		}
	}
	return nil
}

// pendingCreates are the names (the name input, which the engine fills in
// before a create) of the resources whose create was interrupted, mapped to
// the operation, for the report to tie an object on the host to it.
func (s state) pendingCreates() map[string]apitype.OperationV2 {
	byName := map[string]apitype.OperationV2{}
	for _, op := range s.Pending {
		if n, ok := op.Resource.Inputs["name"].(string); ok && op.Type == apitype.OperationTypeCreating {
			byName[n] = op
		}
	}
	return byName
}

// ids are the provider IDs of the resources the state holds, by type.
func (s state) ids(typ string) map[string]bool {
	ids := map[string]bool{}
	for _, r := range s.Resources {
		if string(r.Type) == typ && r.ID != "" {
			ids[string(r.ID)] = true
		}
	}
	return ids
}
