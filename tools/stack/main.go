// Command stack runs one operation on a stack of this project through the
// Automation API (see internal/stackctl): `make up`, `preview`, `destroy`,
// `drift`, `secrets`, `stack`, `rollback`, `move-data` and `switch` call it, and the workflows in
// .github/workflows call it for preview, up, rollback and drift.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"

	"github.com/emothe/emothe/internal/datamove"
	"github.com/emothe/emothe/internal/stackctl"
)

type options struct {
	stack   string
	refresh bool   // up: refresh first
	rotate  string // secrets: the secret to regenerate
	backend string // stack: the new stack's backend
	to      string // rollback: the image to put back
	summary string // preview: where to write the plan's Markdown summary
	from    string // move-data: the stack whose database is copied
	force   bool   // move-data: overwrite a target that holds data
}

func main() {
	var o options
	flag.StringVar(&o.stack, "stack", "local", "stack name (Pulumi.<stack>.yaml)")
	flag.BoolVar(&o.refresh, "refresh", false, "up: refresh the stack from the real resources first, so the update also undoes drift")
	flag.StringVar(&o.rotate, "rotate", "", "secrets: regenerate this secret setting (e.g. secretKeyBase) even though it is set")
	flag.StringVar(&o.backend, "backend", "fly", "stack: the new stack's backend")
	flag.StringVar(&o.to, "to", "", "rollback: the image to put back (name@sha256:…); default: the previous successful release's; move-data: the stack whose database is replaced; switch: the backend to move the stack to (fly or compose)")
	flag.StringVar(&o.from, "from", "", "move-data: the stack whose database is copied")
	flag.BoolVar(&o.force, "force", false, "move-data: overwrite the target's database although it holds data; switch: switch a stack whose database is not protected, deleting it once copied")
	flag.StringVar(&o.summary, "summary", "", "preview: also write the plan's summary, risks first, as Markdown to this file")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: stack [flags] up|preview|destroy|drift|secrets|stack|rollback|move-data|switch")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o, flag.Arg(0)); err != nil {
		fmt.Fprintln(os.Stderr, "error:", message(err))
		os.Exit(1)
	}
}

func run(ctx context.Context, o options, op string) error {
	switch op {
	case "up", "preview", "destroy", "drift", "secrets", "rollback", "switch":
	case "stack":
		if _, err := stackctl.Create(ctx, ".", o.stack, o.backend); err != nil {
			return err
		}
		fmt.Printf("created stack %s (backend %s): Pulumi.%s.yaml lists its settings; next: make secrets STACK=%s, then make up STACK=%s\n",
			o.stack, o.backend, o.stack, o.stack, o.stack)
		return nil
	case "move-data":
		rep, err := stackctl.MoveData(ctx, ".", o.from, o.to, datamove.Options{Force: o.force, Out: os.Stdout})
		if err != nil {
			return err
		}
		fmt.Printf("moved %d rows (%d tables, %.1f MB) from stack %s to stack %s in %s\n",
			rep.Rows, len(rep.Tables), float64(rep.Bytes)/1e6, o.from, o.to, rep.Duration.Round(time.Millisecond))
		return nil
	default:
		return fmt.Errorf("unknown operation %q: want up, preview, destroy, drift, secrets, stack, rollback, move-data or switch", op)
	}
	if o.stack == stackctl.LocalStack && op != "destroy" {
		made, err := stackctl.EnsureLocalStackFile(".")
		if err != nil {
			return err
		}
		if made {
			fmt.Printf("created Pulumi.%s.yaml from %s: it is yours (git ignores it) and will hold the stack's encrypted secrets\n",
				stackctl.LocalStack, stackctl.LocalTemplate)
		}
	}
	st, err := stackctl.Open(ctx, ".", o.stack, nil)
	if err != nil {
		return err
	}
	// A local stack is self-contained: its secrets are generated on first use.
	if op == "secrets" || (op == "up" && o.stack == "local") {
		if err := secrets(ctx, st, o.rotate); err != nil || op == "secrets" {
			return err
		}
	}
	// A configuration the program refuses stops here, in one line, before
	// the engine runs and writes anything. (drift reports it in its JSON.)
	// (switch checks the configuration it is about to write.)
	if op != "destroy" && op != "drift" && op != "switch" {
		if err := stackctl.Check(ctx, st, nil); err != nil {
			return err
		}
	}
	// What an interrupted run left (a stale lock, pending operations,
	// orphaned containers) is finished first, so that the operation runs
	// as if nothing had happened. (drift only reads, and reports it.)
	// A preview takes no lock, and goes on beside a running update.
	if op != "drift" {
		err := stackctl.Recover(ctx, st, os.Stdout)
		var locked *stackctl.LockedError
		switch {
		case op == "preview" && errors.As(err, &locked):
			fmt.Printf("preview: stack %s is locked by %s; previewing without recovering what an interrupted run left\n", locked.Stack, locked.Holder)
		case err != nil:
			return err
		}
	}
	upOpts := []optup.Option{optup.ProgressStreams(os.Stdout), optup.ErrorProgressStreams(os.Stderr)}
	switch op {
	case "up":
		if o.refresh {
			upOpts = append(upOpts, optup.Refresh())
		}
		_, err = stackctl.Up(ctx, st, upOpts...)
	case "switch":
		err = stackctl.Switch(ctx, st, stackctl.SwitchOptions{To: o.to, Force: o.force, Out: os.Stdout, Up: upOpts})
	case "rollback":
		_, err = stackctl.Rollback(ctx, st, o.to, os.Stdout, upOpts...)
	case "preview":
		err = preview(ctx, st, o.summary)
	case "destroy":
		var kept []string
		kept, err = stackctl.Destroy(ctx, st, optdestroy.ProgressStreams(os.Stdout), optdestroy.ErrorProgressStreams(os.Stderr))
		for _, k := range kept {
			fmt.Printf("kept %s: emothe:protectDatabase keeps it through a destroy; delete it by hand once it is not needed\n", k)
		}
	case "drift":
		// The JSON report alone goes to stdout; the preview goes to stderr.
		err = drift(ctx, st, os.Stdout, os.Stderr)
	}
	return err
}

func secrets(ctx context.Context, st auto.Stack, rotate string) error {
	if rotate != "" {
		if err := stackctl.RotateSecret(ctx, st, rotate); err != nil {
			return err
		}
		fmt.Printf("set emothe:%s (regenerated; not shown); the next up rolls the app onto it\n", rotate)
	}
	keys, err := stackctl.EnsureSecrets(ctx, st)
	for _, k := range keys {
		fmt.Printf("set %s (generated; not shown)\n", k)
	}
	return err
}

// message is what is left to say of err once the engine's output, which
// the CLI streamed as it ran, is on the screen: the error of a failed CLI
// run carries that whole output once more ("…\ncode: …\nstdout: …\nstderr: …").
func message(err error) string {
	s := err.Error()
	if i := strings.Index(s, "\ncode: "); i >= 0 {
		return s[:i] + "; the engine's output above says why"
	}
	return s
}
