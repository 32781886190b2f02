package fly

import (
	"cmp"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/emothe/emothe/infra/stack"
)

// EnvToken is where the token comes from when `flyio:token` is unset, as
// for the provider itself.
const EnvToken = "FLY_API_TOKEN"

// tokenKey is the provider's own token setting, which the program reads to
// push a build to Fly's registry.
const tokenKey = "flyio:token"

// Platform is the Fly backend as the registry (infra.Backends) knows it.
var Platform = stack.Platform{
	Name:     "fly",
	About:    "Fly.io",
	Settings: settings,
	Runbook:  "docs/fly.md#destroy",
	Inputs:   []stack.Input{{Key: tokenKey, Env: EnvToken}},
	// The apps (the app's own has no machine yet, so it serves nothing),
	// the database, whichever kind, and the image build.
	SwitchFirst: func(app string) []string {
		db := databaseApp(app)
		return []string{
			"**flyio:index:App::*", "**flyio:index:ManagedPostgres::*", "**flyio:index:Volume::*",
			"**flyio:index:AppSecrets::" + db + "-secrets", "**flyio:index:MachineGroup::" + db + "-machines",
			"**docker:index/image:Image::*",
		}
	},
	// The Fly token is the only credential of Fly's registry.
	OwnImage: func(ref string, values map[string]string) string {
		registry := cmp.Or(values["flyRegistry"], "registry.fly.io")
		if host, _, _ := strings.Cut(ref, "/"); host == registry {
			return "it is in Fly's registry (" + registry + "), which only Fly's machines can pull from"
		}
		return ""
	},
	Owns: func(string) []string {
		return []string{"**flyio:index:**", "**docker:index/image:Image::*", "**emothe:index:DestroyGuard::*"}
	},
	Load: func(r *stack.Reader, cfg *stack.Config) stack.Deployer {
		c := Read(r, cfg)
		if r.Failed() {
			return nil
		}
		return stack.Drive(cfg, &steps{plan: NewPlan(c), cfg: c})
	},
}

var settings = []stack.Setting{
	{Key: "primaryRegion", Kind: stack.KindString, Default: "mad", Description: "Fly primary region code (PRIMARY_REGION); the database and release command run here."},
	{Key: "regions", Kind: stack.KindArray, Default: "[]", Description: "Fly regions that run app machines. Defaults to the primary region alone."},
	{Key: "machinesPerRegion", Kind: stack.KindInteger, Default: "1", Description: "App machines in each region."},
	{Key: "cpuKind", Kind: stack.KindString, Default: "shared", Description: "Fly CPU kind: shared or performance."},
	{Key: "autostop", Kind: stack.KindString, Default: "stop", Description: "What Fly's proxy does with idle machines: off, stop or suspend."},
	{Key: "minMachinesRunning", Kind: stack.KindInteger, Default: "0", Description: "Machines kept running in the primary region when autostop is on."},
	{Key: "strategy", Kind: stack.KindString, Default: "rolling", Description: "Rollout strategy for new releases: rolling, bluegreen or immediate."},
	{Key: "maxUnavailable", Kind: stack.KindInteger, Default: "1", Description: "Rolling strategy: machines updated at once."},
	{Key: "dedicatedIpv4", Kind: stack.KindBoolean, Default: "false", Description: "Allocate a dedicated IPv4 instead of the shared one."},
	{Key: "database", Kind: stack.KindString, Default: "managed", Description: "Fly database: managed (Fly Managed Postgres) or machine (a single Postgres machine on its own app)."},
	{Key: "postgresPlan", Kind: stack.KindString, Default: "basic", Description: "Fly Managed Postgres plan: basic, starter, launch, scale or performance."},
	{Key: "postgresDiskGb", Kind: stack.KindInteger, Default: "10", Description: "Postgres disk size in GB."},
	{Key: "flyRegistry", Kind: stack.KindString, Default: "registry.fly.io", Description: "Fly: registry host the built image is pushed to, under the app's name. Keep Fly's own; another host (e.g. a local registry, 127.0.0.1:5000) is for tests against a fake Fly API."},
}

// Config is a Fly stack's configuration: the shared settings and Fly's own.
type Config struct {
	*stack.Config
	PrimaryRegion      string
	Regions            []string
	MachinesPerRegion  int
	CPUKind            string
	Autostop           string
	MinMachinesRunning int
	Strategy           string
	MaxUnavailable     int
	DedicatedIPv4      bool
	Database           string
	PostgresPlan       string
	PostgresDiskGB     int
	// Registry is the host a built image is pushed to.
	Registry string
	// Token pushes a built image to Fly's registry.
	Token stack.Secret
}

// Load reads raw as a Fly stack, for tests and tools.
func Load(raw stack.Raw) (Config, error) { return stack.LoadBackend(raw, Platform, Read) }

// Read reads and validates Fly's settings, recording every problem in r.
func Read(r *stack.Reader, cfg *stack.Config) Config {
	c := Config{Config: cfg}
	c.PrimaryRegion = region(r, "primaryRegion")
	c.Regions = regions(r, "regions", c.PrimaryRegion)
	c.MachinesPerRegion = r.Integer("machinesPerRegion", 1, 100)
	c.CPUKind = r.OneOf("cpuKind", "shared", "performance")
	c.Autostop = r.OneOf("autostop", "off", "stop", "suspend")
	c.MinMachinesRunning = r.Integer("minMachinesRunning", 0, 100)
	c.Strategy = r.OneOf("strategy", "rolling", "bluegreen", "immediate")
	c.MaxUnavailable = r.Integer("maxUnavailable", 1, 100)
	c.DedicatedIPv4 = r.Boolean("dedicatedIpv4")
	c.Database = r.OneOf("database", "managed", "machine")
	c.PostgresPlan = r.OneOf("postgresPlan", "basic", "starter", "launch", "scale", "performance")
	c.PostgresDiskGB = r.Integer("postgresDiskGb", 1, 500)
	c.Registry = registryHost(r, "flyRegistry")
	c.Token = stack.NewSecret(r.Input(tokenKey))
	crossCheck(r, c)
	return c
}

