package stackctl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"

	"github.com/emothe/emothe/infra/stack"
	"github.com/emothe/emothe/internal/datamove"
)

// SwitchOptions are a switch's inputs besides the stack.
type SwitchOptions struct {
	To    string // the backend to switch to
	Force bool   // switch an unprotected stack, deleting its old database
	Out   io.Writer
	// Fly is the flyctl binary the data move reaches a Fly database
	// through; empty means `fly` on PATH.
	Fly string
	// Up are the options of the switch's two updates (progress streams).
	Up []optup.Option
}

// Switch moves stack st, with its data, to another backend, in the order
// that keeps the time no backend serves short and never has the new side
// serve an empty database:
//
//  1. it refuses, before changing anything, what PlanSwitch refuses, a
//     configuration the new backend's loader refuses, and a stack with
//     nothing deployed;
//  2. it writes the plan's configuration (and generates any secret the new
//     backend needs that the stack lacks);
//  3. an up targeted at the new backend's SwitchFirst creates the new
//     database (and image) beside the old side, which keeps serving;
//  4. datamove.Move copies the data over, pg_dump into pg_restore, and
//     compares the row counts (the service writes nothing, so the old side
//     serves on through the copy);
//  5. it unprotects the stack's resources in the state; an up targeted at
//     everything the new backend owns starts the new app on the copied
//     data, beside the old side; then a full up deletes the old side.
//     The old database, retained (retainOnDelete), leaves the state and
//     stays where it is; unprotected (Force), it is deleted.
//
// A failure in 3 or 4 puts the configuration back: the old side is
// untouched, and running the switch again resumes. It reports on o.Out what
// stays behind and how to remove it.
func Switch(ctx context.Context, st auto.Stack, o SwitchOptions) error {
	out := o.Out
	if out == nil {
		out = io.Discard
	}
	before, err := st.GetAllConfig(ctx)
	if err != nil {
		return err
	}
	plan, err := PlanSwitch(st.Name(), before, o.To, o.Force)
	if err != nil {
		return err
	}
	after := plan.Config(before)
	if err := CheckConfig(st.Name(), withGenerated(after), nil); err != nil {
		return fmt.Errorf("switch of stack %s to %s: the configuration the switch would write is refused: %w; nothing was changed; fix it with pulumi config set (the other backend's settings do nothing until the switch), then make switch again",
			st.Name(), plan.To.Name, err)
	}
	deployed, err := resources(ctx, st)
	if err != nil {
		return err
	}
	if len(deployed) == 0 {
		return fmt.Errorf("switch of stack %s: nothing is deployed, so there is no data to move; nothing was changed; fix: pulumi config set %s %s --stack %s, then make up STACK=%s",
			st.Name(), backendKey, plan.To.Name, st.Name(), st.Name())
	}
	if plan.Keep && !slices.ContainsFunc(slices.Collect(maps.Values(deployed)), func(r stateResource) bool { return r.RetainOnDelete }) {
		return fmt.Errorf("switch of stack %s: %s:protectDatabase is true, but the state does not retain the database yet: no up has run since it was set, so the switch's up would delete it; nothing was changed; fix: make up STACK=%s, then make switch again",
			st.Name(), stack.Namespace, st.Name())
	}
	app := stack.RawFromConfig(st.Name(), after).Values["appName"]
	source, err := Endpoint(ctx, st) // read before the configuration changes
	if err != nil {
		return fmt.Errorf("switch of stack %s: %w", st.Name(), err)
	}

	if err := writeConfig(ctx, st, plan.Set, plan.Remove); err != nil {
		return err
	}
	for _, n := range plan.Notes {
		fmt.Fprintf(out, "switch %s: %s\n", st.Name(), n)
	}
	generated, err := EnsureSecrets(ctx, st)
	for _, k := range generated {
		fmt.Fprintf(out, "switch %s: set %s (generated for %s; not shown)\n", st.Name(), k, plan.To.Name)
	}
	if err != nil {
		return errors.Join(err, undo(ctx, st, plan, before, out))
	}

	fmt.Fprintf(out, "switch %s: 1/3 creating the database on %s; %s keeps serving\n", st.Name(), plan.To.Name, plan.From.Name)
	if _, err := st.Up(ctx, append(slices.Clone(o.Up), optup.Target(plan.To.SwitchFirst(app)))...); err != nil {
		return errors.Join(fmt.Errorf("switch of stack %s: creating the database on %s failed: %w", st.Name(), plan.To.Name, err),
			undo(ctx, st, plan, before, out))
	}
	fmt.Fprintf(out, "switch %s: 2/3 copying the data from %s to %s; %s keeps serving\n", st.Name(), plan.From.Name, plan.To.Name, plan.From.Name)
	if err := moveData(ctx, st, source, o, out); err != nil {
		return errors.Join(fmt.Errorf("switch of stack %s: copying the data failed: %w", st.Name(), err), undo(ctx, st, plan, before, out))
	}

	fmt.Fprintf(out, "switch %s: 3/3 starting the app on %s, then removing %s's side (its database %s)\n",
		st.Name(), plan.To.Name, plan.From.Name, map[bool]string{true: "is kept", false: "is deleted: FORCE=1"}[plan.Keep])
	held, err := resources(ctx, st)
	if err != nil {
		return err
	}
	// Unprotected first, so that a make up after any failure from here on
	// finishes the switch rather than stopping on the old side's guard.
	if err := unprotectAll(ctx, st); err != nil {
		return fmt.Errorf("switch of stack %s: %w; the data is on %s and %s still serves; fix the cause, then make up STACK=%s finishes the switch",
			st.Name(), err, plan.To.Name, plan.From.Name, st.Name())
	}
	// Two updates: the first, targeted, creates the new app beside the old
	// side; only the second deletes anything. (One update would delete the
	// old side's machines while the new app still waited to be healthy.)
	if _, err := st.Up(ctx, append(slices.Clone(o.Up), optup.Target(plan.To.Owns(app)))...); err != nil {
		return fmt.Errorf("switch of stack %s: starting the app on %s failed: %w; the data is on %s and %s still serves; fix the cause, then make up STACK=%s finishes the switch (docs/switching.md#if-it-fails)",
			st.Name(), plan.To.Name, err, plan.To.Name, plan.From.Name, st.Name())
	}
	fmt.Fprintf(out, "switch %s: %s serves; removing %s's side\n", st.Name(), plan.To.Name, plan.From.Name)
	if _, err := Up(ctx, st, o.Up...); err != nil {
		return fmt.Errorf("switch of stack %s: %s serves, but the up that removes %s's side failed: %w; the data is on %s, and the old database is %s; fix the cause, then make up STACK=%s finishes the switch (docs/switching.md#if-it-fails)",
			st.Name(), plan.To.Name, plan.From.Name, err, plan.To.Name, map[bool]string{true: "retained", false: "deleted or about to be"}[plan.Keep], st.Name())
	}
	left, err := resources(ctx, st)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "switch %s: done; it runs on %s\n", st.Name(), plan.To.Name)
	report(out, st.Name(), plan, held, left, before)
	return nil
}

