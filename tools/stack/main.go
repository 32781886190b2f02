// Command stack runs one Pulumi operation on a stack of this project through
// the Automation API (see internal/stackctl): `make up`, `make preview`,
// `make destroy` and `make secrets` call it, and the workflows in
// .github/workflows call it for preview, up and drift.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"

	"github.com/emothe/emothe/internal/stackctl"
)

func main() {
	name := flag.String("stack", "local", "stack name (Pulumi.<stack>.yaml)")
	refresh := flag.Bool("refresh", false, "up: refresh the stack from the real resources first, so the update also undoes drift")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: stack [-stack NAME] [-refresh] up|preview|destroy|secrets|drift")
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *name, flag.Arg(0), *refresh); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, name, op string, refresh bool) error {
	st, err := stackctl.Open(ctx, ".", name, nil)
	if err != nil {
		return err
	}
	// A local stack is self-contained: its secrets are generated on first use.
	if op == "secrets" || (op == "up" && name == "local") {
		keys, err := stackctl.EnsureSecrets(ctx, st)
		if err != nil {
			return err
		}
		for _, k := range keys {
			fmt.Printf("set %s (generated; not shown)\n", k)
		}
		if op == "secrets" {
			return nil
		}
	}
	switch op {
	case "up":
		opts := []optup.Option{optup.ProgressStreams(os.Stdout), optup.ErrorProgressStreams(os.Stderr)}
		if refresh {
			opts = append(opts, optup.Refresh())
		}
		_, err = st.Up(ctx, opts...)
	case "preview":
		_, err = st.Preview(ctx, optpreview.Diff(), optpreview.ProgressStreams(os.Stdout), optpreview.ErrorProgressStreams(os.Stderr))
	case "destroy":
		_, err = st.Destroy(ctx, optdestroy.ProgressStreams(os.Stdout), optdestroy.ErrorProgressStreams(os.Stderr))
	case "drift":
		// The JSON report alone goes to stdout; the preview goes to stderr.
		err = drift(ctx, st, os.Stdout, os.Stderr)
	default:
		return fmt.Errorf("unknown operation %q: want up, preview, destroy, secrets or drift", op)
	}
	return err
}
