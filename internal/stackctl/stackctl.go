// Package stackctl drives the Pulumi program through the Automation API with
// infra.Run as an inline program. It needs only the Pulumi CLI, not the Go
// language host, so `make up` and the end-to-end tests run the very code that
// main.go runs, on any machine.
package stackctl

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/emothe/emothe/infra"
	"github.com/emothe/emothe/infra/stack"
)

// Open selects (or creates) the named stack of the project in root, whose
// Pulumi.yaml and Pulumi.<stack>.yaml are used as they are.
func Open(ctx context.Context, root, name string, program pulumi.RunFunc) (auto.Stack, error) {
	if program == nil {
		program = infra.Run
	}
	if u := os.Getenv("PULUMI_BACKEND_URL"); strings.HasPrefix(u, "file://") {
		// The file backend does not create its directory.
		if err := os.MkdirAll(strings.TrimPrefix(u, "file://"), 0o700); err != nil {
			return auto.Stack{}, fmt.Errorf("state directory: %w", err)
		}
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return auto.Stack{}, err
	}
	return auto.UpsertStackInlineSource(ctx, name, stack.Namespace, program, auto.WorkDir(abs))
}

// secretBytes is the entropy generated for each secret setting that can be
// generated; the others (an external database URL, a registry password) only
// their owner can supply.
var secretBytes = map[string]int{
	"secretKeyBase":    64, // 128 hex characters; the service needs at least 64
	"databasePassword": 24,
}

// EnsureSecrets generates a strong value for every generated secret setting
// the stack lacks and stores it encrypted. It returns the keys it set, never
// values.
func EnsureSecrets(ctx context.Context, st auto.Stack) ([]string, error) {
	var set []string
	for _, s := range stack.Settings {
		n, ok := secretBytes[s.Key]
		if !s.Secret || !ok {
			continue
		}
		key := stack.Namespace + ":" + s.Key
		// Pulumi.yaml defaults every secret to "", which reads back as set.
		if v, err := st.GetConfig(ctx, key); err == nil && v.Value != "" {
			continue
		}
		b := make([]byte, n)
		if _, err := rand.Read(b); err != nil {
			return set, err
		}
		if err := st.SetConfig(ctx, key, auto.ConfigValue{Value: hex.EncodeToString(b), Secret: true}); err != nil {
			return set, fmt.Errorf("set %s: %w", key, err)
		}
		set = append(set, key)
	}
	return set, nil
}
