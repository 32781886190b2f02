package machines

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/shlex"
	"github.com/pulumi/pulumi/sdk/v3/go/property"

	"github.com/emothe/emothe/provider/fly"
	"github.com/emothe/emothe/provider/internal/check"
)

var (
	regionCode   = check.RegionCode
	processGroup = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
	envName      = check.EnvName
	volumeName   = check.VolumeName
	httpMethod   = regexp.MustCompile(`^[A-Z]+$`)
)

// The values Fly accepts (docs/fly-api.md#machine-config-values).
var (
	strategies     = []string{"rolling", "bluegreen", "immediate"}
	cpuKinds       = []string{"shared", "performance"}
	cpuCounts      = []int{1, 2, 4, 8, 16}
	protocols      = []string{"tcp", "udp"}
	handlers       = []string{"http", "tls", "pg_tls", "proxy_proto"}
	autostops      = []string{"off", "stop", "suspend"}
	concurrencies  = []string{"connections", "requests"}
	checkTypes     = []string{"http", "tcp"}
	checkProtocols = []string{"http", "https"}
	policies       = []string{"no", "always", "on-failure", "spot-price"}
	signals        = []string{"SIGHUP", "SIGINT", "SIGQUIT", "SIGKILL", "SIGUSR1", "SIGUSR2", "SIGTERM"}
)

// Memory bounds per CPU (docs/fly-api.md#guest-sizes).
const (
	memoryStepMB          = 256
	sharedMaxMBPerCPU     = 2048
	performanceMaxMBPerCP = 8192
	minCheckInterval      = 2 * time.Second // flaps refuses shorter machine checks
)

// validator checks normalized Args. Inputs that are unknown during a
// preview (another resource's outputs) decode as zero values, so every
// check first asks whether its property is known.
type validator struct {
	inputs property.Map
	f      check.Failures
}

// known reports whether the input at path (map keys and list indexes) is
// known, all of it; a missing input is known (its default applies).
func (v *validator) known(path ...any) bool {
	val := property.New(v.inputs)
	for _, seg := range path {
		switch s := seg.(type) {
		case string:
			if !val.IsMap() {
				return !val.HasComputed()
			}
			next, ok := val.AsMap().GetOk(s)
			if !ok {
				return true
			}
			val = next
		case int:
			if !val.IsArray() || s >= val.AsArray().Len() {
				return !val.HasComputed()
			}
			val = val.AsArray().Get(s)
		}
	}
	return !val.HasComputed()
}

func (v *validator) failf(prop, format string, args ...any) {
	v.f.Addf(prop, "%s %s", prop, fmt.Sprintf(format, args...))
}

func (v *validator) oneOf(prop, value string, allowed []string, path ...any) {
	if v.known(path...) && !slices.Contains(allowed, value) {
		v.failf(prop, "%q is not supported: use one of %q", value, allowed)
	}
}

func (v *validator) port(prop string, port int, path ...any) {
	if v.known(path...) && (port < 1 || port > 65535) {
		v.failf(prop, "%d is not a port: use 1 to 65535", port)
	}
}

// duration checks an optional Go duration; shortest is the least accepted,
// and 0 accepts "0s" (no wait), never a negative one.
func (v *validator) duration(prop, value string, shortest time.Duration, path ...any) {
	if value == "" || !v.known(path...) {
		return
	}
	d, err := time.ParseDuration(value)
	switch {
	case err != nil:
		v.failf(prop, "%q is not a duration: use a Go duration such as %q", value, "30s")
	case shortest == 0 && d < 0:
		v.failf(prop, "%q is negative: use %q for no wait, or a duration such as %q", value, "0s", "10s")
	case shortest > 0 && d < shortest:
		v.failf(prop, "%q is too short: use at least %s", value, shortest)
	}
}