// moveData copies the database of source, the old side, over the new
// side's, and says how much it copied.
func moveData(ctx context.Context, st auto.Stack, source datamove.Endpoint, o SwitchOptions, out io.Writer) error {
	target, err := Endpoint(ctx, st)
	if err != nil {
		return err
	}
	rep, err := datamove.Move(ctx, source, target, datamove.Options{Out: out, Fly: o.Fly})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "switch %s: copied %d rows (%d tables) from %s to %s in %s; the row counts match\n",
		st.Name(), rep.Rows, len(rep.Tables), source.Backend, target.Backend, rep.Duration.Round(time.Millisecond))
	return nil
}

// withGenerated is cfg with a stand-in value for each secret EnsureSecrets
// would generate and cfg lacks, so that a check of cfg judges the rest.
func withGenerated(cfg auto.ConfigMap) auto.ConfigMap {
	out := maps.Clone(cfg)
	for key, n := range secretBytes {
		full := stack.Namespace + ":" + key
		if out[full].Value == "" {
			out[full] = auto.ConfigValue{Value: strings.Repeat("0", 2*n), Secret: true}
		}
	}
	return out
}

func writeConfig(ctx context.Context, st auto.Stack, set auto.ConfigMap, remove []string) error {
	if len(set) > 0 {
		if err := st.SetAllConfig(ctx, set); err != nil {
			return fmt.Errorf("switch of stack %s: writing the configuration: %w", st.Name(), err)
		}
	}
	if len(remove) > 0 {
		if err := st.RemoveAllConfig(ctx, remove); err != nil {
			return fmt.Errorf("switch of stack %s: writing the configuration: %w", st.Name(), err)
		}
	}
	return nil
}

// undo puts the configuration of before back after a failure that left the
// old side as it was, and says what the failed switch left.
func undo(ctx context.Context, st auto.Stack, plan SwitchPlan, before auto.ConfigMap, out io.Writer) error {
	set, remove := plan.Undo(before)
	if err := writeConfig(ctx, st, set, remove); err != nil {
		return fmt.Errorf("%w; put the configuration back by hand: pulumi config set %s %s --stack %s", err, backendKey, plan.From.Name, st.Name())
	}
	fmt.Fprintf(out, "switch %s: put the configuration back (%s = %s); %s's side is as it was and serves. What the switch created on %s is in the state: make switch again resumes; "+
		"to drop it instead, make up STACK=%s (docs/switching.md#if-it-fails)\n", st.Name(), backendKey, plan.From.Name, plan.From.Name, plan.To.Name, st.Name())
	return nil
}

// unprotectAll unprotects every resource of the stack's state, as `pulumi
// state unprotect --all`: the old side's database (retained, so its delete
// leaves it in place) and Fly's DestroyGuard, which would refuse the up
// that removes the old side. The up protects the new side's again.
func unprotectAll(ctx context.Context, st auto.Stack) error {
	ws := st.Workspace()
	var env []string
	for k, v := range ws.GetEnvVars() {
		env = append(env, k+"="+v)
	}
	_, stderr, _, err := ws.PulumiCommand().Run(ctx, ws.WorkDir(), nil, nil, nil, env,
		"state", "unprotect", "--all", "--yes", "--stack", st.Name())
	if err != nil {
		return fmt.Errorf("pulumi state unprotect --all --stack %s: %w: %s", st.Name(), err, strings.TrimSpace(stderr))
	}
	return nil
}

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
