package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	p "github.com/pulumi/pulumi-go-provider"
	pschema "github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	presource "github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
)

// secretOutputs marks every output the schema declares secret (a
// `provider:"secret"` tag on a State field) as secret in Create, Update and
// Read answers. infer only marks outputs that mirror secret inputs, and an
// import's Read starts from no state at all, so without this a connection
// URI read during `pulumi import` would land in plaintext state.
func secretOutputs(prov p.Provider) p.Provider {
	var (
		once    sync.Once
		secrets map[string][]string // resource token → secret output names
		loadErr error
	)
	mark := func(ctx context.Context, urn presource.URN, props property.Map) (property.Map, error) {
		once.Do(func() { secrets, loadErr = secretProperties(ctx, prov) })
		if loadErr != nil {
			return props, loadErr
		}
		for _, name := range secrets[string(urn.Type())] {
			if v, ok := props.GetOk(name); ok && !v.Secret() {
				props = props.Set(name, v.WithSecret(true))
			}
		}
		return props, nil
	}

	create, update, read := prov.Create, prov.Update, prov.Read
	prov.Create = func(ctx context.Context, req p.CreateRequest) (p.CreateResponse, error) {
		resp, err := create(ctx, req)
		var markErr error
		resp.Properties, markErr = mark(ctx, req.Urn, resp.Properties)
		return resp, errors.Join(err, markErr)
	}
	prov.Update = func(ctx context.Context, req p.UpdateRequest) (p.UpdateResponse, error) {
		resp, err := update(ctx, req)
		var markErr error
		resp.Properties, markErr = mark(ctx, req.Urn, resp.Properties)
		return resp, errors.Join(err, markErr)
	}
	prov.Read = func(ctx context.Context, req p.ReadRequest) (p.ReadResponse, error) {
		resp, err := read(ctx, req)
		var markErr error
		resp.Properties, markErr = mark(ctx, req.Urn, resp.Properties)
		return resp, errors.Join(err, markErr)
	}
	return prov
}

// secretProperties lists each resource's secret outputs from the schema.
func secretProperties(ctx context.Context, prov p.Provider) (map[string][]string, error) {
	resp, err := prov.GetSchema(ctx, p.GetSchemaRequest{})
	if err != nil {
		return nil, fmt.Errorf("reading the provider schema for its secret outputs: %w", err)
	}
	var spec pschema.PackageSpec
	if err := json.Unmarshal([]byte(resp.Schema), &spec); err != nil {
		return nil, fmt.Errorf("parsing the provider schema for its secret outputs: %w", err)
	}
	out := map[string][]string{}
	for tk, r := range spec.Resources {
		for name, prop := range r.Properties {
			if prop.Secret {
				out[tk] = append(out[tk], name)
			}
		}
	}
	return out, nil
}
