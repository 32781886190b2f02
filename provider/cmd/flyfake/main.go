// Command flyfake serves the in-repo fake of Fly's Machines API (package
// provider/flyfake) on an address, for running the provider, its examples
// or the Pulumi program against Fly without Fly. It prints the base URL and
// the token to use, then serves until interrupted.
//
//	go run ./provider/cmd/flyfake -addr 127.0.0.1:4280 -boot-delay 2s
//
// The fake's state, call log and fault settings are under /__fake/.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/emothe/emothe/provider/flyfake"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "flyfake:", err)
		os.Exit(2)
	}
}

// run parses args, serves the fake until ctx ends, and prints where to
// reach it on out.
func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("flyfake", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are returned and printed once by main
	var (
		opts           flyfake.Options
		addr           = fs.String("addr", "127.0.0.1:4280", "address to listen on (port 0 picks a free one)")
		faultOps       = fs.String("fault-operations", "", "comma-separated operationIds the fault rates apply to (default all)")
		noCapacity     = fs.String("no-capacity-regions", "", "comma-separated regions where machine creates fail with insufficient_capacity")
		transientState = fs.Int("transient-status", 0, "status of injected transient failures: 408, 429 or 5xx (0 means 503)")
	)
	fs.StringVar(&opts.Token, "token", "", "API token to accept (generated when empty)")
	fs.Uint64Var(&opts.Seed, "seed", 0, "seed for fault injection and generated IDs")
	fs.DurationVar(&opts.Latency, "latency", 0, "delay added to every API call")
	fs.DurationVar(&opts.BootDelay, "boot-delay", time.Second, "how long machines take to start; also how long release commands run")
	fs.DurationVar(&opts.HealthDelay, "health-delay", time.Second, "how long a started machine's checks stay critical")
	fs.DurationVar(&opts.PostgresReadyDelay, "postgres-ready-delay", 5*time.Second, "how long Managed Postgres clusters provision")
	fs.Float64Var(&opts.Faults.TransientRate, "transient-rate", 0, "fraction (0 to 1) of calls failed with -transient-status")
	fs.Float64Var(&opts.Faults.DropRate, "drop-rate", 0, "fraction (0 to 1) of calls performed but whose connection is then cut")
	fs.BoolVar(&opts.Faults.UnhealthyChecks, "unhealthy-checks", false, "keep every machine check critical")
	fs.BoolVar(&opts.Faults.OmitZeroExitCode, "omit-zero-exit-code", false, "leave exit_code out of exit events whose code is 0, as Fly may")
	fs.IntVar(&opts.Faults.ReleaseExitCode, "release-exit-code", 0, "exit code of release-command machines")
	fs.IntVar(&opts.Faults.CrashExitCode, "crash-exit-code", 0, "when not 0, every other machine exits with this code right after it starts")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w (flags: %s)", err, flagNames(fs))
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: flyfake takes only flags (%s)", fs.Arg(0), flagNames(fs))
	}
	for _, name := range []string{"latency", "boot-delay", "health-delay", "postgres-ready-delay"} {
		if d := fs.Lookup(name).Value.(flag.Getter).Get().(time.Duration); d < 0 {
			return fmt.Errorf("-%s %v is negative: use a duration of 0 or more, like 500ms", name, d)
		}
	}
	opts.Faults.TransientStatus = *transientState
	opts.Faults.Operations = splitList(*faultOps)
	opts.Faults.NoCapacityRegions = splitList(*noCapacity)
	if err := opts.Faults.Validate(); err != nil {
		return fmt.Errorf("fault flags: %w", err)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("-addr %s: %w", *addr, err)
	}
	fake := flyfake.New(opts)
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(out, "flyfake: serving Fly's Machines API\nFLY_API_URL=%s/v1\nFLY_API_TOKEN=FlyV1 %s\nstate: %s/__fake/state\n",
		base, fake.Token(), base)

	srv := &http.Server{Handler: fake, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shut down: %w", err)
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

func flagNames(fs *flag.FlagSet) string {
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, "-"+f.Name) })
	return strings.Join(names, " ")
}
