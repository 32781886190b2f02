package stack

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/emothe/emothe/contract"
)

// Steps are one backend's deployment, every backend through the same
// steps in the same order, so all produce the same outputs. What a step
// needs comes in as arguments: B is what Base registers for the later
// steps (Fly's app, Compose's Docker provider, networks and volumes).
type Steps[B any] interface {
	// Base registers what every later step builds on, parented to parent.
	Base(ctx *pulumi.Context, parent pulumi.Resource) (B, error)
	// Image returns the image reference the app runs, pinned by digest
	// where the platform can tell it.
	Image(ctx *pulumi.Context, base B) (pulumi.StringOutput, error)
	// Database provisions (or adopts) the app's Postgres.
	Database(ctx *pulumi.Context, base B) (*Database, error)
	// Secrets delivers env, the app's secret environment (SecretEnv).
	Secrets(ctx *pulumi.Context, base B, env pulumi.StringMap) (*Secrets, error)
	// App runs the release command, then rolls the app onto image.
	App(ctx *pulumi.Context, base B, image pulumi.StringOutput, db *Database, secrets *Secrets) (*App, error)
}

// Deployer registers a planned deployment under parent.
type Deployer func(ctx *pulumi.Context, parent pulumi.Resource) (*Deployed, error)

// Deployed is what a deployment gives the stack's outputs.
type Deployed struct {
	Image    pulumi.StringOutput
	Database *Database
	App      *App
}

// Drive is the Deployer that runs steps in order, with the secret
// environment of cfg and the database.
func Drive[B any](cfg *Config, steps Steps[B]) Deployer {
	return func(ctx *pulumi.Context, parent pulumi.Resource) (*Deployed, error) {
		base, err := steps.Base(ctx, parent)
		if err != nil {
			return nil, err
		}
		image, err := steps.Image(ctx, base)
		if err != nil {
			return nil, fmt.Errorf("image: %w", err)
		}
		db, err := steps.Database(ctx, base)
		if err != nil {
			return nil, fmt.Errorf("database: %w", err)
		}
		secrets, err := steps.Secrets(ctx, base, SecretEnv(cfg, db))
		if err != nil {
			return nil, fmt.Errorf("secrets: %w", err)
		}
		app, err := steps.App(ctx, base, image, db, secrets)
		if err != nil {
			return nil, fmt.Errorf("app: %w", err)
		}
		return &Deployed{Image: image, Database: db, App: app}, nil
	}
}

// SecretEnv is the secret environment every backend gives the app.
func SecretEnv(cfg *Config, db *Database) pulumi.StringMap {
	return pulumi.StringMap{
		contract.EnvSecretKeyBase:     pulumi.ToSecret(pulumi.String(cfg.SecretKeyBase.Value())).(pulumi.StringOutput),
		contract.EnvDatabaseURL:       pulumi.ToSecret(db.URL).(pulumi.StringOutput),
		contract.EnvDatabaseDirectURL: pulumi.ToSecret(db.DirectURL).(pulumi.StringOutput),
	}
}

// Database is what a backend's Postgres gives the app.
type Database struct {
	// Host is the database host name, without credentials.
	Host pulumi.StringOutput
	// URL is the connection URL the app serves with (pooled where there is a
	// pooler). Secret.
	URL pulumi.StringOutput
	// DirectURL bypasses any pooler; migrations need it. Secret.
	DirectURL pulumi.StringOutput
	// Resources are what the app must wait for.
	Resources []pulumi.Resource
}

// Secrets are the app's delivered secret environment.
type Secrets struct {
	// Version changes whenever a secret value changes, on a platform with
	// a secret store (Fly): an app update keyed on it rolls the app onto
	// new secrets.
	Version pulumi.IntOutput
	// Env holds the values by variable name on a platform without a store
	// (Compose), which puts them in each container's environment itself.
	Env pulumi.StringMap
	// Resources are what the app must wait for.
	Resources []pulumi.Resource
}

// App is the running service.
type App struct {
	URL pulumi.StringOutput
	// DNSRecords are the records to create for the stack's domain.
	DNSRecords pulumi.StringArrayOutput
}
