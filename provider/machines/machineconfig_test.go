package machines

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/provider/flyapi"
)

// fullArgs uses every config field the group manages.
func fullArgs() Args {
	return Args{
		App:            "my-app",
		Regions:        []string{"ams", "cdg"},
		CountPerRegion: 2,
		Config: MachineConfig{
			Image:      "registry.fly.io/my-app:v1",
			Env:        map[string]string{"LOG_LEVEL": "info"},
			Cmd:        []string{"serve"},
			Entrypoint: []string{"/app/emothe"},
			Guest:      &MachineGuest{CPUKind: "shared", CPUs: 2, MemoryMB: 1024},
			Services: []MachineService{{
				InternalPort:       8080,
				Ports:              []ServicePort{{Port: 80, Handlers: []string{"http"}, ForceHTTPS: true}, {Port: 443, Handlers: []string{"http", "tls"}}},
				Autostop:           "suspend",
				Concurrency:        &ServiceConcurrency{Type: "requests", HardLimit: 250, SoftLimit: 200},
				Checks:             []HealthCheck{{Type: "http", Path: "/healthz", Interval: "10s", Timeout: "1m", GracePeriod: "5s"}},
				MinMachinesRunning: 1,
			}},
			Checks:     map[string]HealthCheck{"alive": {Type: "tcp", Port: 8080}},
			Mounts:     []VolumeMount{{Volume: "data", Path: "/data"}},
			Restart:    &RestartPolicy{Policy: "on-failure", MaxRetries: 3},
			Metrics:    &MetricsConfig{Port: 9091, Path: "/metrics"},
			StopConfig: &StopConfig{Signal: "SIGTERM", Timeout: "30s"},
		},
		MinSecretsVersion: 7,
	}
}

// echo sends a config through JSON the way Fly stores and returns it.
func echo(t *testing.T, raw string) flyapi.FlyMachineConfig {
	t.Helper()
	var cfg flyapi.FlyMachineConfig
	require.NoError(t, json.Unmarshal([]byte(raw), &cfg))
	return cfg
}

func TestConfigRoundTrip(t *testing.T) {
	in := fullArgs().normalize()
	raw, err := json.Marshal(in.machineConfig())
	require.NoError(t, err)
	got := fromConfig(echo(t, string(raw)))

	assert.Equal(t, in.Config, got.Config)
	assert.Equal(t, "ams", got.PrimaryRegion)
	assert.Equal(t, "app", got.ProcessGroup)
	assert.Equal(t, 7, got.MinSecretsVersion)
	assert.Equal(t, in.target().digest, observe(flyapi.Machine{Config: new(echo(t, string(raw)))}).ConfigDigest)
}

func TestMachineConfigCarriesFlyLaunchMetadata(t *testing.T) {
	cfg := fullArgs().normalize().machineConfig()
	assert.Equal(t, map[string]string{
		"fly_platform_version":             "v2",
		"fly_process_group":                "app",
		"pulumi_flyio_min_secrets_version": "7",
	}, *cfg.Metadata)
	assert.Equal(t, "app", (*cfg.Env)["FLY_PROCESS_GROUP"])
	assert.Equal(t, "ams", (*cfg.Env)["PRIMARY_REGION"])
	assert.Equal(t, "info", (*cfg.Env)["LOG_LEVEL"])
}

// What Fly answers differs from what was sent in ways that are not changes:
// booleans for autostop, empty lists and maps, defaults it fills in,
// per-machine metadata and volume IDs. None may read as drift.
func TestDigestIgnoresFlyRepresentation(t *testing.T) {
	in := Args{
		App: "my-app", Regions: []string{"ams"},
		Config: MachineConfig{
			Image: "nginx:1",
			Services: []MachineService{
				{InternalPort: 80, Autostop: "stop"},
				{InternalPort: 81},
			},
		},
	}.normalize()
	want := in.target().digest

	fromFly := echo(t, `{
		"image": "nginx:1",
		"env": {"FLY_PROCESS_GROUP": "app", "PRIMARY_REGION": "ams"},
		"metadata": {"fly_platform_version": "v2", "fly_process_group": "app",
			"fly_release_id": "01ABC", "fly_release_version": "4", "pulumi_flyio_launch_id": "XYZ"},
		"guest": {"cpu_kind": "shared", "cpus": 1, "memory_mb": 256, "max_memory_mb": 2048},
		"restart": {"policy": "on-failure"},
		"init": {"cmd": [], "entrypoint": []},
		"checks": {},
		"mounts": [],
		"services": [
			{"protocol": "tcp", "internal_port": 80, "autostop": true, "autostart": true, "ports": [], "checks": []},
			{"protocol": "tcp", "internal_port": 81, "autostop": false, "autostart": true, "min_machines_running": 0}
		]
	}`)
	assert.Equal(t, want, observe(flyapi.Machine{Config: &fromFly}).ConfigDigest)

	// A real change does show.
	(*fromFly.Services)[1].Autostop = new(flyapi.Suspend)
	assert.NotEqual(t, want, observe(flyapi.Machine{Config: &fromFly}).ConfigDigest)
}

