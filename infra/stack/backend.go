package stack

import "github.com/pulumi/pulumi/sdk/v3/go/pulumi"

// Backend is one platform Emothe deploys to (Fly.io or Compose). infra.Deploy
// drives every backend through the same four steps, in this order, so both
// produce the same outputs: the image the app runs, its database, its
// secrets, and the app itself, which runs the release command (migrations)
// before new code takes traffic.
type Backend interface {
	// Image returns the image reference the app runs, pinned by digest where
	// the platform can tell it.
	Image(ctx *pulumi.Context) (pulumi.StringOutput, error)
	// Database provisions (or adopts) the app's Postgres.
	Database(ctx *pulumi.Context) (*Database, error)
	// Secrets delivers the app's secret environment.
	Secrets(ctx *pulumi.Context, values pulumi.StringMap) (*Secrets, error)
	// App runs the release command, then rolls the app onto image.
	App(ctx *pulumi.Context, image pulumi.StringOutput, db *Database, secrets *Secrets) (*App, error)
}

// Factory makes a Backend for one stack; parent is the component that owns
// every resource the backend registers.
type Factory func(ctx *pulumi.Context, cfg *Config, parent pulumi.Resource) (Backend, error)

// Platform is one implemented backend.
type Platform struct {
	// Check refuses a configuration the backend cannot deploy (a missing
	// secret it needs, say). It runs before anything is registered, so a
	// refused stack is left exactly as it was. Optional.
	Check func(ctx *pulumi.Context, cfg *Config) error
	New   Factory
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
	// Version changes whenever a secret value changes; an app update keyed on
	// it rolls the app onto new secrets.
	Version pulumi.IntOutput
	// Resources are what the app must wait for.
	Resources []pulumi.Resource
}

// App is the running service.
type App struct {
	URL pulumi.StringOutput
	// DNSRecords are the records to create for the stack's domain.
	DNSRecords pulumi.StringArrayOutput
}
