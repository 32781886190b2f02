package stackctl

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"

	"github.com/emothe/emothe/infra"
	"github.com/emothe/emothe/infra/stack"
)

// Recover finishes, before an operation, what an interrupted one (a killed
// `pulumi`, a cancelled CI runner, a laptop that slept) left behind, so the
// operation runs as if it had not been interrupted; tools/stack runs it
// before up, preview, rollback and destroy. It says on out, one line each,
// what it found and what it did, and nothing when there was nothing to do.
//
//  1. A lock of st left by a process of this host that no longer runs is
//     removed; one held by a live process or another host stops it with a
//     *LockedError (the holder, since when, the command that clears it):
//     that update's pending operations are in flight, not interrupted.
//  2. Provider plugins a dead engine of this checkout left running are
//     stopped, so that none changes anything while the recovery looks.
//  3. Pending operations: a refresh of just the resources with a pending
//     update, delete, read or import makes the state match what the
//     provider did; pending creates are cleared. What an interrupted
//     create made is the backend's: on Compose, the sweep below; on Fly,
//     the provider's next Create adopts it instead of making a second one
//     (machines by their process group; apps, volumes, IPs and clusters
//     when exactly one unclaimed match exists; docs/fly.md#interrupted-deploys).
//  4. Compose: every container and network carrying the stack's project
//     label that the state does not hold is removed, a container after a
//     graceful stop; such a volume is kept and named, for the next up
//     adopts it by name. Nothing without the label, or with another
//     project's, is touched.
func Recover(ctx context.Context, st auto.Stack, out io.Writer) error {
	url, err := backendURL(ctx, st)
	if err != nil {
		return err
	}
	project, err := st.Workspace().ProjectSettings(ctx)
	if err != nil {
		return err
	}
	if err := clearStaleLocks(ctx, st, url, project.Name.String(), out); err != nil {
		return err
	}
	if err := stopOrphanedPlugins(ctx, st.Name(), st.Workspace().WorkDir(), project.Name.String(), out); err != nil {
		return err
	}
	cfg, err := st.GetAllConfig(ctx)
	if err != nil {
		return err
	}
	raw := stack.RawFromConfig(st.Name(), cfg)
	backend := infra.Backends.Value(raw, "backend")
	s, err := readState(ctx, st)
	if err != nil {
		return err
	}
	// The sweep ties what it finds on the host to these creates.
	creates := s.pendingCreates()
	if s, err = resolvePending(ctx, st, s, backend, url, out); err != nil {
		return err
	}
	if backend != "compose" {
		return nil
	}
	host := dockerHost(infra.Backends.Value(raw, "dockerHost"))
	return host.sweep(ctx, st.Name(), infra.Backends.Value(raw, "appName"), s, creates, out)
}

// resolvePending refreshes the resources of s's pending operations but its
// creates, clears those, and returns the state it leaves.
func resolvePending(ctx context.Context, st auto.Stack, s state, backend, url string, out io.Writer) (state, error) {
	targets := s.refreshTargets()
	if targets == nil && !locksReadable(url) && backend == "compose" {
		// A bucket's locks cannot be read beforehand, and a running update's
		// containers must not be swept: a refresh of the root alone takes the
		// lock and releases it, or stops on the holder's.
		targets = s.root()
	}
	if targets == nil {
		return s, nil
	}
	cleared := 0
	for _, op := range s.Pending {
		fmt.Fprintf(out, "recover: stack %s: found the %s, interrupted\n", st.Name(), describe(op))
		if op.Type == apitype.OperationTypeCreating {
			cleared++
		}
	}
	if _, err := st.Refresh(ctx, optrefresh.Target(targets), optrefresh.ClearPendingCreates()); err != nil {
		if holder, ok := engineLock(err); ok {
			return s, &LockedError{Stack: st.Name(), Holder: holder, Why: "the engine found the lock, which this tool cannot judge in this backend",
				Clear: "`pulumi cancel --stack " + st.Name() + " --yes`"}
		}
		return s, fmt.Errorf("refresh the resources of the interrupted operations of stack %s: %w", st.Name(), err)
	}
	if names := refreshed(targets); names != "" {
		fmt.Fprintf(out, "recover: stack %s: refreshed %s: the state now holds what the provider has\n", st.Name(), names)
	}
	if cleared > 0 {
		fmt.Fprintf(out, "recover: stack %s: cleared %d pending create(s): %s\n", st.Name(), cleared, afterCreates[backend])
	}
	return readState(ctx, st)
}

// afterCreates says, by backend, what becomes of what an interrupted
// create made once its pending create is cleared.
var afterCreates = map[string]string{
	"compose": "what they made on the Docker host is removed below, or kept if it holds data",
	"fly":     "the next up's create adopts what they made instead of making a second one (docs/fly.md#interrupted-deploys)",
}

func readState(ctx context.Context, st auto.Stack) (state, error) {
	dep, err := st.Export(ctx)
	if err != nil {
		return state{}, fmt.Errorf("read the state of stack %s: %w", st.Name(), err)
	}
	s, err := parseState(dep)
	if err != nil {
		return state{}, fmt.Errorf("stack %s: %w", st.Name(), err)
	}
	return s, nil
}

// refreshed names what a refresh of targets read, the stack's root aside.
func refreshed(targets []string) string {
	var names []string
	for _, t := range targets {
		if !strings.Contains(t, "::"+rootType+"::") {
			names = append(names, urnName(t))
		}
	}
	return strings.Join(names, ", ")
}