// validate checks raw (the inputs as written) and in (normalized).
func validate(inputs property.Map, raw, in Args) check.Failures {
	v := &validator{inputs: inputs}
	v.f.Name(inputs, "app", in.App)
	if v.known("processGroup") && (!processGroup.MatchString(in.ProcessGroup) || strings.HasPrefix(in.ProcessGroup, "fly_")) {
		v.failf("processGroup", "%q is not a valid process group: use lower-case letters, digits, _ and -, "+
			"not starting with fly_ (reserved by Fly), e.g. %q", in.ProcessGroup, fly.DefaultProcessGroup)
	}
	v.regions(in)
	if _, set := inputs.GetOk("countPerRegion"); set && v.known("countPerRegion") && raw.CountPerRegion < 1 {
		v.failf("countPerRegion", "%d is out of range: use 1 or more machines per region (to remove the group, "+
			"delete the resource)", raw.CountPerRegion)
	}
	if v.known("minSecretsVersion") && in.MinSecretsVersion < 0 {
		v.failf("minSecretsVersion", "%d is negative: use AppSecrets.version (0 or more)", in.MinSecretsVersion)
	}
	if v.known("releaseCommand") && in.ReleaseCommand != nil && slices.Contains(in.ReleaseCommand, "") {
		v.failf("releaseCommand", "%q has an empty word: write the command as words, e.g. %q",
			in.ReleaseCommand, []string{"/app/emothe", "migrate"})
	}
	if len(raw.ReleaseCommand) == 1 && v.known("releaseCommand") {
		if _, err := shlex.Split(raw.ReleaseCommand[0]); err != nil {
			v.failf("releaseCommand", "%q cannot be split into words (%v): close its quotes, or write the command as "+
				"words, e.g. %q", raw.ReleaseCommand[0], err, []string{"/app/emothe", "migrate"})
		}
	}
	v.guest(in.ReleaseCommandGuest, "releaseCommandGuest", "releaseCommandGuest")
	v.duration("releaseCommandTimeout", in.ReleaseCommandTimeout, time.Second, "releaseCommandTimeout")
	v.duration("waitTimeout", in.WaitTimeout, time.Second, "waitTimeout")
	v.strategy(in)
	v.config(in.Config)
	return v.f
}

func (v *validator) regions(in Args) {
	if !v.known("regions") {
		return
	}
	if len(in.Regions) == 0 {
		v.failf("regions", "is empty: list at least one region, e.g. %q", []string{"ams"})
	}
	for i, r := range in.Regions {
		if !regionCode.MatchString(r) {
			v.failf(fmt.Sprintf("regions[%d]", i), "%q is not a Fly region code: use a three-letter code such as "+
				"%q (see `fly platform regions`)", r, "ams")
		}
		if slices.Index(in.Regions, r) < i {
			v.failf(fmt.Sprintf("regions[%d]", i), "%q is listed twice: list each region once and set countPerRegion "+
				"for more machines per region", r)
		}
	}
	if v.known("primaryRegion") && in.PrimaryRegion != "" && !regionCode.MatchString(in.PrimaryRegion) {
		v.failf("primaryRegion", "%q is not a Fly region code: use a three-letter code such as %q", in.PrimaryRegion, "ams")
	}
}

func (v *validator) strategy(in Args) {
	s := *in.Strategy
	v.oneOf("strategy.type", s.Type, strategies, "strategy", "type")
	if v.known("strategy", "maxUnavailable") && s.MaxUnavailable < 1 {
		v.failf("strategy.maxUnavailable", "%d is out of range: use 1 or more machines", s.MaxUnavailable)
	}
	v.duration("strategy.waitBeforeCordon", s.WaitBeforeCordon, 0, "strategy", "waitBeforeCordon")
	v.duration("strategy.waitBeforeStop", s.WaitBeforeStop, 0, "strategy", "waitBeforeStop")
	if s.Type != "bluegreen" || !v.known("strategy", "type") {
		return
	}
	if v.known("config", "services") && v.known("config", "checks") && !hasChecks(in.Config) {
		v.failf("strategy.type", "bluegreen needs at least one health check to know when the new machines are ready: "+
			"add config.checks or config.services[].checks, or use %q", "rolling")
	}
	if v.known("config", "mounts") && len(in.Config.Mounts) > 0 {
		v.failf("strategy.type", "bluegreen cannot run with config.mounts: the new machines would need a second set "+
			"of volumes; use %q", "rolling")
	}
}

