// Package machines is the flyio:index:MachineGroup resource: one process
// group of a Fly app, N machines across regions sharing one config, rolled
// out the way `fly deploy` does (release command, then rolling, bluegreen or
// immediate updates per machine).
package machines

import (
	_ "embed"

	"github.com/pulumi/pulumi-go-provider/infer"

	"github.com/emothe/emothe/provider/config"
)

// MachineGroup is the controller of the MachineGroup resource.
type MachineGroup struct {
	// Fly builds the client of each operation (see config.Factory).
	Fly config.Factory
}

// Args are the MachineGroup inputs.
type Args struct {
	App                   string           `pulumi:"app"`
	ProcessGroup          string           `pulumi:"processGroup,optional"`
	Regions               []string         `pulumi:"regions"`
	CountPerRegion        int              `pulumi:"countPerRegion,optional"`
	PrimaryRegion         string           `pulumi:"primaryRegion,optional"`
	Config                MachineConfig    `pulumi:"config"`
	MinSecretsVersion     int              `pulumi:"minSecretsVersion,optional"`
	ReleaseCommand        []string         `pulumi:"releaseCommand,optional"`
	ReleaseCommandGuest   *MachineGuest    `pulumi:"releaseCommandGuest,optional"`
	ReleaseCommandTimeout string           `pulumi:"releaseCommandTimeout,optional"`
	Strategy              *RolloutStrategy `pulumi:"strategy,optional"`
	WaitTimeout           string           `pulumi:"waitTimeout,optional"`
}

// MachineConfig is what every machine of the group runs.
type MachineConfig struct {
	Image      string                 `pulumi:"image"`
	Env        map[string]string      `pulumi:"env,optional"`
	Cmd        []string               `pulumi:"cmd,optional"`
	Entrypoint []string               `pulumi:"entrypoint,optional"`
	Guest      *MachineGuest          `pulumi:"guest,optional"`
	Services   []MachineService       `pulumi:"services,optional"`
	Checks     map[string]HealthCheck `pulumi:"checks,optional"`
	Mounts     []VolumeMount          `pulumi:"mounts,optional"`
	Restart    *RestartPolicy         `pulumi:"restart,optional"`
	Metrics    *MetricsConfig         `pulumi:"metrics,optional"`
	StopConfig *StopConfig            `pulumi:"stopConfig,optional"`
}

// MachineGuest is a machine's size.
type MachineGuest struct {
	CPUKind  string `pulumi:"cpuKind,optional"`
	CPUs     int    `pulumi:"cpus,optional"`
	MemoryMB int    `pulumi:"memoryMb,optional"`
}

// MachineService is a port the Fly proxy routes to the machines.
type MachineService struct {
	Protocol           string              `pulumi:"protocol,optional"`
	InternalPort       int                 `pulumi:"internalPort"`
	Ports              []ServicePort       `pulumi:"ports,optional"`
	Autostop           string              `pulumi:"autostop,optional"`
	Autostart          *bool               `pulumi:"autostart,optional"`
	MinMachinesRunning int                 `pulumi:"minMachinesRunning,optional"`
	Concurrency        *ServiceConcurrency `pulumi:"concurrency,optional"`
	Checks             []HealthCheck       `pulumi:"checks,optional"`
}

// ServicePort is one public port of a service.
type ServicePort struct {
	Port       int      `pulumi:"port"`
	Handlers   []string `pulumi:"handlers,optional"`
	ForceHTTPS bool     `pulumi:"forceHttps,optional"`
}

// ServiceConcurrency is when the proxy considers a machine busy.
type ServiceConcurrency struct {
	Type      string `pulumi:"type,optional"`
	HardLimit int    `pulumi:"hardLimit,optional"`
	SoftLimit int    `pulumi:"softLimit,optional"`
}

// HealthCheck is a health check, of a service or of the machine (top level).
type HealthCheck struct {
	Type        string `pulumi:"type"`
	Port        int    `pulumi:"port,optional"`
	Path        string `pulumi:"path,optional"`
	Method      string `pulumi:"method,optional"`
	Protocol    string `pulumi:"protocol,optional"`
	Interval    string `pulumi:"interval,optional"`
	Timeout     string `pulumi:"timeout,optional"`
	GracePeriod string `pulumi:"gracePeriod,optional"`
}

