package stackctl

import (
	"context"
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
	if o.Out == nil {
		o.Out = io.Discard
	}
	r := &switchRun{st: st, o: o, out: o.Out}
	if err := r.check(ctx); err != nil {
		return err
	}
	if err := r.prepare(ctx); err != nil {
		return errors.Join(err, r.undo(ctx))
	}
	return r.cutOver(ctx)
}

// switchRun is one switch under way.
type switchRun struct {
	st  auto.Stack
	o   SwitchOptions
	out io.Writer

	plan   SwitchPlan
	before auto.ConfigMap    // the configuration before the switch
	app    string            // emothe:appName
	source datamove.Endpoint // the old database
}

func (r *switchRun) say(format string, args ...any) {
	fmt.Fprintf(r.out, "switch %s: %s\n", r.st.Name(), fmt.Sprintf(format, args...))
}

// check refuses, changing nothing, what cannot be switched.
func (r *switchRun) check(ctx context.Context) error {
	name := r.st.Name()
	var err error
	if r.before, err = r.st.GetAllConfig(ctx); err != nil {
		return err
	}
	if r.plan, err = PlanSwitch(name, r.before, r.o.To, r.o.Force); err != nil {
		return err
	}
	after := r.plan.Config(r.before)
	if err := CheckConfig(name, withGenerated(after), nil); err != nil {
		return fmt.Errorf("switch of stack %s to %s: the configuration the switch would write is refused: %w; nothing was changed; fix it with pulumi config set (the other backend's settings do nothing until the switch), then make switch again",
			name, r.plan.To.Name, err)
	}
	deployed, err := resources(ctx, r.st)
	if err != nil {
		return err
	}
	if len(deployed) == 0 {
		return fmt.Errorf("switch of stack %s: nothing is deployed, so there is no data to move; nothing was changed; fix: pulumi config set %s %s --stack %s, then make up STACK=%s",
			name, backendKey, r.plan.To.Name, name, name)
	}
	if r.plan.Keep && !slices.ContainsFunc(slices.Collect(maps.Values(deployed)), func(s stateResource) bool { return s.RetainOnDelete }) {
		return fmt.Errorf("switch of stack %s: %s:protectDatabase is true, but the state does not retain the database yet: no up has run since it was set, so the switch's up would delete it; nothing was changed; fix: make up STACK=%s, then make switch again",
			name, stack.Namespace, name)
	}
	if img, ok := sharedBuild(deployed, after); ok {
		return fmt.Errorf("switch of stack %s to %s: the stack builds its own image (%s %s in the state) and %s would build it under the same name, which a switch cannot hand from one backend to the other while the old side still runs on it; nothing was changed; "+
			"fix: push the image to a registry both backends pull from, pulumi config set %s:image <registry>/<repository>@sha256:<digest> --stack %s, make up STACK=%s (it drops the build from the state), then make switch again (docs/switching.md#if-it-fails)",
			name, r.plan.To.Name, img.Type, img.name(), r.plan.To.Name, stack.Namespace, name, name)
	}
	r.app = stack.RawFromConfig(name, after).Values["appName"]
	if r.source, err = Endpoint(ctx, r.st); err != nil { // read before the configuration changes
		return fmt.Errorf("switch of stack %s: %w", name, err)
	}
	return nil
}

// prepare writes the configuration, creates the new database beside the
// old side and copies the data into it. The old side is not touched.
func (r *switchRun) prepare(ctx context.Context) error {
	from, to := r.plan.From.Name, r.plan.To.Name
	if err := writeConfig(ctx, r.st, r.plan.Set, r.plan.Remove); err != nil {
		return err
	}
	for _, n := range r.plan.Notes {
		r.say("%s", n)
	}
	generated, err := EnsureSecrets(ctx, r.st)
	for _, k := range generated {
		r.say("set %s (generated for %s; not shown)", k, to)
	}
	if err != nil {
		return err
	}
	r.say("1/3 creating the database on %s; %s keeps serving", to, from)
	if _, err := r.st.Up(ctx, append(slices.Clone(r.o.Up), optup.Target(r.plan.To.SwitchFirst(r.app)))...); err != nil {
		return fmt.Errorf("switch of stack %s: creating the database on %s failed: %w", r.st.Name(), to, err)
	}
	r.say("2/3 copying the data from %s to %s; %s keeps serving", from, to, from)
	if err := r.copy(ctx); err != nil {
		return fmt.Errorf("switch of stack %s: copying the data failed: %w", r.st.Name(), err)
	}
	return nil
}

