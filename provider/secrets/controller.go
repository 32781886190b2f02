package secrets

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"

	"github.com/emothe/emothe/provider/fly"
	"github.com/emothe/emothe/provider/internal/check"
	"github.com/emothe/emothe/provider/internal/crud"
	"github.com/emothe/emothe/provider/internal/diff"
	"github.com/emothe/emothe/provider/internal/opt"
)

var (
	_ infer.CustomCheck[Args]           = (*AppSecrets)(nil)
	_ infer.CustomDiff[Args, State]     = (*AppSecrets)(nil)
	_ infer.CustomRead[Args, State]     = (*AppSecrets)(nil)
	_ infer.CustomUpdate[Args, State]   = (*AppSecrets)(nil)
	_ infer.CustomDelete[State]         = (*AppSecrets)(nil)
	_ infer.CustomResource[Args, State] = (*AppSecrets)(nil)
)

// Check validates the app and the secret names. Values are never echoed.
func (*AppSecrets) Check(ctx context.Context, req infer.CheckRequest) (infer.CheckResponse[Args], error) {
	in, failures, err := infer.DefaultCheck[Args](ctx, req.NewInputs)
	if err != nil || len(failures) > 0 {
		return infer.CheckResponse[Args]{Inputs: in, Failures: failures}, err
	}
	var f check.Failures
	f.Name(req.NewInputs, "app", in.App)
	for _, k := range slices.Sorted(maps.Keys(in.Values)) {
		if !check.EnvName.MatchString(k) {
			f.Addf("values", "values key %q is not a valid secret name: use letters, digits and _, "+
				"not starting with a digit (e.g. %q)", k, "DATABASE_URL")
		}
	}
	return infer.CheckResponse[Args]{Inputs: in, Failures: f}, nil
}

// Diff compares the digests of the new values with the digests in state.
func (*AppSecrets) Diff(_ context.Context, req infer.DiffRequest[Args, State]) (infer.DiffResponse, error) {
	var d diff.Builder
	d.Replace("app", req.Inputs.App != req.State.App)
	for k, v := range req.Inputs.Values {
		old, had := req.State.Digests[k]
		switch {
		case !had:
			d.Kind("values."+k, p.Add)
		case old != digest(v):
			d.Update("values."+k, true)
		}
	}
	for k := range req.State.Digests {
		if _, keep := req.Inputs.Values[k]; !keep {
			d.Kind("values."+k, p.Delete)
		}
	}
	return d.Response(false), nil
}

// Create writes every value in one call. It refuses an app that already has
// secrets the program does not list: adopting them silently would delete them
// on the next update.
func (r *AppSecrets) Create(ctx context.Context, req infer.CreateRequest[Args]) (infer.CreateResponse[State], error) {
	return crud.Create(ctx, r.Fly, req, func(in Args) infer.CreateResponse[State] {
		return infer.CreateResponse[State]{ID: in.App, Output: stateOf(in.App, digests(in.Values), 0)}
	}, create)
}

func create(ctx context.Context, client fly.Client, in Args) (infer.CreateResponse[State], error) {
	existing, err := client.ListSecrets(ctx, in.App)
	if err != nil {
		return infer.CreateResponse[State]{}, fmt.Errorf("listing secrets of app %q: %w", in.App, err)
	}
	var foreign []string
	for _, s := range existing {
		if _, ok := in.Values[opt.Val(s.Name)]; !ok {
			foreign = append(foreign, opt.Val(s.Name))
		}
	}
	if len(foreign) > 0 {
		slices.Sort(foreign)
		return infer.CreateResponse[State]{}, fmt.Errorf("app %q already has secrets %q that are not in values: "+
			"add them to values, or adopt the existing secrets with `pulumi import flyio:index:AppSecrets <name> %s`",
			in.App, foreign, in.App)
	}
	version, err := set(ctx, client, in.App, in.Values)
	if err != nil {
		return infer.CreateResponse[State]{}, err
	}
	return infer.CreateResponse[State]{ID: in.App, Output: stateOf(in.App, digests(in.Values), version)}, nil
}