// VolumeMount mounts a volume into every machine.
type VolumeMount struct {
	Volume string `pulumi:"volume"`
	Path   string `pulumi:"path"`
}

// RestartPolicy is what flyd does when the main process exits.
type RestartPolicy struct {
	Policy     string `pulumi:"policy,optional"`
	MaxRetries int    `pulumi:"maxRetries,optional"`
}

// MetricsConfig is where Fly scrapes Prometheus metrics.
type MetricsConfig struct {
	Port int    `pulumi:"port"`
	Path string `pulumi:"path"`
}

// StopConfig is how a machine is asked to stop.
type StopConfig struct {
	Signal  string `pulumi:"signal,optional"`
	Timeout string `pulumi:"timeout,optional"`
}

// RolloutStrategy is how changed machines are rolled out.
type RolloutStrategy struct {
	Type             string `pulumi:"type,optional"`
	MaxUnavailable   int    `pulumi:"maxUnavailable,optional"`
	WaitBeforeCordon string `pulumi:"waitBeforeCordon,optional"`
	WaitBeforeStop   string `pulumi:"waitBeforeStop,optional"`
}

// State is what a MachineGroup records in Pulumi state.
type State struct {
	Args
	Machines       []GroupMachine `pulumi:"machines"`
	ReleaseVersion int            `pulumi:"releaseVersion"`
	Image          string         `pulumi:"image"`
}

// GroupMachine is one machine of the group as Fly last reported it.
type GroupMachine struct {
	ID         string `pulumi:"id"`
	Region     string `pulumi:"region"`
	InstanceID string `pulumi:"instanceId"`
	State      string `pulumi:"state"`
	PrivateIP  string `pulumi:"privateIp"`
	Image      string `pulumi:"image"`
	Volume     string `pulumi:"volume,optional"`
	VolumeName string `pulumi:"volumeName,optional"`
	// ConfigDigest fingerprints the part of the machine's config the group
	// manages, so Diff can tell a machine that drifted without calling Fly.
	ConfigDigest string `pulumi:"configDigest"`
}

//go:embed machinegroup.md
var groupDoc string

// Annotate documents the resource.
func (g *MachineGroup) Annotate(a infer.Annotator) {
	a.Describe(&g, groupDoc)
}

// Annotate documents the inputs.
func (a *Args) Annotate(an infer.Annotator) {
	an.Describe(&a.App, "Name of the app the machines belong to. Changing it replaces the group.")
	an.Describe(&a.ProcessGroup, "Process group name (`fly_process_group`); the group owns the app's machines "+
		"carrying it. Default `app`, flyctl's group for apps without `[processes]`. Changing it replaces the group.")
	an.Describe(&a.Regions, "Regions to run machines in, e.g. `[\"ams\", \"cdg\"]`. Removing a region destroys "+
		"only its machines; adding one creates machines there.")
	an.Describe(&a.CountPerRegion, "Machines per region (default 1). The group runs `countPerRegion × len(regions)` "+
		"machines; lowering it destroys the extras, raising it creates more.")
	an.Describe(&a.PrimaryRegion, "The app's primary region, set as `PRIMARY_REGION` on every machine and where the "+
		"release command runs. Default: the first of `regions`.")
	an.Describe(&a.Config, "The machine config every machine of the group runs.")
	an.Describe(&a.MinSecretsVersion, "Secrets version the machines must boot with: pass `AppSecrets.version`. "+
		"A new version rolls every machine, so changed secrets reach them, even when nothing else changed.")
	an.Describe(&a.ReleaseCommand, "Command run once per rollout, before any machine changes, in a throwaway "+
		"machine with the new image and env (and `RELEASE_COMMAND=1`), e.g. `[\"/app/emothe\", \"migrate\"]`. "+
		"A single element is split into words as flyctl splits fly.toml's `release_command`. A non-zero exit aborts the rollout and leaves the "+
		"machines as they were.")
	an.Describe(&a.ReleaseCommandGuest, "Size of the release command's machine, as fly.toml's `[deploy] "+
		"release_command_compute`. Default, as flyctl: the largest size the group's machines run, else "+
		"`config.guest` when it is not the smallest size, else shared-cpu-2x (2 shared CPUs, 512 MB).")
	an.Describe(&a.ReleaseCommandTimeout, "How long the release command may run, as a Go duration (default `5m`).")
	an.Describe(&a.Strategy, "How changed machines are rolled out (default rolling, one machine at a time).")
	an.Describe(&a.WaitTimeout, "How long to wait for each machine to start and pass its health checks, as a Go "+
		"duration (default `5m`).")
}