func (v *validator) config(c MachineConfig) {
	if v.known("config", "image") && (c.Image == "" || strings.ContainsAny(c.Image, " \t\n")) {
		v.failf("config.image", "%q is not an image reference: use e.g. %q", c.Image, "registry.fly.io/my-app:v1")
	}
	v.env(c.Env)
	v.guest(c.Guest, "config.guest", "config", "guest")
	for i, s := range c.Services {
		v.service(i, s)
	}
	for name, ch := range c.Checks {
		prop := "config.checks." + name
		path := []any{"config", "checks", name}
		v.check(prop, ch, path, minCheckInterval)
		if v.known(append(path, "port")...) && ch.Port == 0 {
			v.failf(prop+".port", "is required for machine-level checks: set the port to check, e.g. 8080")
		}
	}
	v.mounts(c.Mounts)
	v.oneOf("config.restart.policy", c.Restart.Policy, policies, "config", "restart", "policy")
	if v.known("config", "restart") && c.Restart.MaxRetries != 0 &&
		(c.Restart.MaxRetries < 0 || c.Restart.Policy != "on-failure") {
		v.failf("config.restart.maxRetries", "%d only applies to policy %q and must not be negative",
			c.Restart.MaxRetries, "on-failure")
	}
	if m := c.Metrics; m != nil {
		v.port("config.metrics.port", m.Port, "config", "metrics", "port")
		if v.known("config", "metrics", "path") && !strings.HasPrefix(m.Path, "/") {
			v.failf("config.metrics.path", "%q is not a path: use e.g. %q", m.Path, "/metrics")
		}
	}
	if sc := c.StopConfig; sc != nil {
		if sc.Signal != "" {
			v.oneOf("config.stopConfig.signal", sc.Signal, signals, "config", "stopConfig", "signal")
		}
		v.duration("config.stopConfig.timeout", sc.Timeout, time.Second, "config", "stopConfig", "timeout")
	}
}

func (v *validator) env(env map[string]string) {
	envVal, ok := v.inputs.GetOk("config")
	var secret []string
	if ok && envVal.IsMap() {
		if e, ok := envVal.AsMap().GetOk("env"); ok {
			if e.Secret() {
				secret = append(secret, "config.env")
			} else if e.IsMap() {
				for k, val := range e.AsMap().AllStable {
					if val.Secret() {
						secret = append(secret, "config.env."+k)
					}
				}
			}
		}
	}
	for _, prop := range secret {
		v.failf(prop, "is a secret, and env values are stored in plain text on every machine: put the value in "+
			"AppSecrets and pass its version as minSecretsVersion")
	}
	for k := range env {
		switch {
		case !envName.MatchString(k):
			v.failf("config.env", "name %q is not an environment variable name: use letters, digits and _, "+
				"not starting with a digit", k)
		case k == fly.EnvProcessGroup || k == fly.EnvPrimaryRegion:
			v.failf("config.env."+k, "is set by the group: remove it (use processGroup or primaryRegion)")
		}
	}
}

// guest checks a machine size at prop (its path in the inputs).
func (v *validator) guest(g *MachineGuest, prop string, path ...any) {
	if g == nil || !v.known(path...) {
		return
	}
	v.oneOf(prop+".cpuKind", g.CPUKind, cpuKinds, append(slices.Clone(path), "cpuKind")...)
	if !slices.Contains(cpuCounts, g.CPUs) {
		v.failf(prop+".cpus", "%d is not a Fly CPU count: use one of %v", g.CPUs, cpuCounts)
		return
	}
	lo, hi := g.CPUs*minMBPerCPU(g.CPUKind), g.CPUs*sharedMaxMBPerCPU
	if g.CPUKind == "performance" {
		hi = g.CPUs * performanceMaxMBPerCP
	}
	switch {
	case g.MemoryMB%memoryStepMB != 0:
		v.failf(prop+".memoryMb", "%d is not a multiple of %d: use e.g. %d", g.MemoryMB, memoryStepMB,
			max(lo, (g.MemoryMB/memoryStepMB)*memoryStepMB))
	case g.MemoryMB < lo || g.MemoryMB > hi:
		v.failf(prop+".memoryMb", "%d is out of range for %d %s CPU(s): use %d to %d", g.MemoryMB, g.CPUs,
			g.CPUKind, lo, hi)
	}
}

