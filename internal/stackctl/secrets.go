package stackctl

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"

	"github.com/emothe/emothe/infra/stack"
)

// secretBytes is the entropy generated for each secret setting that can be
// generated; the others (an external database URL, a registry password) only
// their owner can supply.
var secretBytes = map[string]int{
	"secretKeyBase":    64, // 128 hex characters; the service needs at least 64
	"databasePassword": 24,
}

// rotatable are the generated secrets a new value can replace at any time.
// Postgres keeps the password its data directory was initialised with, so a
// new databasePassword would only lock the app out.
var rotatable = []string{"secretKeyBase"}

// EnsureSecrets generates a strong value for every generated secret setting
// the stack lacks and stores it encrypted. It returns the keys it set, never
// values.
func EnsureSecrets(ctx context.Context, st auto.Stack) ([]string, error) {
	var set []string
	for _, s := range stack.Settings {
		if _, ok := secretBytes[s.Key]; !s.Secret || !ok {
			continue
		}
		key := stack.Namespace + ":" + s.Key
		// Pulumi.yaml defaults every secret to "", which reads back as set.
		if v, err := st.GetConfig(ctx, key); err == nil && v.Value != "" {
			continue
		}
		if err := generate(ctx, st, s.Key); err != nil {
			return set, err
		}
		set = append(set, key)
	}
	return set, nil
}

// RotateSecret replaces the generated secret setting key (without the
// namespace, e.g. secretKeyBase) with a new strong value, whatever it held.
// The next `up` rolls the app onto it.
func RotateSecret(ctx context.Context, st auto.Stack, key string) error {
	if !slices.Contains(rotatable, key) {
		return fmt.Errorf("ROTATE=%s: only %s can be regenerated; nothing was changed (Postgres keeps the databasePassword it was initialised with; other secrets come from their owner: pulumi config set --secret %s:<key> <value>)",
			key, strings.Join(rotatable, ", "), stack.Namespace)
	}
	return generate(ctx, st, key)
}

// generate stores a new random value for key, encrypted.
func generate(ctx context.Context, st auto.Stack, key string) error {
	b := make([]byte, secretBytes[key])
	if _, err := rand.Read(b); err != nil {
		return err
	}
	full := stack.Namespace + ":" + key
	if err := st.SetConfig(ctx, full, auto.ConfigValue{Value: hex.EncodeToString(b), Secret: true}); err != nil {
		return fmt.Errorf("set %s: %w", full, err)
	}
	return nil
}
