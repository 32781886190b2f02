package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"

	"github.com/emothe/emothe/provider/flyfake"
	"github.com/emothe/emothe/tests/e2e/harness"
)

// realisticFake has Fly's pace: 100 ms per API call, machines that take
// 2 s to boot and pass their checks 3 s after starting. (Managed Postgres
// is ready at once: its minutes of provisioning would drown the rest.)
var realisticFake = flyfake.Options{
	Latency:     100 * time.Millisecond,
	BootDelay:   2 * time.Second,
	HealthDelay: 3 * time.Second,
}

// idealRollout is the least a blue-green release to prod can take on that
// pace: the release command's machine boots and runs (2 × boot), the green
// machines boot and pass their checks side by side (boot + checks), then
// flyctl's two waits for the proxy (after uncordoning green, after
// cordoning blue), which MachineGroup keeps by default; API calls and the
// CLI count for nothing.
var idealRollout = 3*realisticFake.BootDelay + realisticFake.HealthDelay + 2*flyctlProxyWait

// flyctlProxyWait is flyctl's wait for its proxy in a blue-green
// deployment, MachineGroup's default waitBeforeCordon and waitBeforeStop.
const flyctlProxyWait = 10 * time.Second

// BenchmarkUp times `pulumi up` for the committed stacks against the
// realistic fake, and counts the Fly API calls it makes. From empty, it
// reports the stack's critical path (crit-s, see criticalPath) and the up's
// time as a multiple of it (x-crit).
func BenchmarkUp(b *testing.B) {
	for _, name := range []string{"dev", "prod"} {
		b.Run(name+"/from-empty", func(b *testing.B) {
			var (
				calls         callMeter
				path          *task
				total, engine time.Duration
			)
			for range b.N {
				b.StopTimer()
				env, s := openBench(b, name)
				if path == nil {
					path = criticalPath(planOf(b, s), realisticFake)
					b.Logf("critical path %.1fs: %s", path.done().Seconds(), strings.Join(path.chain(), " → "))
				}
				b.StartTimer()
				wall, eng := timedUp(b, s)
				b.StopTimer()
				total += wall
				engine += eng
				calls.add(env)
			}
			calls.report(b)
			b.ReportMetric(path.done().Seconds(), "crit-s")
			b.ReportMetric(total.Seconds()/float64(b.N)/path.done().Seconds(), "x-crit")
			b.ReportMetric(engine.Seconds()/float64(b.N)/path.done().Seconds(), "x-crit-cli")
		})
		b.Run(name+"/no-op", func(b *testing.B) {
			var calls callMeter
			for range b.N {
				b.StopTimer()
				env, s := openBench(b, name)
				s.Up(b)
				env.Fake.ResetCalls()
				b.StartTimer()
				s.Up(b)
				b.StopTimer()
				calls.add(env)
			}
			calls.report(b)
		})
	}
	b.Run("prod/image-rollout", func(b *testing.B) {
		var calls callMeter
		var total, engine time.Duration
		for range b.N {
			b.StopTimer()
			env, s := openBench(b, "prod")
			s.Up(b)
			s.SetConfig(b, auto.ConfigMap{"emothe:image": {Value: image2}})
			env.Fake.ResetCalls()
			b.StartTimer()
			wall, eng := timedUp(b, s)
			b.StopTimer()
			total += wall
			engine += eng
			calls.add(env)
		}
		calls.report(b)
		b.ReportMetric(idealRollout.Seconds(), "ideal-s")
		b.ReportMetric(total.Seconds()/float64(b.N)/idealRollout.Seconds(), "x-ideal")
		b.ReportMetric(engine.Seconds()/float64(b.N)/idealRollout.Seconds(), "x-ideal-cli")
	})
}

// timedUp runs s's up through the Automation API, as `make up` does, and
// returns its wall time and the part of it until the engine's summary
// event. The rest (about 1 s) is the Automation API reading the stack's
// outputs and its last update back through two more CLI runs, which
// `pulumi up` on the command line does not do.
func timedUp(b *testing.B, s *harness.Stack) (wall, engine time.Duration) {
	b.Helper()
	ch := make(chan events.EngineEvent)
	summary := make(chan time.Time, 1)
	go func() {
		for ev := range ch { // closed by the Automation API
			if ev.SummaryEvent != nil {
				summary <- time.Now()
			}
		}
		close(summary)
	}()
	start := time.Now()
	if _, err := s.TryUp(b, optup.EventStreams(ch)); err != nil {
		b.Fatalf("up %s: %v", s.Name, err)
	}
	wall = time.Since(start)
	at, ok := <-summary
	if !ok {
		b.Fatalf("up %s: the engine sent no summary event", s.Name)
	}
	return wall, at.Sub(start)
}

// BenchmarkRecovery times what `make up` runs after the `pulumi` (and its
// plugin) of a prod image rollout was killed with the green machines
// booting: the recovery, then the up that finishes the rollout. Compare it
// with BenchmarkUp/prod/image-rollout, a rollout that was not interrupted.
func BenchmarkRecovery(b *testing.B) {
	var calls callMeter
	for range b.N {
		b.StopTimer()
		env, s := openBench(b, "prod")
		s.Up(b)
		killedBluegreen(b, env, s, len(live(appOf(b, env.State(b), s.App), groupApp)))
		env.Fake.ResetCalls()
		b.StartTimer()
		recoverAndUp(b, env, s)
		b.StopTimer()
		calls.add(env)
	}
	calls.report(b)
}

func openBench(b *testing.B, name string) (*harness.Env, *harness.Stack) {
	b.Helper()
	env := harness.New(b, realisticFake)
	return env, env.Stack(b, name, map[string]string{"emothe:image": image1}, newSecrets().config())
}

// callMeter adds up the Fly API calls of the timed operations.
type callMeter struct{ reads, writes int }

func (m *callMeter) add(env *harness.Env) {
	c := env.Fake.Calls()
	m.reads += c.Reads
	m.writes += c.Writes
}

func (m *callMeter) report(b *testing.B) {
	b.ReportMetric(float64(m.reads)/float64(b.N), "reads/op")
	b.ReportMetric(float64(m.writes)/float64(b.N), "writes/op")
}
