package stackctl

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"

	"github.com/emothe/emothe/infra"
	"github.com/emothe/emothe/infra/stack"
)

// SwitchPlan is what `make switch` changes in a stack's configuration,
// decided from the configuration alone.
type SwitchPlan struct {
	Stack    string
	From, To stack.Platform
	// Keep is whether the old database survives the switch's up
	// (emothe:protectDatabase, or production); without it, FORCE=1 lets the
	// up delete it once its data is copied.
	Keep bool
	// Set and Remove are the configuration edits, by full key.
	Set    auto.ConfigMap
	Remove []string
	// Notes say what each edit does and why, one line each.
	Notes []string
}

// Config is all with the plan's edits applied.
func (p SwitchPlan) Config(all auto.ConfigMap) auto.ConfigMap {
	out := auto.ConfigMap{}
	for k, v := range all {
		if !slices.Contains(p.Remove, k) {
			out[k] = v
		}
	}
	for k, v := range p.Set {
		out[k] = v
	}
	return out
}

// Undo is the configuration edits that put all, the configuration before
// the plan, back: what a switch that failed before touching the old side
// restores.
func (p SwitchPlan) Undo(all auto.ConfigMap) (set auto.ConfigMap, remove []string) {
	set = auto.ConfigMap{}
	for k := range p.Set {
		if v, ok := all[k]; ok {
			set[k] = v
		} else {
			remove = append(remove, k)
		}
	}
	for _, k := range p.Remove {
		set[k] = all[k]
	}
	return set, remove
}

const backendKey = stack.Namespace + ":backend"

// PlanSwitch decides the switch of stack name, whose configuration is all,
// to the backend to. It refuses, naming the setting, the value and the
// fix: an unknown backend, the one the stack is on, and a database that the
// switch's up would delete (not protected) unless force.
func PlanSwitch(name string, all auto.ConfigMap, to string, force bool) (SwitchPlan, error) {
	names := backendNames()
	choices := strings.Join(names, "|")
	if to == "" {
		return SwitchPlan{}, fmt.Errorf("switch of stack %s: TO is empty; nothing was changed; fix: make switch STACK=%s TO=%s", name, name, choices)
	}
	raw := stack.RawFromConfig(name, all)
	current := cmp.Or(raw.Values["backend"], names[0])
	p := SwitchPlan{Stack: name, Set: auto.ConfigMap{}}
	for _, b := range infra.Backends {
		if b.Name == to {
			p.To = b
		}
		if b.Name == current {
			p.From = b
		}
	}
	switch {
	case p.To.Name == "":
		return SwitchPlan{}, fmt.Errorf("switch of stack %s: TO=%q is not a backend (%s takes %s); nothing was changed; fix: make switch STACK=%s TO=%s",
			name, to, backendKey, strings.Join(names, " or "), name, choices)
	case p.From.Name == "":
		return SwitchPlan{}, fmt.Errorf("switch of stack %s: %s = %q is not a backend; nothing was changed; fix: pulumi config set %s <%s> --stack %s to the backend it runs on",
			name, backendKey, current, backendKey, choices, name)
	case to == current:
		return SwitchPlan{}, fmt.Errorf("switch of stack %s: it already runs on %s (%s = %s); nothing was changed; fix: TO=<the other backend>, or make up STACK=%s to update it where it is",
			name, to, backendKey, current, name)
	}
	if p.To.SwitchFirst == nil || p.To.Owns == nil {
		return SwitchPlan{}, fmt.Errorf("switch of stack %s: the %s backend cannot be switched to (it declares no SwitchFirst or Owns); nothing was changed", name, to)
	}
	p.Keep = raw.Values["protectDatabase"] == "true" || raw.Values["environment"] == "production"
	if !p.Keep && !force {
		return SwitchPlan{}, fmt.Errorf("switch of stack %s: %s:protectDatabase is %s, so the switch's up would delete the old database on %s once its data is copied, leaving no copy behind; nothing was changed; "+
			"fix: keep it: pulumi config set %s:protectDatabase true --stack %s, make up STACK=%s (it only marks the database retained), then make switch again; "+
			"or delete it: make switch STACK=%s TO=%s FORCE=1",
			name, stack.Namespace, cmp.Or(raw.Values["protectDatabase"], "false (unset)"), current, stack.Namespace, name, name, name, to)
	}
	p.Set[backendKey] = auto.ConfigValue{Value: to}
	p.Notes = append(p.Notes, fmt.Sprintf("set %s = %s (was %s)", backendKey, to, current))
	// The settings each backend alone reads stay: the loader reads only
	// the selected backend's, and a switch back finds them.
	for _, key := range []string{"image", "postgresImage"} {
		ref := raw.Values[key]
		if ref == "" || p.From.OwnImage == nil {
			continue
		}
		if why := p.From.OwnImage(ref, raw.Values); why != "" {
			full := stack.Namespace + ":" + key
			p.Remove = append(p.Remove, full)
			p.Notes = append(p.Notes, fmt.Sprintf("removed %s = %s: %s; on %s, %s", full, ref, why, to, imageDefault[key]))
		}
	}
	return p, nil
}

// imageDefault is what a stack runs when an image setting is empty.
var imageDefault = map[string]string{
	"image":         "the image is built from the Dockerfile (or set one it can pull: pulumi config set " + stack.Namespace + ":image <ref>, then make up)",
	"postgresImage": "the official postgres image of " + stack.Namespace + ":postgresVersion runs",
}