// Annotate documents the config.
func (c *MachineConfig) Annotate(an infer.Annotator) {
	an.Describe(&c.Image, "Image to run, e.g. `registry.fly.io/my-app:deployment-01H…`; pin a digest for repeatable rollouts.")
	an.Describe(&c.Env, "Plain environment variables. Secrets do not belong here: set them with AppSecrets and pass "+
		"its version as `minSecretsVersion`. `FLY_PROCESS_GROUP` and `PRIMARY_REGION` are set by the group.")
	an.Describe(&c.Cmd, "Overrides the image's CMD.")
	an.Describe(&c.Entrypoint, "Overrides the image's ENTRYPOINT.")
	an.Describe(&c.Guest, "Machine size (default shared CPU, 1 CPU, 256 MB).")
	an.Describe(&c.Services, "Services the Fly proxy routes to the machines.")
	an.Describe(&c.Checks, "Machine-level health checks by name. They need a `port`.")
	an.Describe(&c.Mounts, "Volume mounts (at most one). `volume` is a volume name: each machine mounts an "+
		"unattached volume of that name in its own region, so create one Volume per machine. Changing the volume "+
		"replaces the machines; changing only the path updates them in place.")
	an.Describe(&c.Restart, "Restart policy (default `on-failure`).")
	an.Describe(&c.Metrics, "Prometheus metrics endpoint Fly scrapes.")
	an.Describe(&c.StopConfig, "Signal and grace period used to stop a machine.")
}

// Annotate documents the guest.
func (g *MachineGuest) Annotate(an infer.Annotator) {
	an.Describe(&g.CPUKind, "`shared` (default) or `performance`.")
	an.Describe(&g.CPUs, "CPU count: 1 (default), 2, 4, 8 or 16.")
	an.Describe(&g.MemoryMB, "Memory in MB, a multiple of 256: per CPU at least 256 (shared) or 2048 "+
		"(performance), at most 2048 (shared) or 8192 (performance). Default the minimum.")
}

// Annotate documents a service.
func (s *MachineService) Annotate(an infer.Annotator) {
	an.Describe(&s.Protocol, "`tcp` (default) or `udp`.")
	an.Describe(&s.InternalPort, "Port the app listens on inside the machine.")
	an.Describe(&s.Ports, "Public ports.")
	an.Describe(&s.Autostop, "`off` (default), `stop` or `suspend`: what the proxy does with idle machines.")
	an.Describe(&s.Autostart, "Whether the proxy starts stopped machines on demand (default true).")
	an.Describe(&s.MinMachinesRunning, "Machines kept running in the primary region when autostop is on.")
	an.Describe(&s.Concurrency, "Load limits per machine.")
	an.Describe(&s.Checks, "Health checks of this service; `port` defaults to `internalPort`.")
}

// Annotate documents a port.
func (p *ServicePort) Annotate(an infer.Annotator) {
	an.Describe(&p.Port, "Public port, e.g. 443.")
	an.Describe(&p.Handlers, "Proxy handlers: `http`, `tls`, `pg_tls`, `proxy_proto`.")
	an.Describe(&p.ForceHTTPS, "Redirect plain HTTP to HTTPS.")
}

// Annotate documents concurrency.
func (c *ServiceConcurrency) Annotate(an infer.Annotator) {
	an.Describe(&c.Type, "`connections` (default) or `requests`.")
	an.Describe(&c.HardLimit, "Load at which the proxy stops sending traffic to a machine.")
	an.Describe(&c.SoftLimit, "Load at which the proxy prefers other machines.")
}