// copy copies the old database over the new side's, and says how much.
func (r *switchRun) copy(ctx context.Context) error {
	target, err := Endpoint(ctx, r.st)
	if err != nil {
		return err
	}
	rep, err := datamove.Move(ctx, r.source, target, datamove.Options{Out: r.out, Fly: r.o.Fly})
	if err != nil {
		return err
	}
	r.say("copied %d rows (%d tables) from %s to %s in %s; the row counts match",
		rep.Rows, len(rep.Tables), r.source.Backend, target.Backend, rep.Duration.Round(time.Millisecond))
	return nil
}

// cutOver starts the new app on the copied data, then removes the old
// side, keeping its database when retained, and reports what stays.
func (r *switchRun) cutOver(ctx context.Context) error {
	name, from, to := r.st.Name(), r.plan.From.Name, r.plan.To.Name
	r.say("3/3 starting the app on %s, then removing %s's side (its database %s)", to, from,
		map[bool]string{true: "is kept", false: "is deleted: FORCE=1"}[r.plan.Keep])
	held, err := resources(ctx, r.st)
	if err != nil {
		return err
	}
	// Unprotected first, so that a make up after any failure from here on
	// finishes the switch rather than stopping on the old side's guard.
	if err := unprotectAll(ctx, r.st); err != nil {
		return fmt.Errorf("switch of stack %s: %w; the data is on %s and %s still serves; fix the cause, then make up STACK=%s finishes the switch",
			name, err, to, from, name)
	}
	// Two updates: the first, targeted, creates the new app beside the old
	// side; only the second deletes anything. (One update would delete the
	// old side's machines while the new app still waited to be healthy.)
	if _, err := r.st.Up(ctx, append(slices.Clone(r.o.Up), optup.Target(r.plan.To.Owns(r.app)))...); err != nil {
		return fmt.Errorf("switch of stack %s: starting the app on %s failed: %w; the data is on %s and %s still serves; fix the cause, then make up STACK=%s finishes the switch (docs/switching.md#if-it-fails)",
			name, to, err, to, from, name)
	}
	r.say("%s serves; removing %s's side", to, from)
	if _, err := Up(ctx, r.st, r.o.Up...); err != nil {
		return fmt.Errorf("switch of stack %s: %s serves, but the up that removes %s's side failed: %w; the data is on %s, and the old database is %s; fix the cause, then make up STACK=%s finishes the switch (docs/switching.md#if-it-fails)",
			name, to, from, err, to, map[bool]string{true: "retained", false: "deleted or about to be"}[r.plan.Keep], name)
	}
	left, err := resources(ctx, r.st)
	if err != nil {
		return err
	}
	r.say("done; it runs on %s", to)
	report(r.out, name, r.plan, held, left, r.before)
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
func (r *switchRun) undo(ctx context.Context) error {
	set, remove := r.plan.Undo(r.before)
	from, to, name := r.plan.From.Name, r.plan.To.Name, r.st.Name()
	if err := writeConfig(ctx, r.st, set, remove); err != nil {
		return fmt.Errorf("%w; put the configuration back by hand: pulumi config set %s %s --stack %s", err, backendKey, from, name)
	}
	r.say("put the configuration back (%s = %s); %s's side is as it was and serves. What the switch created on %s is in the state: make switch again resumes; "+
		"to drop it instead, make up STACK=%s (docs/switching.md#if-it-fails)", backendKey, from, from, to, name)
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

// builtImage is the type of the image a stack without emothe:image builds;
// both backends name it <app>-image.
const builtImage = "docker:index/image:Image"

// sharedBuild finds the image build in the deployed state that the
// configuration after a switch would build again under the same name: the
// switch's targeted updates would have to replace it while the old side's
// app still depends on it, which the engine refuses.
func sharedBuild(deployed map[string]stateResource, after auto.ConfigMap) (stateResource, bool) {
	if stack.RawFromConfig("", after).Values["image"] != "" {
		return stateResource{}, false
	}
	for _, r := range deployed {
		if r.Type == builtImage {
			return r, true
		}
	}
	return stateResource{}, false
}
