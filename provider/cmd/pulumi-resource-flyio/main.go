// Command pulumi-resource-flyio is the flyio Pulumi provider plugin. Build it
// with -ldflags "-X github.com/emothe/emothe/provider.Version=<semver>".
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/emothe/emothe/provider"
)

func main() {
	go exitWhenOrphaned(os.Getppid(), 200*time.Millisecond)
	prov, err := provider.Provider()
	if err == nil {
		err = prov.Run(context.Background(), provider.Name, provider.Version)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", provider.Name, err)
		os.Exit(1)
	}
}

// exitWhenOrphaned ends the plugin as soon as the process that started it
// (the Pulumi engine) is gone. An engine killed with SIGKILL never asks its
// plugins to stop, and Pulumi's own health check notices only after five
// minutes: until then a running create or rollout would go on changing Fly
// while the next `up` recovers the stack. Exiting leaves what it was doing
// for that `up` to find (docs/fly.md#interrupted-deploys).
func exitWhenOrphaned(parent int, every time.Duration) {
	if parent <= 1 {
		return // started by init or a debugger's attach: no engine to watch
	}
	for range time.Tick(every) {
		if os.Getppid() != parent {
			fmt.Fprintf(os.Stderr, "%s: the Pulumi engine (pid %d) is gone, exiting\n", provider.Name, parent)
			os.Exit(1)
		}
	}
}
