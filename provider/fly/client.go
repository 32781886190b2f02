// Package fly is the thin layer between the provider's resources and the
// generated Fly Machines API client (package flyapi): auth, retries, error
// bodies, leases and waits. Resources see only the Client interface, so tests
// can inject the in-repo fake or a mock.
package fly

import (
	"context"
	"time"

	"github.com/emothe/emothe/provider/flyapi"
)

// Client is everything the resources need from Fly. Every method retries
// transient failures (408, 429, 5xx) itself; an error it returns is final and
// is an *APIError when Fly answered.
type Client interface {
	Apps
	Secrets
	Volumes
	IPs
	Certificates
	Postgres
	Machines
}

// Apps are the Machines API's /apps endpoints.
type Apps interface {
	CreateApp(ctx context.Context, req flyapi.CreateAppRequest) (flyapi.App, error)
	// GetApp returns ErrNotFound when the app does not exist.
	GetApp(ctx context.Context, app string) (flyapi.App, error)
	// DeleteApp tolerates an app that is already gone.
	DeleteApp(ctx context.Context, app string) error
}

// Secrets are an app's secrets. Values go out, only digests come back.
type Secrets interface {
	// SetSecrets writes values (a nil value unsets that key) and returns the
	// app's new secrets version.
	SetSecrets(ctx context.Context, app string, values map[string]*string) (int, error)
	// UnsetSecret removes one key and returns the new version; a missing key is
	// not an error.
	UnsetSecret(ctx context.Context, app, name string) (int, error)
	ListSecrets(ctx context.Context, app string) ([]flyapi.AppSecret, error)
}

// Volumes are an app's volumes.
type Volumes interface {
	CreateVolume(ctx context.Context, app string, req flyapi.CreateVolumeRequest) (flyapi.Volume, error)
	// GetVolume returns ErrNotFound for a missing or destroyed volume.
	GetVolume(ctx context.Context, app, id string) (flyapi.Volume, error)
	ListVolumes(ctx context.Context, app string) ([]flyapi.Volume, error)
	UpdateVolume(ctx context.Context, app, id string, req flyapi.UpdateVolumeRequest) (flyapi.Volume, error)
	// ExtendVolume grows a volume; it reports whether attached machines need a restart.
	ExtendVolume(ctx context.Context, app, id string, sizeGB int) (vol flyapi.Volume, needsRestart bool, err error)
	// DeleteVolume tolerates a volume that is already gone.
	DeleteVolume(ctx context.Context, app, id string) error
}

// IPs are an app's IP assignments. An assignment is identified by its address.
type IPs interface {
	AssignIP(ctx context.Context, app string, req flyapi.AssignIPRequest) (flyapi.IPAssignment, error)
	ListIPs(ctx context.Context, app string) ([]flyapi.IPAssignment, error)
	// ReleaseIP tolerates an address that is already released.
	ReleaseIP(ctx context.Context, app, ip string) error
}

// Certificates are an app's custom hostnames.
type Certificates interface {
	CreateACMECertificate(ctx context.Context, app, hostname string) (flyapi.CertificateDetail, error)
	// GetCertificate returns ErrNotFound for an unknown hostname.
	GetCertificate(ctx context.Context, app, hostname string) (flyapi.CertificateDetail, error)
	CheckCertificate(ctx context.Context, app, hostname string) (flyapi.CertificateCheckResponse, error)
	// DeleteCertificate tolerates a hostname that is already gone.
	DeleteCertificate(ctx context.Context, app, hostname string) error
}

// Postgres is Fly Managed Postgres (/v1/postgres), which the OpenAPI file
// lacks; see docs/fly-api.md#managed-postgres-api. Its types live in
// postgres_types.go.
type Postgres interface {
	CreatePostgres(ctx context.Context, req CreatePostgresRequest) (PostgresCluster, error)
	// GetPostgres returns ErrNotFound for an unknown or deleted cluster.
	GetPostgres(ctx context.Context, id string) (PostgresCluster, error)
	ListPostgres(ctx context.Context, org string) ([]PostgresCluster, error)
	// DeletePostgres tolerates a cluster that is already gone (404, 410).
	DeletePostgres(ctx context.Context, id string) error
	// WaitPostgresReady polls until the cluster's status is ready, failing
	// fast on a terminal status.
	WaitPostgresReady(ctx context.Context, id string, timeout time.Duration) (PostgresCluster, error)
	AttachPostgres(ctx context.Context, id, app string) error
	DetachPostgres(ctx context.Context, id, app string) error
	PostgresCredentials(ctx context.Context, id, user string) (PostgresCredentials, error)
}

// Machines are an app's machines, with the lease and wait mechanics that a
// rollout needs.
type Machines interface {
	// CreateMachine launches a machine. When idempotencyKey is not empty it is
	// stored as metadata (MetaIdempotencyKey) and, after an ambiguous failure
	// (timeout, dropped response), the machine carrying it is looked up before
	// any retry, so a create never launches two machines.
	CreateMachine(ctx context.Context, app string, req flyapi.CreateMachineRequest, idempotencyKey string) (flyapi.Machine, error)
	// GetMachine returns ErrNotFound for an unknown or destroyed machine.
	GetMachine(ctx context.Context, app, id string) (flyapi.Machine, error)
	// ListMachines lists the app's machines that are not destroyed.
	ListMachines(ctx context.Context, app string) ([]flyapi.Machine, error)
	// UpdateMachine replaces the machine's whole config; nonce is the lease.
	UpdateMachine(ctx context.Context, app, id, nonce string, req flyapi.UpdateMachineRequest) (flyapi.Machine, error)
	// DestroyMachine destroys a machine, a running one only with force; it
	// tolerates a machine that is already gone.
	DestroyMachine(ctx context.Context, app, id, nonce string, force bool) error
	// StartMachine starts a stopped machine (make move-data starts the app
	// it stopped for a restore).
	StartMachine(ctx context.Context, app, id, nonce string) error
	// StopMachine asks the machine to stop with req's signal and grace
	// period (the machine's stop_config when empty).
	StopMachine(ctx context.Context, app, id, nonce string, req flyapi.StopRequest) error
	Cordon(ctx context.Context, app, id, nonce string) error
	Uncordon(ctx context.Context, app, id, nonce string) error

	// AcquireLease takes the machine's lease and keeps refreshing it in the
	// background until Release is called or ctx ends.
	AcquireLease(ctx context.Context, app, id string, ttl time.Duration) (*Lease, error)
	// HoldLease refreshes, in the same way, the lease a create with
	// lease_ttl took (its nonce is in the answer); since is when that create
	// was sent.
	HoldLease(ctx context.Context, app, id, nonce string, ttl time.Duration, since time.Time) *Lease

	// WaitState blocks until the machine (at instance version, when given)
	// reaches one of states, looping over Fly's 60-second wait and its 408s.
	// It fails fast with *MachineExitedError when the machine stops or fails
	// while a running state was awaited.
	WaitState(ctx context.Context, app, id, version string, timeout time.Duration, states ...string) error
	// WaitHealthy polls the machine until it has check results and all are
	// passing, reporting progress; it fails fast when the machine exits.
	WaitHealthy(ctx context.Context, app, id string, timeout time.Duration) (flyapi.Machine, error)
}
