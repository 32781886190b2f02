package stack

import (
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// FromContext loads and validates the stack's configuration from the Pulumi
// engine, before anything is registered.
func FromContext(ctx *pulumi.Context) (*Config, error) {
	raw := Raw{Stack: ctx.Stack(), Values: map[string]string{}, Secrets: map[string]bool{}}
	for _, s := range Settings {
		full := Namespace + ":" + s.Key
		if v, ok := ctx.GetConfig(full); ok {
			raw.Values[s.Key] = v
			raw.Secrets[s.Key] = ctx.IsConfigSecret(full)
		}
	}
	return Load(raw)
}

// SecretEnv is the secret environment every backend gives the app.
func SecretEnv(cfg *Config, db *Database) pulumi.StringMap {
	return pulumi.StringMap{
		"SECRET_KEY_BASE": pulumi.ToSecret(pulumi.String(cfg.SecretKeyBase.Value())).(pulumi.StringOutput),
		"DATABASE_URL":    pulumi.ToSecret(db.URL).(pulumi.StringOutput),
	}
}

// PublicURL is the app's URL on its domain, or fallback when it has none.
func PublicURL(cfg *Config, fallback string) string {
	if cfg.Domain != "" {
		return "https://" + cfg.Domain
	}
	return strings.TrimSuffix(fallback, "/")
}
