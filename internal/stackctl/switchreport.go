package stackctl

import (
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"

	"github.com/emothe/emothe/infra/stack"
)

// report says what the switch left behind on the old side, with the
// commands that remove it, and what emothe:protectDatabase does now.
func report(out io.Writer, name string, plan SwitchPlan, held, left map[string]stateResource, before auto.ConfigMap) {
	var kept []stateResource
	for _, urn := range slices.Sorted(maps.Keys(held)) {
		if _, still := left[urn]; !still && held[urn].RetainOnDelete {
			kept = append(kept, held[urn])
		}
	}
	if len(kept) == 0 {
		fmt.Fprintf(out, "switch %s: nothing stays behind on %s\n", name, plan.From.Name)
	} else {
		fmt.Fprintf(out, "switch %s: left on %s, out of the stack's state and untouched (the old database, as it was when copied):\n", name, plan.From.Name)
		for _, r := range kept {
			fmt.Fprintf(out, "  %s %s (id %s)\n", r.Type, r.name(), r.ID)
		}
		fmt.Fprintf(out, "switch %s: once you are sure of the new side, remove it with:\n", name)
		for _, c := range removal(kept, stack.RawFromConfig(name, before).Values) {
			fmt.Fprintf(out, "  %s\n", c)
		}
	}
	raw := stack.RawFromConfig(name, before).Values
	fmt.Fprintf(out, "switch %s: %s\n", name, protection(plan.To, raw["protectDatabase"] == "true", raw["environment"] == "production"))
}

// protection says what the stack's protection of its database does on
// backend to, which may differ from what it did on the old one.
func protection(to stack.Platform, protect, production bool) string {
	setting := fmt.Sprintf("%s:protectDatabase is %t", stack.Namespace, protect)
	if production {
		setting = stack.Namespace + ":environment is production"
	}
	switch {
	case !protect && !production:
		return fmt.Sprintf("%s: on %s, make destroy deletes the database with everything else", setting, to.Name)
	case to.RetainsData:
		return fmt.Sprintf("%s: on %s, make destroy is not refused; it keeps the database's data and backup volumes and removes everything else", setting, to.Name)
	default:
		return fmt.Sprintf("%s: on %s, the database is protected and make destroy is refused (%s takes the stack down keeping it)", setting, to.Name, to.Runbook)
	}
}

// removal are the commands that delete what a switch left on the old side:
// a Fly app goes with its machines, volumes and secrets.
func removal(kept []stateResource, old map[string]string) []string {
	var cmds []string
	apps := map[string]bool{}
	for _, r := range kept {
		if r.Type == "flyio:index:App" {
			apps[r.ID] = true
			cmds = append(cmds, "fly apps destroy "+r.ID+" --yes")
		}
	}
	host := old["dockerHost"]
	if host == "" {
		host = "unix:///var/run/docker.sock"
	}
	for _, r := range kept {
		switch r.Type {
		case "flyio:index:ManagedPostgres":
			cmds = append(cmds, "fly mpg destroy "+r.ID+" --yes")
		case "docker:index/volume:Volume":
			cmds = append(cmds, "docker --host "+host+" volume rm "+r.ID)
		}
	}
	return cmds
}
