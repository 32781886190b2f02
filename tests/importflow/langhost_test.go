package importflow

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// `pulumi import` loads the project's language host, pulumi-language-go,
// only to ask which plugins the program needs. The CLI's releases ship it;
// this machine has the CLI built from source and no way to fetch it. The
// test binary stands in for it: run as pulumi-language-go (envLanguageHost
// set), it serves a language host that needs nothing beyond the plugins
// Pulumi.yaml names, which is all this program needs.
const envLanguageHost = "EMOTHE_TEST_LANGUAGE_HOST"

type languageHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
}

func (languageHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: "3.274.1"}, nil
}

func (languageHost) GetRequiredPackages(context.Context, *pulumirpc.GetRequiredPackagesRequest) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

func (languageHost) GetRequiredPlugins(context.Context, *pulumirpc.GetRequiredPluginsRequest) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

// serveLanguageHost serves as a plugin does: the port on stdout, then
// until the engine stops it.
func serveLanguageHost() {
	h, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{Init: func(s *grpc.Server) error {
		pulumirpc.RegisterLanguageRuntimeServer(s, languageHost{})
		return nil
	}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "language host:", err)
		os.Exit(1)
	}
	fmt.Println(h.Port)
	if err := <-h.Done; err != nil {
		os.Exit(1)
	}
	os.Exit(0)
}

// useLanguageHost puts a pulumi-language-go that runs this test binary as
// the language host first on PATH.
func useLanguageHost(t *testing.T) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	script := fmt.Sprintf("#!/bin/sh\n%s=1 exec %q \"$@\"\n", envLanguageHost, self)
	if err := os.WriteFile(filepath.Join(dir, "pulumi-language-go"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}