// crossCheck validates the rules between settings, each only when the
// settings it spans are good.
func crossCheck(r *stack.Reader, c Config) {
	checkMemory(r, c)
	if c.MinMachinesRunning > c.MachinesPerRegion && !r.Bad("minMachinesRunning", "machinesPerRegion") {
		r.Fail("minMachinesRunning", strconv.Itoa(c.MinMachinesRunning),
			fmt.Sprintf("exceeds the %d machine(s) per region", c.MachinesPerRegion),
			"lower emothe:minMachinesRunning or raise emothe:machinesPerRegion")
	}
	if c.Database == "machine" && !r.Bad("database") {
		r.Require("databasePassword", c.DatabasePassword, "the password of the Postgres machine")
		if db := databaseApp(c.AppName); len(db) > 63 && !r.Bad("appName") {
			r.Fail("appName", c.AppName, fmt.Sprintf("is too long for %s:database = machine: its Postgres runs on the app %q, over Fly's 63 characters", stack.Namespace, db),
				fmt.Sprintf("shorten %s:appName to at most 60 characters, or pulumi config set %s:database managed", stack.Namespace, stack.Namespace))
		}
	}
	if c.Image == "" && !c.Token.Set() && !r.Bad("image", "appName", "flyRegistry") {
		r.Missing("image", fmt.Sprintf("empty, so the image is built and pushed to %s, which needs a Fly token", buildName(c)),
			fmt.Sprintf("pulumi config set --secret %s \"$(fly tokens create deploy)\" --stack %s, or export %s; "+
				"or set a prebuilt image with pulumi config set %s:image %s/%s@sha256:<digest> --stack %s",
				tokenKey, r.Stack(), EnvToken, stack.Namespace, c.Registry, c.AppName, r.Stack()))
	}
}

// checkMemory checks Fly's sizing rules per CPU (shared: 256-2048 MB per
// CPU; performance: 2048-8192 MB per CPU); the loader checks the steps.
func checkMemory(r *stack.Reader, c Config) {
	if r.Bad("memoryMb", "cpus", "cpuKind") {
		return
	}
	lo, hi := 256*c.CPUs, 2048*c.CPUs
	if c.CPUKind == "performance" {
		lo, hi = 2048*c.CPUs, 8192*c.CPUs
	}
	if c.MemoryMB < lo || c.MemoryMB > hi {
		r.Fail("memoryMb", strconv.Itoa(c.MemoryMB), fmt.Sprintf("is outside %d-%d MB, the range for %d %s CPU(s)", lo, hi, c.CPUs, c.CPUKind),
			fmt.Sprintf("pulumi config set %s:memoryMb %d", stack.Namespace, lo))
	}
}

// registryHostRE is a registry's host[:port], without scheme or path.
var registryHostRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$`)

func registryHost(r *stack.Reader, key string) string {
	v := r.Get(key)
	if !registryHostRE.MatchString(v) || !strings.ContainsAny(v, ".:") {
		r.Fail(key, v, "is not a registry host[:port] (no scheme, no path)",
			fmt.Sprintf("pulumi config set %s:%s registry.fly.io", stack.Namespace, key))
	}
	return v
}

func region(r *stack.Reader, key string) string {
	v := strings.ToLower(r.Get(key))
	if !slices.Contains(Regions, v) {
		r.Fail(key, v, "is not a Fly region code", "use one of "+strings.Join(Regions, " "))
	}
	return v
}

// regions reads a JSON array of region codes; empty means the primary region.
func regions(r *stack.Reader, key, primary string) []string {
	v := r.Get(key)
	if v == "" || v == "[]" {
		return []string{primary}
	}
	var list []string
	if err := json.Unmarshal([]byte(v), &list); err != nil || len(list) == 0 {
		r.Fail(key, v, "is not a non-empty list of region codes",
			fmt.Sprintf("pulumi config set --path '%s:%s[0]' %s", stack.Namespace, key, cmp.Or(primary, "mad")))
		return nil
	}
	seen := map[string]bool{}
	for i, code := range list {
		code = strings.ToLower(code)
		list[i] = code
		if !slices.Contains(Regions, code) {
			r.Fail(key, v, fmt.Sprintf("names %q, which is not a Fly region code", code),
				"use codes from: "+strings.Join(Regions, " "))
		} else if seen[code] {
			r.Fail(key, v, fmt.Sprintf("lists %q twice", code), "list each region once")
		}
		seen[code] = true
	}
	return list
}

// Regions are the region codes Fly.io accepts for machines.
var Regions = []string{
	"ams", "arn", "atl", "bog", "bom", "bos", "cdg", "den", "dfw", "ewr", "eze", "fra", "gdl", "gig",
	"gru", "hkg", "iad", "jnb", "lax", "lhr", "mad", "mia", "nrt", "ord", "otp", "phx", "qro", "scl",
	"sea", "sin", "sjc", "syd", "waw", "yul", "yyz",
}