// Annotate documents a check.
func (c *HealthCheck) Annotate(an infer.Annotator) {
	an.Describe(&c.Type, "`http` or `tcp`.")
	an.Describe(&c.Port, "Port to check. Required for machine-level checks; service checks default to the service's internal port.")
	an.Describe(&c.Path, "HTTP path, e.g. `/healthz` (http checks; default `/`).")
	an.Describe(&c.Method, "HTTP method (http checks; default `GET`).")
	an.Describe(&c.Protocol, "`http` (default) or `https` (http checks).")
	an.Describe(&c.Interval, "Time between checks, a Go duration (default `15s`).")
	an.Describe(&c.Timeout, "Time a check may take, a Go duration (default `2s`).")
	an.Describe(&c.GracePeriod, "Time after boot before failures count, a Go duration.")
}

// Annotate documents a mount.
func (m *VolumeMount) Annotate(an infer.Annotator) {
	an.Describe(&m.Volume, "Volume name (as fly.toml's `[mounts] source`), e.g. `data`.")
	an.Describe(&m.Path, "Absolute path to mount it at, e.g. `/data`.")
}

// Annotate documents the restart policy.
func (r *RestartPolicy) Annotate(an infer.Annotator) {
	an.Describe(&r.Policy, "`no`, `always`, `on-failure` (default) or `spot-price`.")
	an.Describe(&r.MaxRetries, "Restarts attempted before giving up (`on-failure` only).")
}

// Annotate documents metrics.
func (m *MetricsConfig) Annotate(an infer.Annotator) {
	an.Describe(&m.Port, "Port serving metrics.")
	an.Describe(&m.Path, "Path serving metrics, e.g. `/metrics`.")
}

// Annotate documents the stop config.
func (s *StopConfig) Annotate(an infer.Annotator) {
	an.Describe(&s.Signal, "Signal sent to stop the machine, e.g. `SIGTERM`.")
	an.Describe(&s.Timeout, "Time to wait after the signal before killing, a Go duration.")
}

// Annotate documents the strategy.
func (s *RolloutStrategy) Annotate(an infer.Annotator) {
	an.Describe(&s.Type, "`rolling` (default): update machines in place, at most `maxUnavailable` at a time, each "+
		"started and healthy before the next; `bluegreen`: start a healthy copy of every changed machine beside it, "+
		"then switch traffic and destroy the old ones (needs a health check; not with mounts); `immediate`: update "+
		"every machine at once, waiting neither for them to start nor for their health checks.")
	an.Describe(&s.MaxUnavailable, "Machines a rolling update may take out of service at once (default 1).")
	an.Describe(&s.WaitBeforeCordon, "Bluegreen: how long the new machines take traffic beside the old ones "+
		"before the old ones are cordoned, so Fly's proxy sees the new ones first, as a Go duration (default "+
		"`10s`, as flyctl; `0s` for none).")
	an.Describe(&s.WaitBeforeStop, "Bluegreen: how long the old machines stay up once cordoned, so the proxy "+
		"stops routing to them, before they are stopped with their `stopConfig` signal and grace period and then "+
		"destroyed, as a Go duration (default `10s`, as flyctl; `0s` for none).")
}

// Annotate documents the outputs.
func (s *State) Annotate(an infer.Annotator) {
	an.Describe(&s.Machines, "The group's machines as Fly last reported them, sorted by region and ID.")
	an.Describe(&s.ReleaseVersion, "Release number of the last rollout (`fly_release_version`), counting up.")
	an.Describe(&s.Image, "The image the machines run, pinned to its digest when Fly reports one.")
}

// Annotate documents a machine.
func (m *GroupMachine) Annotate(an infer.Annotator) {
	an.Describe(&m.ID, "Machine ID.")
	an.Describe(&m.Region, "Region the machine runs in.")
	an.Describe(&m.InstanceID, "ID of the machine's current version; every update makes a new one.")
	an.Describe(&m.State, "Machine state when last read, e.g. `started` or `stopped` (autostop).")
	an.Describe(&m.PrivateIP, "The machine's 6PN address.")
	an.Describe(&m.Image, "Image the machine runs.")
	an.Describe(&m.Volume, "ID of the mounted volume, if any.")
	an.Describe(&m.VolumeName, "Name of the mounted volume, if any.")
	an.Describe(&m.ConfigDigest, "Fingerprint of the machine's config as the group manages it; a machine changed "+
		"outside Pulumi shows up after a refresh and is rolled back to the group's config.")
}
