package machines

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/emothe/emothe/provider/fly"
	"github.com/emothe/emothe/provider/flyapi"
	"github.com/emothe/emothe/provider/internal/opt"
)

// metaMinSecretsVersion records the secrets version a machine was last
// updated with. Fly does not report min_secrets_version back, and keeping it
// on the machine lets Read, import included, see it and the config digest
// change with it, so a new version rolls the machines.
const metaMinSecretsVersion = "pulumi_flyio_min_secrets_version"

// machineConfig is the config every machine of the group runs, before the
// per-machine parts: the mounted volume's ID and the release metadata.
// Args must be normalized.
func (a Args) machineConfig() flyapi.FlyMachineConfig {
	c := a.Config
	env := maps.Clone(c.Env)
	if env == nil {
		env = map[string]string{}
	}
	env[fly.EnvProcessGroup] = a.ProcessGroup
	env[fly.EnvPrimaryRegion] = a.PrimaryRegion
	meta := map[string]string{
		fly.MetaPlatformVersion: fly.PlatformVersionV2,
		fly.MetaProcessGroup:    a.ProcessGroup,
	}
	if a.MinSecretsVersion > 0 {
		meta[metaMinSecretsVersion] = strconv.Itoa(a.MinSecretsVersion)
	}
	cfg := flyapi.FlyMachineConfig{
		Image:    new(c.Image),
		Env:      &env,
		Metadata: &meta,
		Guest:    c.Guest.api(),
		Restart: &flyapi.FlyMachineRestart{
			Policy:     new(flyapi.FlyMachineRestartPolicy(c.Restart.Policy)),
			MaxRetries: opt.NonZero(c.Restart.MaxRetries),
		},
	}
	if c.Cmd != nil || c.Entrypoint != nil {
		cfg.Init = &flyapi.FlyMachineInit{Cmd: ptrIf(c.Cmd), Entrypoint: ptrIf(c.Entrypoint)}
	}
	if c.Services != nil {
		svcs := make([]flyapi.FlyMachineService, len(c.Services))
		for i, s := range c.Services {
			svcs[i] = s.api()
		}
		cfg.Services = &svcs
	}
	if c.Checks != nil {
		checks := make(map[string]flyapi.FlyMachineCheck, len(c.Checks))
		for name, ch := range c.Checks {
			checks[name] = ch.machineCheck()
		}
		cfg.Checks = &checks
	}
	if c.Mounts != nil {
		mounts := make([]flyapi.FlyMachineMount, len(c.Mounts))
		for i, m := range c.Mounts {
			mounts[i] = flyapi.FlyMachineMount{Name: new(m.Volume), Path: new(m.Path)}
		}
		cfg.Mounts = &mounts
	}
	if c.Metrics != nil {
		cfg.Metrics = &flyapi.FlyMachineMetrics{Port: new(c.Metrics.Port), Path: new(c.Metrics.Path)}
	}
	if c.StopConfig != nil {
		cfg.StopConfig = &flyapi.FlyStopConfig{
			Signal:  opt.NonZero(flyapi.FlyStopConfigSignal(c.StopConfig.Signal)),
			Timeout: opt.NonZero(c.StopConfig.Timeout),
		}
	}
	return cfg
}

func (g MachineGuest) api() *flyapi.FlyMachineGuest {
	return &flyapi.FlyMachineGuest{CpuKind: new(g.CPUKind), Cpus: new(g.CPUs), MemoryMb: new(g.MemoryMB)}
}

func (s MachineService) api() flyapi.FlyMachineService {
	out := flyapi.FlyMachineService{
		Protocol:           new(s.Protocol),
		InternalPort:       new(s.InternalPort),
		Autostop:           new(flyapi.FlyMachineServiceAutostop(s.Autostop)),
		Autostart:          s.Autostart,
		MinMachinesRunning: opt.NonZero(s.MinMachinesRunning),
	}
	if s.Ports != nil {
		ports := make([]flyapi.FlyMachinePort, len(s.Ports))
		for i, p := range s.Ports {
			ports[i] = flyapi.FlyMachinePort{Port: new(p.Port), Handlers: ptrIf(p.Handlers), ForceHttps: opt.NonZero(p.ForceHTTPS)}
		}
		out.Ports = &ports
	}
	if cc := s.Concurrency; cc != nil {
		out.Concurrency = &flyapi.FlyMachineServiceConcurrency{
			Type:      new(cc.Type),
			HardLimit: opt.NonZero(cc.HardLimit),
			SoftLimit: opt.NonZero(cc.SoftLimit),
		}
	}
	if s.Checks != nil {
		checks := make([]flyapi.FlyMachineServiceCheck, len(s.Checks))
		for i, c := range s.Checks {
			checks[i] = flyapi.FlyMachineServiceCheck{
				Type: new(c.Type), Port: opt.NonZero(c.Port), Path: opt.NonZero(c.Path), Method: opt.NonZero(c.Method),
				Protocol: opt.NonZero(c.Protocol), Interval: opt.NonZero(c.Interval), Timeout: opt.NonZero(c.Timeout),
				GracePeriod: opt.NonZero(c.GracePeriod),
			}
		}
		out.Checks = &checks
	}
	return out
}

func (c HealthCheck) machineCheck() flyapi.FlyMachineCheck {
	return flyapi.FlyMachineCheck{
		Type: new(c.Type), Port: opt.NonZero(c.Port), Path: opt.NonZero(c.Path), Method: opt.NonZero(c.Method),
		Protocol: opt.NonZero(c.Protocol), Interval: opt.NonZero(c.Interval), Timeout: opt.NonZero(c.Timeout),
		GracePeriod: opt.NonZero(c.GracePeriod),
	}
}

