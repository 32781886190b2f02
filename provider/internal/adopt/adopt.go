// Package adopt lets a create take over what an earlier, interrupted create
// of the same resource left in Fly, for objects Fly gives no unique name and
// no metadata (volumes, IP addresses): the interrupted run's object is found
// by what it is, and taken only when exactly one fits. The objects that
// resources of this provider process created, adopted or were told about
// (Diff, Read, Update) are claimed and never adopted twice, and creates of
// one kind on one app run one at a time, so a create never takes a sibling's
// object made a moment before (docs/fly-api.md#interrupted-creates).
package adopt

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/pulumi/pulumi-go-provider/infer"

	"github.com/emothe/emothe/provider/config"
)

var (
	mu      sync.Mutex
	claimed = map[string]bool{}        // "<API URL> <app>/<id>"
	scopes  = map[string]*sync.Mutex{} // "<API URL> <kind>/<app>"
)

// key names obj on the Fly API that ctx's provider config talks to: one
// process may serve providers of several (tests run fakes side by side).
func key(ctx context.Context, obj string) string {
	return infer.GetConfig[config.Config](ctx).APIURL + " " + obj
}

// Claim records that a resource owns object id of app.
func Claim(ctx context.Context, app, id string) {
	if id == "" {
		return
	}
	mu.Lock()
	defer mu.Unlock()
	claimed[key(ctx, app+"/"+id)] = true
}

// Serialize runs fn alone among the creates of kind on app in this process:
// the list it adopts from and the create it may send stay consistent.
func Serialize[T any](ctx context.Context, kind, app string, fn func() (T, error)) (T, error) {
	k := key(ctx, kind+"/"+app)
	mu.Lock()
	m := scopes[k]
	if m == nil {
		m = &sync.Mutex{}
		scopes[k] = m
	}
	mu.Unlock()
	m.Lock()
	defer m.Unlock()
	return fn()
}

// Pick returns the one unclaimed ID among candidates ("" for none) and
// claims it. Several unclaimed fit is an error: which of them belongs to
// this resource cannot be told, so what names them and the fix.
func Pick(ctx context.Context, app, what string, candidates []string, fix string) (string, error) {
	mu.Lock()
	defer mu.Unlock()
	free := slices.DeleteFunc(slices.Clone(candidates), func(id string) bool { return claimed[key(ctx, app+"/"+id)] })
	switch len(free) {
	case 0:
		return "", nil
	case 1:
		claimed[key(ctx, app+"/"+free[0])] = true
		return free[0], nil
	}
	slices.Sort(free)
	return "", fmt.Errorf("app %s already has %d %s that no resource of this run owns (%s), left by interrupted creates "+
		"or made outside Pulumi, and which one is this resource's cannot be told: %s",
		app, len(free), what, strings.Join(free, ", "), fix)
}
