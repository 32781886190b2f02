// Package provider assembles the flyio Pulumi provider: a native provider for
// Fly.io built on pulumi-go-provider's infer, talking to Fly through the
// fly.Client interface.
package provider

import (
	"fmt"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"

	"github.com/emothe/emothe/provider/app"
	"github.com/emothe/emothe/provider/certificate"
	"github.com/emothe/emothe/provider/config"
	"github.com/emothe/emothe/provider/ip"
	"github.com/emothe/emothe/provider/machines"
	"github.com/emothe/emothe/provider/postgres"
	"github.com/emothe/emothe/provider/secrets"
	"github.com/emothe/emothe/provider/volume"
)

// Name is the Pulumi package name: resource tokens read flyio:index:<Type>.
const Name = "flyio"

// Version is stamped at build time with
// -ldflags "-X github.com/emothe/emothe/provider.Version=<semver>".
var Version = "0.0.0-dev"

// GoImportPath is where the generated Go SDK lives.
const GoImportPath = "github.com/emothe/emothe/sdk/go/flyio"

// Provider builds the flyio provider that talks to Fly.
func Provider() (p.Provider, error) {
	return New(config.FlyClient)
}

// New builds the flyio provider with each resource's Fly client made by
// factory; tests pass one that points at their own fake.
func New(factory config.Factory) (p.Provider, error) {
	prov, err := infer.NewProviderBuilder().
		WithNamespace("emothe").
		WithDisplayName("Fly.io").
		WithDescription("Manage Fly.io apps, secrets, volumes, IP addresses, certificates and Managed Postgres.").
		WithKeywords("fly", "flyio", "category/cloud").
		WithConfig(infer.Config(&config.Config{})).
		WithResources(
			infer.Resource(&app.App{Fly: factory}),
			infer.Resource(&secrets.AppSecrets{Fly: factory}),
			infer.Resource(&volume.Volume{Fly: factory}),
			infer.Resource(&ip.IPAddress{Fly: factory}),
			infer.Resource(&certificate.Certificate{Fly: factory}),
			infer.Resource(&postgres.ManagedPostgres{Fly: factory}),
			infer.Resource(&machines.MachineGroup{Fly: factory}),
		).
		// Every resource package maps to the one `index` module.
		WithModuleMap(map[tokens.ModuleName]tokens.ModuleName{
			"app":         "index",
			"secrets":     "index",
			"volume":      "index",
			"ip":          "index",
			"certificate": "index",
			"postgres":    "index",
			"machines":    "index",
		}).
		WithGoImportPath(GoImportPath).
		Build()
	if err != nil {
		return p.Provider{}, fmt.Errorf("building the %s provider: %w", Name, err)
	}
	return secretOutputs(previewUnknowns(prov)), nil
}
