package machines

import (
	"context"
	"testing"

	"github.com/pulumi/pulumi-go-provider/infer"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// inputs turns a Go map into the provider's input map.
func inputs(m map[string]any) property.Map {
	return resource.FromResourcePropertyValue(resource.NewProperty(resource.NewPropertyMapFromMap(m))).AsMap()
}

func validInputs() map[string]any {
	return map[string]any{
		"app":     "my-app",
		"regions": []any{"ams"},
		"config": map[string]any{
			"image": "nginx:1",
			"services": []any{map[string]any{
				"internalPort": 80,
				"ports":        []any{map[string]any{"port": 443, "handlers": []any{"http", "tls"}}},
				"checks":       []any{map[string]any{"type": "http", "path": "/healthz"}},
			}},
		},
	}
}

func runCheck(t *testing.T, in property.Map) infer.CheckResponse[Args] {
	t.Helper()
	resp, err := (&MachineGroup{}).Check(context.Background(), infer.CheckRequest{NewInputs: in})
	require.NoError(t, err)
	return resp
}

func TestCheckAcceptsAndNormalizes(t *testing.T) {
	resp := runCheck(t, inputs(validInputs()))
	require.Empty(t, resp.Failures)
	assert.Equal(t, "app", resp.Inputs.ProcessGroup)
	assert.Equal(t, "ams", resp.Inputs.PrimaryRegion)
	assert.Equal(t, 256, resp.Inputs.Config.Guest.MemoryMB)
	assert.Equal(t, 80, resp.Inputs.Config.Services[0].Checks[0].Port)
}

func TestCheckRejects(t *testing.T) {
	config := func(in map[string]any) map[string]any { return in["config"].(map[string]any) }
	tests := []struct {
		name   string
		change func(in map[string]any)
		prop   string
		reason string
	}{
		{"memory not a multiple of 256", func(in map[string]any) {
			config(in)["guest"] = map[string]any{"memoryMb": 300}
		}, "config.guest.memoryMb", "300 is not a multiple of 256"},
		{"memory too small for performance CPUs", func(in map[string]any) {
			config(in)["guest"] = map[string]any{"cpuKind": "performance", "cpus": 2, "memoryMb": 1024}
		}, "config.guest.memoryMb", "use 4096 to 16384"},
		{"odd CPU count", func(in map[string]any) {
			config(in)["guest"] = map[string]any{"cpus": 3}
		}, "config.guest.cpus", "3 is not a Fly CPU count"},
		{"unknown strategy", func(in map[string]any) {
			in["strategy"] = map[string]any{"type": "canary"}
		}, "strategy.type", `"canary" is not supported`},
		{"maxUnavailable below one", func(in map[string]any) {
			in["strategy"] = map[string]any{"maxUnavailable": -1}
		}, "strategy.maxUnavailable", "-1 is out of range"},
		{"bluegreen without health checks", func(in map[string]any) {
			in["strategy"] = map[string]any{"type": "bluegreen"}
			config(in)["services"] = []any{map[string]any{"internalPort": 80}}
		}, "strategy.type", "bluegreen needs at least one health check"},
		{"bluegreen with a volume", func(in map[string]any) {
			in["strategy"] = map[string]any{"type": "bluegreen"}
			config(in)["mounts"] = []any{map[string]any{"volume": "data", "path": "/data"}}
		}, "strategy.type", "bluegreen cannot run with config.mounts"},
		{"two mounts", func(in map[string]any) {
			config(in)["mounts"] = []any{
				map[string]any{"volume": "a", "path": "/a"}, map[string]any{"volume": "b", "path": "/b"},
			}
		}, "config.mounts", "at most one volume"},
		{"volume ID instead of name", func(in map[string]any) {
			config(in)["mounts"] = []any{map[string]any{"volume": "vol-123", "path": "/data"}}
		}, "config.mounts[0].volume", `"vol-123" is not a volume name`},
		{"bad region", func(in map[string]any) { in["regions"] = []any{"amsterdam"} }, "regions[0]", "not a Fly region code"},
		{"duplicate region", func(in map[string]any) { in["regions"] = []any{"ams", "ams"} }, "regions[1]", "listed twice"},
		{"no regions", func(in map[string]any) { in["regions"] = []any{} }, "regions", "is empty"},
		{"zero count", func(in map[string]any) { in["countPerRegion"] = 0 }, "countPerRegion", "0 is out of range"},
		{"autostop", func(in map[string]any) {
			config(in)["services"] = []any{map[string]any{"internalPort": 80, "autostop": "yes"}}
		}, "config.services[0].autostop", `"yes" is not supported`},
		{"check type", func(in map[string]any) {
			config(in)["checks"] = map[string]any{"db": map[string]any{"type": "grpc", "port": 5432}}
		}, "config.checks.db.type", `"grpc" is not supported`},
		{"machine check without port", func(in map[string]any) {
			config(in)["checks"] = map[string]any{"alive": map[string]any{"type": "tcp"}}
		}, "config.checks.alive.port", "is required for machine-level checks"},
		{"machine check interval too short", func(in map[string]any) {
			config(in)["checks"] = map[string]any{"alive": map[string]any{"type": "tcp", "port": 80, "interval": "1s"}}
		}, "config.checks.alive.interval", "use at least 2s"},
		{"bad duration", func(in map[string]any) { in["waitTimeout"] = "five minutes" }, "waitTimeout", "is not a duration"},
		{"negative bluegreen wait", func(in map[string]any) {
			in["strategy"] = map[string]any{"waitBeforeStop": "-5s"}
		}, "strategy.waitBeforeStop", `"-5s" is negative: use "0s" for no wait`},
		{"release command guest", func(in map[string]any) {
			in["releaseCommandGuest"] = map[string]any{"cpus": 2, "memoryMb": 256}
		}, "releaseCommandGuest.memoryMb", "256 is out of range for 2 shared CPU(s): use 512 to 4096"},
		{"release command with an open quote", func(in map[string]any) {
			in["releaseCommand"] = []any{`/app/emothe migrate "--to`}
		}, "releaseCommand", "cannot be split into words"},
		{"env sets what the group sets", func(in map[string]any) {
			config(in)["env"] = map[string]any{"PRIMARY_REGION": "cdg"}
		}, "config.env.PRIMARY_REGION", "is set by the group"},
		{"restart policy", func(in map[string]any) {
			config(in)["restart"] = map[string]any{"policy": "sometimes"}
		}, "config.restart.policy", `"sometimes" is not supported`},
		{"stop signal", func(in map[string]any) {
			config(in)["stopConfig"] = map[string]any{"signal": "TERM"}
		}, "config.stopConfig.signal", `"TERM" is not supported`},
		{"reserved process group", func(in map[string]any) {
			in["processGroup"] = "fly_app_release_command"
		}, "processGroup", "reserved by Fly"},
		{"empty image", func(in map[string]any) { config(in)["image"] = "" }, "config.image", "is not an image reference"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := validInputs()
			tt.change(in)
			resp := runCheck(t, inputs(in))
			require.NotEmpty(t, resp.Failures, "want a failure on %s", tt.prop)
			var reasons []string
			for _, f := range resp.Failures {
				if f.Property == tt.prop {
					assert.Contains(t, f.Reason, tt.reason)
					assert.Contains(t, f.Reason, tt.prop, "the reason names the field")
					return
				}
				reasons = append(reasons, f.Property+": "+f.Reason)
			}
			t.Fatalf("no failure on %s; got %q", tt.prop, reasons)
		})
	}
}

