package fly

import (
	"cmp"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/emothe/emothe/contract"
	"github.com/emothe/emothe/infra/postgres"
	"github.com/emothe/emothe/infra/stack"
	"github.com/emothe/emothe/sdk/go/flyio"
)

// The self-run Postgres (database = machine).
const (
	dbVolume    = "pg_data"
	dbMountPath = "/data"
)

// Plan is everything the Fly backend deploys for one stack, decided from the
// configuration alone. The Pulumi wiring (backend.go) only turns it into
// resources; what is decided here is tested without Pulumi.
type Plan struct {
	App string
	// Hostname is the app's own name on Fly's proxy, <app>.fly.dev.
	Hostname string
	// URL is the public URL: the domain when there is one.
	URL string
	// Domain gets a certificate; empty means none.
	Domain string
	// IPs are the address types allocated to the app.
	IPs []flyio.IPType
	// Image is a prebuilt reference; empty means Build.
	Image string
	Build Build
	// Machines are the app's machines; their image comes from the Image step.
	Machines Group
	Database Database
}

// Build is how the image is built and pushed when no prebuilt one is set.
type Build struct {
	// Name is the pushed reference, <registry>/<app>:<stack>.
	Name string
	// Registry is the host Name is pushed to (Fly's: registry.fly.io).
	Registry   string
	Context    string
	Dockerfile string
	Platform   string
	// Username logs in to the registry; the password is the Fly token.
	Username string
}

// Group is one MachineGroup.
type Group struct {
	PrimaryRegion  string
	Regions        []string
	CountPerRegion int
	Config         flyio.MachineConfig
	ReleaseCommand []string
	Strategy       *flyio.RolloutStrategy
}

// Database is the app's Postgres: Managed, or Machine (self-run).
type Database struct {
	// Protect keeps the database from deletion (Pulumi protect) and in Fly
	// when the stack is destroyed (retainOnDelete).
	Protect bool
	Managed *ManagedPostgres
	Machine *MachinePostgres
}

// ManagedPostgres is a Fly Managed Postgres cluster attached to the app.
type ManagedPostgres struct {
	Name, Region, Plan, Version string
	DiskGB                      int
}

// MachinePostgres is Postgres on one machine of its own app, with a volume,
// reachable only on the organization's private network.
type MachinePostgres struct {
	App    string
	Region string
	// Host is the app's private DNS name, <app>.internal.
	Host     string
	VolumeGB int
	Machines Group
}

// URL is the connection URL of the self-run database. The private network
// is WireGuard between Fly hosts, and the official image serves no TLS.
func (m MachinePostgres) URL(password string) string {
	return postgres.URL(m.Host, password)
}

// NewPlan decides the deployment of a validated configuration (Read).
func NewPlan(c Config) Plan {
	p := Plan{
		App:      c.AppName,
		Hostname: c.AppName + ".fly.dev",
		Domain:   c.Domain,
		Image:    c.Image,
		IPs:      []flyio.IPType{flyio.IPTypeSharedV4, flyio.IPTypeV6},
	}
	p.URL = c.PublicURL("https://" + p.Hostname)
	if c.DedicatedIPv4 {
		p.IPs[0] = flyio.IPTypeV4
	}
	p.Build = Build{
		Registry:   c.Registry,
		Name:       buildName(c),
		Context:    stack.BuildContext,
		Dockerfile: stack.Dockerfile,
		Platform:   stack.BuildPlatform,
		Username:   "x", // Fly's registry ignores it; the token authenticates
	}
	p.Machines = appGroup(c, cmp.Or(c.Domain, p.Hostname))

	p.Database = Database{Protect: c.KeepData()}
	db := databaseApp(c.AppName)
	if c.Database == "machine" {
		p.Database.Machine = &MachinePostgres{
			App: db, Region: c.PrimaryRegion, Host: db + ".internal", VolumeGB: c.PostgresDiskGB,
			Machines: databaseGroup(c.PrimaryRegion, c.PostgresImage),
		}
	} else {
		p.Database.Managed = &ManagedPostgres{
			Name: db, Region: c.PrimaryRegion, Plan: c.PostgresPlan,
			Version: c.PostgresVersion, DiskGB: c.PostgresDiskGB,
		}
	}
	return p
}

// databaseApp names the database: the Managed Postgres cluster, or the app
// the Postgres machine runs on.
func databaseApp(app string) string { return app + "-db" }

// buildName is the reference a build is pushed as, <registry>/<app>:<stack>.
func buildName(c Config) string {
	return c.Registry + "/" + c.AppName + ":" + c.ImageTag()
}

