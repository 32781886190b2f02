package switching

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// benchRows is how many plays the benchmark's stack holds.
const benchRows = 100_000

// BenchmarkSwitch measures `make switch` from Fly (the fake) to Compose
// (the real engine) of a stack holding 100,000 plays: the wall time, and
// the downtime, the seconds during which neither side served. Compose
// serves when its proxy answers /api/plays with every play. The fake's
// machines run no code, so Fly serves while the app has a started machine
// and its database answers. Both are probed every probeEvery; a probe that
// finds neither serving counts the time since the previous one.
func BenchmarkSwitch(b *testing.B) {
	for range b.N {
		b.StopTimer()
		w := newWorld(b, true)
		w.stack.Up(b)
		w.seed(b, benchRows)
		want := seeded + benchRows + 1
		p := w.probe(want)
		b.StartTimer()

		start := time.Now()
		out, err := w.switchTo(b, "compose", false)
		wall := time.Since(start)
		b.StopTimer()
		down := p.stop()
		require.NoError(b, err, out)
		all, _ := w.composePlays(b, marker)
		require.Equal(b, want, all)
		for line := range strings.Lines(out) {
			if strings.Contains(line, ": copied ") {
				b.Log(strings.TrimSpace(line))
			}
		}
		b.ReportMetric(wall.Seconds(), "s/switch")
		b.ReportMetric(down.Seconds(), "s-downtime")
		b.Logf("switch of %d plays: %s wall, %s without a serving backend (probed every %s); Compose served from %s, Fly until %s",
			want, wall.Round(time.Millisecond), down.Round(time.Millisecond), probeEvery, p.composeFrom.Sub(start).Round(time.Millisecond), p.flyUntil.Sub(start).Round(time.Millisecond))
	}
}

// probeEvery is the probes' period, the resolution of the downtime; an
// answer within probeWait counts as served (the machine is loaded: a slow
// answer is not an outage).
const (
	probeEvery = 100 * time.Millisecond
	probeWait  = time.Second
)

// prober probes both sides until stopped and adds up the periods in
// which neither served.
type prober struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	down   time.Duration
	// flyUntil is when Fly last served, composeFrom when Compose first did.
	flyUntil, composeFrom time.Time
}

func (w *world) probe(want int) *prober {
	ctx, cancel := context.WithCancel(context.Background())
	p := &prober{cancel: cancel}
	client := &http.Client{Timeout: probeWait}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		tick := time.NewTicker(probeEvery)
		defer tick.Stop()
		last := time.Now()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			fly, compose := w.flyServes(ctx), w.composeServes(client, want)
			now := time.Now()
			if fly {
				p.flyUntil = now
			}
			if compose && p.composeFrom.IsZero() {
				p.composeFrom = now
			}
			if !fly && !compose {
				p.down += now.Sub(last) // since the last probe, which may have been slow
			}
			last = now
		}
	}()
	return p
}

func (p *prober) stop() time.Duration {
	p.cancel()
	p.wg.Wait()
	return p.down
}

// flyServes: the app has a started machine, and its database answers.
func (w *world) flyServes(ctx context.Context) bool {
	started := false
	for _, a := range w.env.Fake.State().Apps {
		if a.Name == w.app && machines(a, "started") > 0 {
			started = true
		}
	}
	if !started {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, probeWait)
	defer cancel()
	conn, err := pgx.Connect(ctx, w.flyDSN())
	if err != nil {
		return false
	}
	defer conn.Close(context.Background())
	return conn.Ping(ctx) == nil
}

// composeServes: the proxy answers /api/plays with every play.
func (w *world) composeServes(client *http.Client, want int) bool {
	resp, err := client.Get(w.base + "/api/plays?limit=1")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var page struct{ Total int }
	return resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(&page) == nil && page.Total == want
}
