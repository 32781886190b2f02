// Package app is the flyio:index:App resource: a Fly app, the namespace that
// machines, volumes, secrets, IPs and certificates live in.
package app

import (
	"github.com/pulumi/pulumi-go-provider/infer"

	"github.com/emothe/emothe/provider/config"
)

// App is the controller of the App resource.
type App struct {
	// Fly builds the client of each operation (see config.Factory).
	Fly config.Factory
}

// Args are the App inputs.
type Args struct {
	Name    string `pulumi:"name"`
	Org     string `pulumi:"org,optional"`
	Network string `pulumi:"network,optional"`
}

// State is what an App records in Pulumi state.
type State struct {
	Args
	AppID    string `pulumi:"appId"`
	Status   string `pulumi:"status"`
	Hostname string `pulumi:"hostname"`
}

// Annotate documents the resource.
func (a *App) Annotate(an infer.Annotator) {
	an.Describe(&a, "A Fly.io app. Its resource ID is the app name, so `pulumi import flyio:index:App <name> <app-name>` "+
		"adopts an existing app. App names are global across Fly: changing `name`, `org` or `network` replaces the app "+
		"(deleting the old one first when the name stays the same). Deleting an app deletes its machines, volumes, "+
		"secrets, IPs and certificates.")
}

// Annotate documents the inputs.
func (a *Args) Annotate(an infer.Annotator) {
	an.Describe(&a.Name, "App name: 1-63 lower-case letters, digits and dashes, unique across all of Fly. "+
		"The app answers on `<name>.fly.dev`.")
	an.Describe(&a.Org, "Organization slug. Defaults to the provider's `org` setting (itself `personal` by default).")
	an.Describe(&a.Network, "Name of a separate private (6PN) network for this app; its machines cannot reach the "+
		"org's other apps. Leave unset for the org's default network.")
}

// Annotate documents the outputs.
func (s *State) Annotate(an infer.Annotator) {
	an.Describe(&s.AppID, "Fly's internal ID of the app.")
	an.Describe(&s.Status, "App status as Fly reports it, e.g. `pending`, `deployed` or `suspended`.")
	an.Describe(&s.Hostname, "Public hostname, `<name>.fly.dev`.")
}