// appGroup is the app's machines: the service behind Fly's proxy on 443 and
// 80 (redirected to HTTPS), checked on /readyz for routing and /healthz for
// rollouts, with migrations as the release command.
func appGroup(f Config, appHost string) Group {
	checks := func(path string) flyio.HealthCheck {
		return flyio.HealthCheck{
			Type: "http", Port: new(contract.Port), Path: new(path), Method: new("GET"),
			Interval: new("15s"), Timeout: new("5s"), GracePeriod: new("10s"),
		}
	}
	ready := checks(contract.ReadyPath)
	ready.Port = nil // a service check's port is the service's
	g := Group{
		PrimaryRegion:  f.PrimaryRegion,
		Regions:        f.Regions,
		CountPerRegion: f.MachinesPerRegion,
		ReleaseCommand: []string{contract.Release},
		Strategy:       &flyio.RolloutStrategy{Type: new(f.Strategy)},
		Config: flyio.MachineConfig{
			Env: map[string]string{
				contract.EnvAppHost:  appHost,
				contract.EnvPort:     strconv.Itoa(contract.Port),
				contract.EnvLogLevel: f.LogLevel,
			},
			Guest: &flyio.MachineGuest{CpuKind: new(f.CPUKind), Cpus: new(f.CPUs), MemoryMb: new(f.MemoryMB)},
			Services: []flyio.MachineService{{
				Protocol:     new("tcp"),
				InternalPort: contract.Port,
				Ports: []flyio.ServicePort{
					{Port: 443, Handlers: []string{"tls", "http"}},
					{Port: 80, Handlers: []string{"http"}, ForceHttps: new(true)},
				},
				Autostop:           new(f.Autostop),
				Autostart:          new(true),
				MinMachinesRunning: new(f.MinMachinesRunning),
				Concurrency:        &flyio.ServiceConcurrency{Type: new("requests"), SoftLimit: new(200), HardLimit: new(250)},
				Checks:             []flyio.HealthCheck{ready},
			}},
			Checks:  map[string]flyio.HealthCheck{"healthz": checks(contract.HealthPath)},
			Metrics: &flyio.MetricsConfig{Port: contract.Port, Path: contract.MetricsPath},
			Restart: &flyio.RestartPolicy{Policy: new("on-failure"), MaxRetries: new(10)},
			// Fly waits out the service's drain before it kills the machine.
			StopConfig: &flyio.StopConfig{Signal: new(contract.StopSignal), Timeout: new(contract.StopTimeout.String())},
		},
	}
	if f.Strategy == "rolling" {
		g.Strategy.MaxUnavailable = new(f.MaxUnavailable)
	}
	return g
}

// databaseGroup is the self-run Postgres machine: the official image with
// its data on the volume, no public service, restarted whatever happens.
func databaseGroup(region, image string) Group {
	return Group{
		PrimaryRegion:  region,
		Regions:        []string{region},
		CountPerRegion: 1,
		// A volume pins the machine: it is updated in place, never doubled.
		Strategy: &flyio.RolloutStrategy{Type: new("rolling"), MaxUnavailable: new(1)},
		Config: flyio.MachineConfig{
			Image:  image,
			Env:    postgres.Env(dbMountPath),
			Guest:  &flyio.MachineGuest{CpuKind: new("shared"), Cpus: new(1), MemoryMb: new(256)},
			Mounts: []flyio.VolumeMount{{Volume: dbVolume, Path: dbMountPath}},
			Checks: map[string]flyio.HealthCheck{"pg": {
				Type: "tcp", Port: new(postgres.Port), Interval: new("15s"), Timeout: new("5s"), GracePeriod: new("30s"),
			}},
			Restart: &flyio.RestartPolicy{Policy: new("always")},
			// SIGINT is Postgres' fast shutdown: it checkpoints and exits.
			StopConfig: &flyio.StopConfig{Signal: new("SIGINT"), Timeout: new("60s")},
		},
	}
}

// DNSRecords formats the records a certificate for host asks for as the
// stack output shows them, "<name> <type> <value> (<purpose>)", the shape of
// the Compose backend's. The A and AAAA records that route host to the app
// name addresses, the stack's own IPs: Fly lists those the app held when
// the certificate was last read, which misses an address allocated since,
// as when a refresh-up puts back one released outside Pulumi (docs/drift.md).
func DNSRecords(host string, records []flyio.DNSRecord, addresses []string) []string {
	out := []string{}
	line := func(name, typ, value, purpose string) {
		out = append(out, fmt.Sprintf("%s %s %s (%s)", name, typ, value, purpose))
	}
	for _, typ := range []string{"A", "AAAA"} {
		for _, a := range addresses {
			if ip, err := netip.ParseAddr(a); err == nil && ip.Is4() == (typ == "A") {
				line(host, typ, a, routing)
			}
		}
	}
	for _, r := range records {
		if r.Purpose != routing || (r.Type != "A" && r.Type != "AAAA") {
			line(r.Name, r.Type, r.Value, r.Purpose)
		}
	}
	return out
}

// routing is the purpose of the records that send a hostname to the app.
const routing = "routing"

// registryPassword is the token as Fly's registry takes it: without the
// "FlyV1 " or "Bearer " scheme that API calls carry.
func registryPassword(token string) string {
	token = strings.TrimSpace(token)
	for _, scheme := range []string{"FlyV1 ", "Bearer "} {
		if rest, ok := strings.CutPrefix(token, scheme); ok {
			return strings.TrimSpace(rest)
		}
	}
	return token
}