func (v *validator) service(i int, s MachineService) {
	prop := fmt.Sprintf("config.services[%d]", i)
	path := []any{"config", "services", i}
	at := func(rest ...any) []any { return append(slices.Clone(path), rest...) }
	v.oneOf(prop+".protocol", s.Protocol, protocols, at("protocol")...)
	v.port(prop+".internalPort", s.InternalPort, at("internalPort")...)
	for j, p := range s.Ports {
		pp := fmt.Sprintf("%s.ports[%d]", prop, j)
		v.port(pp+".port", p.Port, at("ports", j, "port")...)
		for _, h := range p.Handlers {
			v.oneOf(pp+".handlers", h, handlers, at("ports", j, "handlers")...)
		}
	}
	v.oneOf(prop+".autostop", s.Autostop, autostops, at("autostop")...)
	if v.known(at("minMachinesRunning")...) && s.MinMachinesRunning < 0 {
		v.failf(prop+".minMachinesRunning", "%d is negative: use 0 or more", s.MinMachinesRunning)
	}
	if cc := s.Concurrency; cc != nil && v.known(at("concurrency")...) {
		v.oneOf(prop+".concurrency.type", cc.Type, concurrencies, at("concurrency", "type")...)
		if cc.HardLimit < 0 || cc.SoftLimit < 0 || (cc.HardLimit > 0 && cc.SoftLimit > cc.HardLimit) {
			v.failf(prop+".concurrency", "softLimit %d and hardLimit %d must not be negative, and softLimit must "+
				"not exceed hardLimit", cc.SoftLimit, cc.HardLimit)
		}
	}
	for j, ch := range s.Checks {
		v.check(fmt.Sprintf("%s.checks[%d]", prop, j), ch, at("checks", j), time.Second)
	}
}

// check validates a health check; minInterval is the shortest interval Fly
// takes for its kind.
func (v *validator) check(prop string, c HealthCheck, path []any, minInterval time.Duration) {
	at := func(rest ...any) []any { return append(slices.Clone(path), rest...) }
	v.oneOf(prop+".type", c.Type, checkTypes, at("type")...)
	if c.Port != 0 {
		v.port(prop+".port", c.Port, at("port")...)
	}
	if c.Type == "http" {
		if v.known(at("path")...) && !strings.HasPrefix(c.Path, "/") {
			v.failf(prop+".path", "%q is not a path: use e.g. %q", c.Path, "/healthz")
		}
		v.oneOf(prop+".protocol", c.Protocol, checkProtocols, at("protocol")...)
		if v.known(at("method")...) && !httpMethod.MatchString(c.Method) {
			v.failf(prop+".method", "%q is not an HTTP method: use e.g. %q", c.Method, "GET")
		}
	}
	v.duration(prop+".interval", c.Interval, minInterval, at("interval")...)
	v.duration(prop+".timeout", c.Timeout, time.Second, at("timeout")...)
	v.duration(prop+".gracePeriod", c.GracePeriod, time.Second, at("gracePeriod")...)
}

func (v *validator) mounts(mounts []VolumeMount) {
	if !v.known("config", "mounts") {
		return
	}
	if len(mounts) > 1 {
		v.failf("config.mounts", "has %d mounts: a Fly machine mounts at most one volume", len(mounts))
	}
	for i, m := range mounts {
		prop := fmt.Sprintf("config.mounts[%d]", i)
		if !volumeName.MatchString(m.Volume) {
			v.failf(prop+".volume", "%q is not a volume name: use the Volume's name (1-30 letters, digits and _), "+
				"e.g. %q", m.Volume, "data")
		}
		if !strings.HasPrefix(m.Path, "/") || m.Path == "/" {
			v.failf(prop+".path", "%q is not an absolute path below /: use e.g. %q", m.Path, "/data")
		}
	}
}