// Update sets the changed keys in one call and unsets the removed ones.
func (r *AppSecrets) Update(ctx context.Context, req infer.UpdateRequest[Args, State]) (infer.UpdateResponse[State], error) {
	return crud.Update(ctx, r.Fly, req, func(old State, in Args) State {
		return stateOf(in.App, digests(in.Values), old.Version)
	}, update)
}

// update keeps the highest version it sees: machines boot with the secrets
// of at least minSecretsVersion, and a version taken from an answer without
// one (an unset of a key already gone reports 0) must not lower it.
func update(ctx context.Context, client fly.Client, req infer.UpdateRequest[Args, State]) (infer.UpdateResponse[State], error) {
	in, old := req.Inputs, req.State
	changed := map[string]string{}
	for k, v := range in.Values {
		if d, ok := old.Digests[k]; !ok || d != digest(v) {
			changed[k] = v
		}
	}
	version := old.Version
	if len(changed) > 0 {
		v, err := set(ctx, client, in.App, changed)
		if err != nil {
			return infer.UpdateResponse[State]{}, err
		}
		version = max(version, v)
	}
	for _, k := range slices.Sorted(maps.Keys(old.Digests)) {
		if _, keep := in.Values[k]; keep {
			continue
		}
		v, err := client.UnsetSecret(ctx, in.App, k)
		if err != nil {
			return infer.UpdateResponse[State]{}, fmt.Errorf("unsetting secret %q of app %q: %w", k, in.App, err)
		}
		version = max(version, v)
	}
	return infer.UpdateResponse[State]{Output: stateOf(in.App, digests(in.Values), version)}, nil
}

// Read compares key sets: Fly's digests cannot be matched against ours, so a
// value changed outside Pulumi goes unnoticed, but added and removed keys do not.
func (r *AppSecrets) Read(ctx context.Context, req infer.ReadRequest[Args, State]) (infer.ReadResponse[Args, State], error) {
	return crud.Read(ctx, r.Fly, func(ctx context.Context, client fly.Client) (infer.ReadResponse[Args, State], error) {
		app := req.ID
		listed, err := client.ListSecrets(ctx, app)
		if err != nil {
			return infer.ReadResponse[Args, State]{}, fmt.Errorf("listing secrets of app %q: %w", app, err)
		}
		seen := map[string]string{}
		for _, s := range listed {
			name := opt.Val(s.Name)
			seen[name] = req.State.Digests[name] // "" when we did not write it
		}
		return infer.ReadResponse[Args, State]{
			ID:     app,
			Inputs: Args{App: app, Values: req.Inputs.Values},
			State:  stateOf(app, seen, req.State.Version),
		}, nil
	})
}

// Delete unsets every key the resource owns. UnsetSecret takes a key or an
// app that is gone as done.
func (r *AppSecrets) Delete(ctx context.Context, req infer.DeleteRequest[State]) (infer.DeleteResponse, error) {
	return crud.Delete(ctx, r.Fly, func(ctx context.Context, client fly.Client) error {
		for _, k := range req.State.Keys {
			if _, err := client.UnsetSecret(ctx, req.State.App, k); err != nil {
				return fmt.Errorf("unsetting secret %q of app %q: %w", k, req.State.App, err)
			}
		}
		return nil
	})
}

// set writes values in one call and returns the new secrets version.
func set(ctx context.Context, client fly.Client, app string, values map[string]string) (int, error) {
	req := make(map[string]*string, len(values))
	for k, v := range values {
		req[k] = &v
	}
	version, err := client.SetSecrets(ctx, app, req)
	if err != nil {
		return 0, fmt.Errorf("setting secrets %q of app %q: %w", slices.Sorted(maps.Keys(values)), app, err)
	}
	return version, nil
}

func stateOf(app string, digests map[string]string, version int) State {
	return State{App: app, Keys: slices.Sorted(maps.Keys(digests)), Digests: digests, Version: version}
}

func digests(values map[string]string) map[string]string {
	d := make(map[string]string, len(values))
	for k, v := range values {
		d[k] = digest(v)
	}
	return d
}

func digest(v string) string {
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:])
}