func TestCheckRejectsSecretEnv(t *testing.T) {
	in := inputs(validInputs())
	cfg := in.Get("config").AsMap()
	cfg = cfg.Set("env", property.New(property.NewMap(map[string]property.Value{
		"PLAIN":        property.New("x"),
		"DATABASE_URL": property.New("postgres://u:p@h/db").WithSecret(true),
	})))
	in = in.Set("config", property.New(cfg))
	resp := runCheck(t, in)
	require.Len(t, resp.Failures, 1)
	assert.Equal(t, "config.env.DATABASE_URL", resp.Failures[0].Property)
	assert.Contains(t, resp.Failures[0].Reason, "AppSecrets")
	assert.NotContains(t, resp.Failures[0].Reason, "postgres://", "the secret never shows")
}

// During a preview another resource's outputs are unknown; they decode as
// zero values and must not fail Check.
func TestCheckSkipsUnknowns(t *testing.T) {
	in := inputs(validInputs())
	cfg := in.Get("config").AsMap().Set("image", property.New(property.Computed))
	in = in.Set("config", property.New(cfg)).
		Set("regions", property.New(property.Computed)).
		Set("minSecretsVersion", property.New(property.Computed))
	resp := runCheck(t, in)
	assert.Empty(t, resp.Failures)
}
