// Package secrets is the flyio:index:AppSecrets resource: the whole set of an
// app's secrets, managed as one map.
package secrets

import (
	"github.com/pulumi/pulumi-go-provider/infer"

	"github.com/emothe/emothe/provider/config"
)

// AppSecrets is the controller of the AppSecrets resource.
type AppSecrets struct {
	// Fly builds the client of each operation (see config.Factory).
	Fly config.Factory
}

// Args are the AppSecrets inputs.
type Args struct {
	App    string            `pulumi:"app"`
	Values map[string]string `pulumi:"values" provider:"secret"`
}

// State is what AppSecrets records. It never holds a value: only our own
// digest of each one, so a change in the program can be detected without
// storing (or reading back) the secret.
type State struct {
	App     string            `pulumi:"app"`
	Keys    []string          `pulumi:"keys"`
	Digests map[string]string `pulumi:"digests" provider:"secret"`
	Version int               `pulumi:"version"`
}

// Annotate documents the resource.
func (s *AppSecrets) Annotate(a infer.Annotator) {
	a.Describe(&s, "All the secrets of one Fly app, set through the Machines API. "+
		"Machines only see secrets when they boot: feed `version` to the machines' `minSecretsVersion` so they are "+
		"updated whenever a secret changes.\n\n"+
		"The resource owns the app's whole secret set: keys added outside Pulumi show up on refresh and the next "+
		"`up` removes them; keys removed outside Pulumi are set again. Fly returns its own digests, not values, and "+
		"they cannot be compared with the program's values, so change detection uses the resource's own SHA-256 "+
		"digests (kept as secrets in state) and the key set read from Fly.\n\n"+
		"Import with the app name (`pulumi import flyio:index:AppSecrets <name> <app>`): values cannot be read back, "+
		"so the first `up` after an import writes every value once.")
}

// Annotate documents the inputs.
func (a *Args) Annotate(an infer.Annotator) {
	an.Describe(&a.App, "Name of the app the secrets belong to. Changing it replaces the resource.")
	an.Describe(&a.Values, "Secret values by name. Names are environment variable names (letters, digits, `_`, "+
		"not starting with a digit). Every value is a Pulumi secret.")
}

// Annotate documents the outputs.
func (s *State) Annotate(a infer.Annotator) {
	a.Describe(&s.App, "Name of the app the secrets belong to.")
	a.Describe(&s.Keys, "Names of the app's secrets, sorted.")
	a.Describe(&s.Digests, "SHA-256 digest of each value the provider wrote (empty for keys it did not write, "+
		"e.g. right after an import). Never the values themselves.")
	a.Describe(&s.Version, "The app's secrets version after the last write: pass it as the machines' "+
		"`minSecretsVersion` so they boot with these secrets.")
}
