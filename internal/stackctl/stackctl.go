// Package stackctl drives the Pulumi program through the Automation API with
// infra.Run as an inline program. It needs only the Pulumi CLI, not the Go
// language host, so `make up` and the end-to-end tests run the very code that
// main.go runs, on any machine.
package stackctl

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/emothe/emothe/infra"
)

// Open selects the named stack of the project in root, whose Pulumi.yaml and
// Pulumi.<stack>.yaml are used as they are. A stack is known when it has a
// Pulumi.<stack>.yaml or state in the backend; any other name is refused
// with the known ones, before anything is written: a typo must not create a
// stack (`make stack` creates one, explicitly).
func Open(ctx context.Context, root, name string, program pulumi.RunFunc) (auto.Stack, error) {
	if program == nil {
		program = infra.Run
	}
	if u := os.Getenv("PULUMI_BACKEND_URL"); strings.HasPrefix(u, "file://") {
		// The file backend does not create its directory.
		if err := os.MkdirAll(strings.TrimPrefix(u, "file://"), 0o700); err != nil {
			return auto.Stack{}, fmt.Errorf("state directory: %w", err)
		}
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return auto.Stack{}, err
	}
	ws, err := auto.NewLocalWorkspace(ctx, auto.WorkDir(abs), auto.Program(Program(program)))
	if err != nil {
		return auto.Stack{}, err
	}
	if !hasStackFile(abs, name) {
		known, err := knownStacks(ctx, ws, abs)
		if err != nil {
			return auto.Stack{}, err
		}
		if !slices.Contains(known, name) {
			return auto.Stack{}, fmt.Errorf("unknown stack %q: there is no Pulumi.%s.yaml and no state for it (known stacks: %s); nothing was created; fix: pick a known stack, or create this one with `make stack STACK=%s [BACKEND=%s]`",
				name, name, orNone(known), name, strings.Join(backendNames(), "|"))
		}
		// State without a stack file (deleted from git, or a fresh
		// checkout): select it, and let the CLI write no stack file.
		return auto.SelectStack(ctx, name, ws)
	}
	return auto.UpsertStack(ctx, name, ws)
}

func hasStackFile(root, name string) bool {
	_, err := os.Stat(filepath.Join(root, "Pulumi."+name+".yaml"))
	return err == nil
}

// knownStacks are the stacks with a stack file in root or state in the
// backend, sorted.
func knownStacks(ctx context.Context, ws auto.Workspace, root string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(root, "Pulumi.*.yaml"))
	if err != nil {
		return nil, err
	}
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "Pulumi."), ".yaml"))
	}
	summaries, err := ws.ListStacks(ctx)
	if err != nil {
		return nil, fmt.Errorf("list the backend's stacks: %w", err)
	}
	for _, s := range summaries {
		// Pulumi Cloud spells a stack org/stack or org/project/stack.
		names = append(names, s.Name[strings.LastIndex(s.Name, "/")+1:])
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// backendNames are the values emothe:backend takes, the default first.
func backendNames() []string {
	var names []string
	for _, p := range infra.Backends {
		names = append(names, p.Name)
	}
	return names
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
