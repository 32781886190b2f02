package machines

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/emothe/emothe/provider/fly"
	"github.com/emothe/emothe/provider/flyapi"
	"github.com/emothe/emothe/provider/flyfake"
)

// benchGroup is a fake Fly API holding app "web" and a client for it, with
// the client's polls at 10ms: the pace of a fake whose delays are
// hundreds of milliseconds.
type benchGroup struct {
	fake   *flyfake.Fake
	client fly.Client
}

func newBenchGroup(b *testing.B, opts flyfake.Options) *benchGroup {
	b.Helper()
	fake := flyfake.New(opts)
	srv := httptest.NewServer(fake)
	b.Cleanup(srv.Close)
	b.Cleanup(func() {
		if v := fake.Violations(); len(v) > 0 {
			b.Errorf("requests that break Fly's API spec: %v", v)
		}
	})
	client, err := fly.New(fly.Config{
		Token: fake.Token(), BaseURL: srv.URL, PollInterval: 10 * time.Millisecond, RetryInitialInterval: time.Millisecond,
	})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := client.CreateApp(b.Context(), flyapi.CreateAppRequest{Name: new("web"), OrgSlug: new("personal")}); err != nil {
		b.Fatal(err)
	}
	return &benchGroup{fake: fake, client: client}
}

// up converges the group to in, then lets the leases it took lapse.
func (g *benchGroup) up(b *testing.B, in Args) State {
	b.Helper()
	in = in.normalize()
	all, err := appMachines(context.Background(), g.client, in.App)
	if err != nil {
		b.Fatal(err)
	}
	s, err := converge(context.Background(), g.client, in, all, func(string, ...any) {})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

func benchArgs(image string, regions ...string) Args {
	return Args{
		App: "web", Regions: regions, CountPerRegion: 3,
		Strategy: &RolloutStrategy{Type: "rolling", MaxUnavailable: 2},
		Config: MachineConfig{
			Image:    image,
			Services: []MachineService{{InternalPort: 8080, Checks: []HealthCheck{{Type: "http", Path: "/healthz"}}}},
		},
	}
}

// BenchmarkRollingRollout rolls a new image to 6 machines, 2 at a time, with
// the fake's boot and health delays, and reports the time against the
// ideal ceil(N/maxUnavailable) × (boot + health) as `ratio` (goal ≤ 1.2).
func BenchmarkRollingRollout(b *testing.B) {
	const (
		boot, health   = 200 * time.Millisecond, 300 * time.Millisecond
		n              = 6
		maxUnavailable = 2
	)
	ideal := time.Duration((n+maxUnavailable-1)/maxUnavailable) * (boot + health)
	var total time.Duration
	for range b.N {
		b.StopTimer()
		g := newBenchGroup(b, flyfake.Options{BootDelay: boot, HealthDelay: health})
		g.up(b, benchArgs("nginx:1", "ams", "cdg"))
		b.StartTimer()
		start := time.Now()
		s := g.up(b, benchArgs("nginx:2", "ams", "cdg"))
		total += time.Since(start)
		if len(s.Machines) != n || s.Image != "nginx:2" {
			b.Fatalf("rollout ended with %d machines on %q", len(s.Machines), s.Image)
		}
	}
	b.ReportMetric(float64(total)/float64(b.N)/float64(ideal), "ratio")
	b.ReportMetric(ideal.Seconds(), "ideal-s")
}

// BenchmarkNoopUpdate updates a group to the config it already runs and
// reports the API writes it made (goal: zero) and its reads.
func BenchmarkNoopUpdate(b *testing.B) {
	g := newBenchGroup(b, flyfake.Options{})
	in := benchArgs("nginx:1", "ams", "cdg")
	g.up(b, in)
	g.fake.ResetCalls()
	b.ResetTimer()
	for range b.N {
		g.up(b, in)
	}
	calls := g.fake.Calls()
	b.ReportMetric(float64(calls.Writes)/float64(b.N), "writes")
	b.ReportMetric(float64(calls.Reads)/float64(b.N), "reads")
}

// BenchmarkRefresh reads a 6-machine group as `pulumi refresh` does and
// reports the API reads per machine (goal: at most 1).
func BenchmarkRefresh(b *testing.B) {
	g := newBenchGroup(b, flyfake.Options{})
	in := benchArgs("nginx:1", "ams", "cdg")
	s := g.up(b, in)
	g.fake.ResetCalls()
	b.ResetTimer()
	for range b.N {
		if _, found, err := read(context.Background(), g.client, "web", "app", s.Args); err != nil || !found {
			b.Fatalf("refresh: found %v, %v", found, err)
		}
	}
	calls := g.fake.Calls()
	b.ReportMetric(float64(calls.Reads)/float64(b.N)/float64(len(s.Machines)), "reads-per-machine")
	b.ReportMetric(float64(calls.Writes)/float64(b.N), "writes")
}