// fromConfig is the inverse of machineConfig: the group inputs a machine's
// config says it was made from (normalized). Fields the group does not
// manage are ignored, so Fly's additions never read as drift.
func fromConfig(cfg flyapi.FlyMachineConfig) Args {
	env := maps.Clone(opt.Val(cfg.Env))
	primary := env[fly.EnvPrimaryRegion]
	delete(env, fly.EnvProcessGroup)
	delete(env, fly.EnvPrimaryRegion)
	meta := opt.Val(cfg.Metadata)
	minSecrets, _ := strconv.Atoi(meta[metaMinSecretsVersion])
	c := MachineConfig{
		Image: opt.Val(cfg.Image),
		Env:   env,
	}
	if in := cfg.Init; in != nil {
		c.Cmd, c.Entrypoint = opt.Val(in.Cmd), opt.Val(in.Entrypoint)
	}
	if g := cfg.Guest; g != nil {
		c.Guest = &MachineGuest{CPUKind: opt.Val(g.CpuKind), CPUs: opt.Val(g.Cpus), MemoryMB: opt.Val(g.MemoryMb)}
	}
	for _, s := range opt.Val(cfg.Services) {
		c.Services = append(c.Services, serviceFrom(s))
	}
	for name, ch := range opt.Val(cfg.Checks) {
		if c.Checks == nil {
			c.Checks = map[string]HealthCheck{}
		}
		c.Checks[name] = HealthCheck{
			Type: opt.Val(ch.Type), Port: opt.Val(ch.Port), Path: opt.Val(ch.Path), Method: opt.Val(ch.Method),
			Protocol: opt.Val(ch.Protocol), Interval: opt.Val(ch.Interval), Timeout: opt.Val(ch.Timeout),
			GracePeriod: opt.Val(ch.GracePeriod),
		}
	}
	for _, m := range opt.Val(cfg.Mounts) {
		c.Mounts = append(c.Mounts, VolumeMount{Volume: opt.Val(m.Name), Path: opt.Val(m.Path)})
	}
	if r := cfg.Restart; r != nil {
		c.Restart = &RestartPolicy{Policy: string(opt.Val(r.Policy)), MaxRetries: opt.Val(r.MaxRetries)}
	}
	if m := cfg.Metrics; m != nil {
		c.Metrics = &MetricsConfig{Port: opt.Val(m.Port), Path: opt.Val(m.Path)}
	}
	if sc := cfg.StopConfig; sc != nil {
		c.StopConfig = &StopConfig{Signal: string(opt.Val(sc.Signal)), Timeout: opt.Val(sc.Timeout)}
	}
	return Args{
		ProcessGroup:      meta[fly.MetaProcessGroup],
		PrimaryRegion:     primary,
		MinSecretsVersion: minSecrets,
		Config:            c.normalize(),
	}
}

func serviceFrom(s flyapi.FlyMachineService) MachineService {
	out := MachineService{
		Protocol:           opt.Val(s.Protocol),
		InternalPort:       opt.Val(s.InternalPort),
		Autostop:           string(opt.Val(s.Autostop)),
		Autostart:          s.Autostart,
		MinMachinesRunning: opt.Val(s.MinMachinesRunning),
	}
	for _, p := range opt.Val(s.Ports) {
		out.Ports = append(out.Ports, ServicePort{Port: opt.Val(p.Port), Handlers: opt.Val(p.Handlers), ForceHTTPS: opt.Val(p.ForceHttps)})
	}
	if cc := s.Concurrency; cc != nil {
		out.Concurrency = &ServiceConcurrency{Type: opt.Val(cc.Type), HardLimit: opt.Val(cc.HardLimit), SoftLimit: opt.Val(cc.SoftLimit)}
	}
	for _, c := range opt.Val(s.Checks) {
		out.Checks = append(out.Checks, HealthCheck{
			Type: opt.Val(c.Type), Port: opt.Val(c.Port), Path: opt.Val(c.Path), Method: opt.Val(c.Method),
			Protocol: opt.Val(c.Protocol), Interval: opt.Val(c.Interval), Timeout: opt.Val(c.Timeout),
			GracePeriod: opt.Val(c.GracePeriod),
		})
	}
	return out
}

// digest fingerprints a group config (machineConfig's output). Maps encode
// with sorted keys, so equal configs always digest the same.
func digest(cfg flyapi.FlyMachineConfig) string {
	raw, err := json.Marshal(cfg)
	if err != nil {
		panic(fmt.Sprintf("machines: encoding a machine config: %v", err)) // generated types always encode
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:12])
}

// hasChecks reports whether machines of cfg report health checks to wait for.
func hasChecks(c MachineConfig) bool {
	if len(c.Checks) > 0 {
		return true
	}
	for _, s := range c.Services {
		if len(s.Checks) > 0 {
			return true
		}
	}
	return false
}

// pinned returns image with its tag or digest replaced by digest, when Fly
// reported one: the image the machines really run.
func pinned(image string, ref *flyapi.ImageRef) string {
	d := ""
	if ref != nil {
		d = opt.Val(ref.Digest)
	}
	if d == "" {
		return image
	}
	name, _, _ := strings.Cut(image, "@")
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		name = name[:i]
	}
	return name + "@" + d
}

func ptrIf[T any](s []T) *[]T {
	if s == nil {
		return nil
	}
	return &s
}
