package stackctl

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"

	flyinfra "github.com/emothe/emothe/infra/fly"
	"github.com/emothe/emothe/infra/stack"
	"github.com/emothe/emothe/internal/datamove"
	"github.com/emothe/emothe/provider/fly"
)

// MoveData copies stack from's database over stack to's (`make move-data`),
// both stacks of the project in root, through datamove.Move. Bad input (the
// same stack twice, an unknown stack, one not deployed) is refused before
// anything is stopped.
func MoveData(ctx context.Context, root, from, to string, o datamove.Options) (datamove.Report, error) {
	if from == "" || to == "" {
		return datamove.Report{}, fmt.Errorf("move-data needs two stacks, FROM=%q TO=%q; nothing was changed; fix: make move-data FROM=<stack> TO=<stack>", from, to)
	}
	if from == to {
		return datamove.Report{}, fmt.Errorf("move-data: FROM and TO are the same stack %q; nothing was changed; fix: name two different stacks (to switch a stack's backend, see docs/switching.md)", from)
	}
	var ends [2]datamove.Endpoint
	for i, name := range []string{from, to} {
		st, err := Open(ctx, root, name, nil)
		if err != nil {
			return datamove.Report{}, err
		}
		if ends[i], err = Endpoint(ctx, st); err != nil {
			return datamove.Report{}, err
		}
	}
	return datamove.Move(ctx, ends[0], ends[1], o)
}

// Endpoint is how to reach st's database, from its configuration (the Fly
// provider's token and API URL from the environment when the stack does
// not set them) and its state.
func Endpoint(ctx context.Context, st auto.Stack) (datamove.Endpoint, error) {
	cfg, err := st.GetAllConfig(ctx)
	if err != nil {
		return datamove.Endpoint{}, fmt.Errorf("read the configuration of stack %s: %w", st.Name(), err)
	}
	raw := stack.RawFromConfig(st.Name(), cfg)
	raw.Inputs["flyio:token"] = cmp.Or(raw.Inputs["flyio:token"], os.Getenv(flyinfra.EnvToken))
	raw.Inputs["flyio:apiUrl"] = cmp.Or(raw.Inputs["flyio:apiUrl"], os.Getenv(fly.EnvBaseURL))
	outputs, err := st.Outputs(ctx)
	if err != nil {
		return datamove.Endpoint{}, fmt.Errorf("read the outputs of stack %s: %w", st.Name(), err)
	}
	state := datamove.State{Deployed: outputs["databaseHost"].Value != nil}
	if state.Deployed && raw.Values["backend"] != "compose" {
		if state.Cluster, state.ClusterURL, err = managedCluster(ctx, st); err != nil {
			return datamove.Endpoint{}, err
		}
	}
	return datamove.Resolve(st.Name(), raw, state)
}

// managedCluster reads the stack's Managed Postgres cluster, if it has
// one, from its state: the cluster's ID and direct URL (decrypted: the
// URL is a secret output, and the export shows secrets).
func managedCluster(ctx context.Context, st auto.Stack) (string, stack.Secret, error) {
	dep, err := st.Workspace().ExportStack(ctx, st.Name())
	if err != nil {
		return "", stack.Secret{}, fmt.Errorf("read the state of stack %s: %w", st.Name(), err)
	}
	var state struct {
		Resources []struct {
			Type    string                     `json:"type"`
			Outputs map[string]json.RawMessage `json:"outputs"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(dep.Deployment, &state); err != nil {
		return "", stack.Secret{}, fmt.Errorf("read the state of stack %s: %w", st.Name(), err)
	}
	for _, r := range state.Resources {
		if r.Type != "flyio:index:ManagedPostgres" {
			continue
		}
		id, err := plainString(r.Outputs["clusterId"])
		if err != nil {
			return "", stack.Secret{}, fmt.Errorf("stack %s: the Managed Postgres cluster's ID: %w", st.Name(), err)
		}
		uri, err := plainString(r.Outputs["directUri"])
		if err != nil {
			return "", stack.Secret{}, fmt.Errorf("stack %s: the Managed Postgres cluster's direct URL: %w", st.Name(), err)
		}
		return id, stack.NewSecret(uri), nil
	}
	return "", stack.Secret{}, nil
}

// plainString reads a string output of an exported state: plain, or a
// secret shown as {"<sig>": "…", "plaintext": "\"value\""}.
func plainString(v json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		return s, nil
	}
	var secret struct {
		Plaintext *string `json:"plaintext"`
	}
	if err := json.Unmarshal(v, &secret); err != nil || secret.Plaintext == nil {
		return "", errors.New("neither a string nor a shown secret")
	}
	if err := json.Unmarshal([]byte(*secret.Plaintext), &s); err != nil {
		return "", errors.New("a secret that is not a string")
	}
	return s, nil
}
