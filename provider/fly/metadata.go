package fly

// Machine metadata and env that flyctl and the Fly dashboard rely on
// (docs/fly-api.md#fly-launch-metadata). Machines without them look orphaned
// to Fly tooling:
// flyctl only treats machines with fly_platform_version=v2 as the app's.
const (
	MetaPlatformVersion = "fly_platform_version"
	PlatformVersionV2   = "v2"
	MetaProcessGroup    = "fly_process_group"
	MetaReleaseID       = "fly_release_id"
	MetaReleaseVersion  = "fly_release_version"

	// DefaultProcessGroup is flyctl's group for machines of an app without
	// [processes].
	DefaultProcessGroup = "app"
	// ReleaseCommandGroup is the process group of release-command machines.
	ReleaseCommandGroup = "fly_app_release_command"

	EnvProcessGroup  = "FLY_PROCESS_GROUP"
	EnvPrimaryRegion = "PRIMARY_REGION"

	// MetaIdempotencyKey holds CreateMachine's idempotency key, so a retried
	// create can find the machine an earlier, ambiguous attempt launched.
	MetaIdempotencyKey = "pulumi_flyio_launch_id"
)
