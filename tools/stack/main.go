// Command stack runs one Pulumi operation on a stack of this project through
// the Automation API (see internal/stackctl): `make up`, `make preview`,
// `make destroy` and `make secrets` call it.
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
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: stack [-stack NAME] up|preview|destroy|secrets")
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *name, flag.Arg(0)); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, name, op string) error {
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
		_, err = st.Up(ctx, optup.ProgressStreams(os.Stdout), optup.ErrorProgressStreams(os.Stderr))
	case "preview":
		_, err = st.Preview(ctx, optpreview.Diff(), optpreview.ProgressStreams(os.Stdout), optpreview.ErrorProgressStreams(os.Stderr))
	case "destroy":
		_, err = st.Destroy(ctx, optdestroy.ProgressStreams(os.Stdout), optdestroy.ErrorProgressStreams(os.Stderr))
	default:
		return fmt.Errorf("unknown operation %q: want up, preview, destroy or secrets", op)
	}
	return err
}
