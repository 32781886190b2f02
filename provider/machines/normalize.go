package machines

import (
	"maps"
	"slices"
	"time"

	"github.com/google/shlex"

	"github.com/emothe/emothe/provider/fly"
)

// Defaults, as flyctl has them where it has one.
const (
	defaultTimeout        = 5 * time.Minute
	defaultProxyWait      = 10 * time.Second // flyctl's bluegreen waitBeforeCordon and waitBeforeStop
	defaultStrategy       = "rolling"
	defaultCPUKind        = "shared"
	defaultRestartPolicy  = "on-failure"
	defaultCheckInterval  = "15s"
	defaultCheckTimeout   = "2s"
	defaultAutostop       = "off"
	defaultProtocol       = "tcp"
	defaultConcurrency    = "connections"
	sharedMinMBPerCPU     = 256
	performanceMinMBPerCP = 2048
)

// normalize fills the defaults and puts every value in one canonical form
// (durations as Go prints them, empty lists and maps as nil, a one-string
// release command split into words), so the same intent always compares
// equal: in Diff, against what Read rebuilds from the machines, and in the
// config digest. It leaves values it cannot read (a bad duration) for Check
// to report.
func (a Args) normalize() Args {
	if a.ProcessGroup == "" {
		a.ProcessGroup = fly.DefaultProcessGroup
	}
	if a.CountPerRegion == 0 {
		a.CountPerRegion = 1
	}
	if a.PrimaryRegion == "" && len(a.Regions) > 0 {
		a.PrimaryRegion = a.Regions[0]
	}
	a.Regions = nilIfEmpty(a.Regions)
	if len(a.ReleaseCommand) == 1 {
		// Split as flyctl splits fly.toml's release_command; a line that
		// cannot be split (an open quote) is left for Check to report.
		if words, err := shlex.Split(a.ReleaseCommand[0]); err == nil {
			a.ReleaseCommand = words
		}
	}
	if a.ReleaseCommandGuest != nil {
		a.ReleaseCommandGuest = new(a.ReleaseCommandGuest.normalize())
	}
	a.ReleaseCommand = nilIfEmpty(a.ReleaseCommand)
	a.ReleaseCommandTimeout = duration(a.ReleaseCommandTimeout, defaultTimeout.String())
	a.WaitTimeout = duration(a.WaitTimeout, defaultTimeout.String())
	s := RolloutStrategy{}
	if a.Strategy != nil {
		s = *a.Strategy
	}
	if s.Type == "" {
		s.Type = defaultStrategy
	}
	if s.MaxUnavailable == 0 {
		s.MaxUnavailable = 1
	}
	s.WaitBeforeCordon = duration(s.WaitBeforeCordon, defaultProxyWait.String())
	s.WaitBeforeStop = duration(s.WaitBeforeStop, defaultProxyWait.String())
	a.Strategy = &s
	a.Config = a.Config.normalize()
	return a
}

func (c MachineConfig) normalize() MachineConfig {
	if len(c.Env) == 0 {
		c.Env = nil
	}
	c.Cmd = nilIfEmpty(c.Cmd)
	c.Entrypoint = nilIfEmpty(c.Entrypoint)
	g := MachineGuest{}
	if c.Guest != nil {
		g = *c.Guest
	}
	c.Guest = new(g.normalize())
	if len(c.Services) == 0 {
		c.Services = nil
	} else {
		c.Services = slices.Clone(c.Services)
		for i := range c.Services {
			c.Services[i] = c.Services[i].normalize()
		}
	}
	if len(c.Checks) == 0 {
		c.Checks = nil
	} else {
		c.Checks = maps.Clone(c.Checks)
		for name, ch := range c.Checks {
			c.Checks[name] = ch.normalize(0)
		}
	}
	c.Mounts = nilIfEmpty(c.Mounts)
	r := RestartPolicy{}
	if c.Restart != nil {
		r = *c.Restart
	}
	if r.Policy == "" {
		r.Policy = defaultRestartPolicy
	}
	c.Restart = &r
	if c.StopConfig != nil {
		sc := *c.StopConfig
		sc.Timeout = duration(sc.Timeout, "")
		c.StopConfig = &sc
	}
	return c
}

func (g MachineGuest) normalize() MachineGuest {
	if g.CPUKind == "" {
		g.CPUKind = defaultCPUKind
	}
	if g.CPUs == 0 {
		g.CPUs = 1
	}
	if g.MemoryMB == 0 {
		g.MemoryMB = g.CPUs * minMBPerCPU(g.CPUKind)
	}
	return g
}

// minMBPerCPU is Fly's smallest memory per CPU of a kind.
func minMBPerCPU(kind string) int {
	if kind == "performance" {
		return performanceMinMBPerCP
	}
	return sharedMinMBPerCPU
}

func (s MachineService) normalize() MachineService {
	if s.Protocol == "" {
		s.Protocol = defaultProtocol
	}
	if s.Autostop == "" {
		s.Autostop = defaultAutostop
	}
	if s.Autostart == nil {
		s.Autostart = new(true)
	}
	if len(s.Ports) == 0 {
		s.Ports = nil
	} else {
		s.Ports = slices.Clone(s.Ports)
		for i := range s.Ports {
			s.Ports[i].Handlers = nilIfEmpty(s.Ports[i].Handlers)
		}
	}
	if s.Concurrency != nil && s.Concurrency.Type == "" {
		cc := *s.Concurrency
		cc.Type = defaultConcurrency
		s.Concurrency = &cc
	}
	if len(s.Checks) == 0 {
		s.Checks = nil
	} else {
		s.Checks = slices.Clone(s.Checks)
		for i := range s.Checks {
			s.Checks[i] = s.Checks[i].normalize(s.InternalPort)
		}
	}
	return s
}

// normalize fills a check's defaults; port is the service's internal port
// (0 for machine-level checks, which must name theirs).
func (c HealthCheck) normalize(port int) HealthCheck {
	if c.Port == 0 {
		c.Port = port
	}
	if c.Type == "http" {
		if c.Path == "" {
			c.Path = "/"
		}
		if c.Method == "" {
			c.Method = "GET"
		}
		if c.Protocol == "" {
			c.Protocol = "http"
		}
	}
	c.Interval = duration(c.Interval, defaultCheckInterval)
	c.Timeout = duration(c.Timeout, defaultCheckTimeout)
	c.GracePeriod = duration(c.GracePeriod, "")
	return c
}

// duration returns v as Go prints durations ("1m" becomes "1m0s"), def when
// v is empty, and v itself when it is not a duration.
func duration(v, def string) string {
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return v
	}
	return d.String()
}

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}
