package provider

import (
	"context"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
)

// unknownOnChange lists, per resource token, outputs that a change of one
// input makes unknown until the update has run, and that input.
var unknownOnChange = map[string]struct {
	input   string
	outputs []string
}{
	// Fly assigns the new secrets version when the values are written. A
	// preview that kept the old one would hide the roll of the machines that
	// consume it as minSecretsVersion.
	"flyio:index:AppSecrets": {input: "values", outputs: []string{"version"}},
}

// previewUnknowns marks those outputs unknown in a preview of an update. infer
// can only tell an input changed by finding it in the old state, and
// AppSecrets deliberately keeps its values out of state; the engine's old
// inputs still hold them (encrypted), so the comparison happens here.
func previewUnknowns(prov p.Provider) p.Provider {
	update := prov.Update
	prov.Update = func(ctx context.Context, req p.UpdateRequest) (p.UpdateResponse, error) {
		resp, err := update(ctx, req)
		rule, ok := unknownOnChange[string(req.Urn.Type())]
		if err != nil || !req.DryRun || !ok || req.Inputs.Get(rule.input).Equals(req.OldInputs.Get(rule.input)) {
			return resp, err
		}
		for _, out := range rule.outputs {
			resp.Properties = resp.Properties.Set(out, property.New(property.Computed))
		}
		return resp, nil
	}
	return prov
}