func TestDigestChangesWithEverythingTheGroupManages(t *testing.T) {
	base := fullArgs().normalize().target().digest
	changes := map[string]func(*Args){
		"image":             func(a *Args) { a.Config.Image = "registry.fly.io/my-app:v2" },
		"env":               func(a *Args) { a.Config.Env = map[string]string{"LOG_LEVEL": "debug"} },
		"guest":             func(a *Args) { a.Config.Guest.MemoryMB = 2048 },
		"minSecretsVersion": func(a *Args) { a.MinSecretsVersion = 8 },
		"primaryRegion":     func(a *Args) { a.PrimaryRegion = "cdg" },
		"service check":     func(a *Args) { a.Config.Services[0].Checks[0].Path = "/ready" },
		"mount path":        func(a *Args) { a.Config.Mounts[0].Path = "/var/data" },
		"restart":           func(a *Args) { a.Config.Restart = &RestartPolicy{Policy: "always"} },
	}
	for name, change := range changes {
		t.Run(name, func(t *testing.T) {
			a := fullArgs()
			a.Config.Services = []MachineService{fullArgs().Config.Services[0]}
			a.Config.Services[0].Checks = []HealthCheck{fullArgs().Config.Services[0].Checks[0]}
			change(&a)
			assert.NotEqual(t, base, a.normalize().target().digest)
		})
	}
}

func TestNormalize(t *testing.T) {
	got := Args{
		App: "my-app", Regions: []string{"cdg", "ams"},
		ReleaseCommand: []string{`/app/emothe migrate --to 'latest one'`},
		WaitTimeout:    "90s",
		Config: MachineConfig{
			Image:    "nginx:1",
			Env:      map[string]string{},
			Services: []MachineService{{InternalPort: 80, Checks: []HealthCheck{{Type: "http"}}}},
			Guest:    &MachineGuest{CPUKind: "performance"},
		},
	}.normalize()
	assert.Equal(t, "app", got.ProcessGroup)
	assert.Equal(t, 1, got.CountPerRegion)
	assert.Equal(t, "cdg", got.PrimaryRegion)
	assert.Equal(t, []string{"/app/emothe", "migrate", "--to", "latest one"}, got.ReleaseCommand)
	assert.Equal(t, "1m30s", got.WaitTimeout)
	assert.Equal(t, "5m0s", got.ReleaseCommandTimeout)
	assert.Equal(t, &RolloutStrategy{Type: "rolling", MaxUnavailable: 1, WaitBeforeCordon: "10s", WaitBeforeStop: "10s"}, got.Strategy, "flyctl's bluegreen waits")
	assert.Nil(t, got.Config.Env)
	assert.Equal(t, &MachineGuest{CPUKind: "performance", CPUs: 1, MemoryMB: 2048}, got.Config.Guest)
	assert.Equal(t, "on-failure", got.Config.Restart.Policy)
	svc := got.Config.Services[0]
	assert.Equal(t, "tcp", svc.Protocol)
	assert.Equal(t, "off", svc.Autostop)
	assert.Equal(t, true, *svc.Autostart)
	assert.Equal(t, HealthCheck{Type: "http", Port: 80, Path: "/", Method: "GET", Protocol: "http", Interval: "15s", Timeout: "2s"}, svc.Checks[0])
	assert.Equal(t, got, got.normalize(), "normalize is idempotent")
}

func TestPinned(t *testing.T) {
	digest := &flyapi.ImageRef{Digest: new("sha256:abc")}
	assert.Equal(t, "registry.fly.io/app@sha256:abc", pinned("registry.fly.io/app:v1", digest))
	assert.Equal(t, "localhost:5000/app@sha256:abc", pinned("localhost:5000/app", digest))
	assert.Equal(t, "nginx@sha256:abc", pinned("nginx:1@sha256:old", digest))
	assert.Equal(t, "nginx:1", pinned("nginx:1", &flyapi.ImageRef{}))
	assert.Equal(t, "nginx:1", pinned("nginx:1", nil))
}
