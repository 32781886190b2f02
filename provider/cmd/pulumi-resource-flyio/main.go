// Command pulumi-resource-flyio is the flyio Pulumi provider plugin. Build it
// with -ldflags "-X github.com/emothe/emothe/provider.Version=<semver>".
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/emothe/emothe/provider"
)

func main() {
	prov, err := provider.Provider()
	if err == nil {
		err = prov.Run(context.Background(), provider.Name, provider.Version)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", provider.Name, err)
		os.Exit(1)
	}
}
