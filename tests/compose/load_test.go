package compose

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/emothe/emothe/internal/dockertest"
)

// loadTimeout is how long a request of the load may go unanswered before
// it counts as hung, and failed. It detects a stuck proxy or app, and is no
// latency target: those are the benchmarks' (BenchmarkImageUpdateUnderLoad
// reports p99 and max). A host short of CPU for a while queues requests,
// and at 15 s a queue on a saturated CI machine once failed a quarter of
// them; a real outage still fails fast, as the proxy answers 502 once
// lb_try_duration has passed with no replica reachable.
const loadTimeout = time.Minute

// load sends GET url at a steady rate until finish, counting the requests
// that did not get a 200 with plays in it within loadTimeout, and keeping
// every request's latency so a failure says whether the service stalled or
// answered wrong.
type load struct {
	url    string
	client *http.Client
	start  time.Time
	stop   chan struct{}
	done   sync.WaitGroup
	sent   atomic.Int64

	mu           sync.Mutex
	failed       int64
	firstFailure string
	latencies    []time.Duration
	failedAt     []time.Duration // when each failed request was sent, from the start
	slowest      time.Duration
	slowestAt    time.Duration // when the slowest request was sent, from the start
}

func startLoad(url string, perSecond int) *load {
	l := &load{
		url:    url,
		client: &http.Client{Timeout: loadTimeout, Transport: &http.Transport{MaxIdleConnsPerHost: perSecond}},
		start:  time.Now(),
		stop:   make(chan struct{}),
	}
	l.done.Add(1)
	go func() {
		defer l.done.Done()
		tick := time.NewTicker(time.Second / time.Duration(perSecond))
		defer tick.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-tick.C:
				l.sent.Add(1)
				l.done.Add(1)
				go func() {
					defer l.done.Done()
					sent := time.Now()
					err := l.get()
					l.record(sent, time.Since(sent), err)
				}()
			}
		}
	}()
	return l
}

func (l *load) get() error {
	resp, err := l.client.Get(l.url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("read the body: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %.200s", resp.Status, body)
	}
	if n, err := countPlays(body); err != nil || n == 0 {
		return fmt.Errorf("%s with %d plays (%v): %.200s", resp.Status, n, err, body)
	}
	return nil
}

func (l *load) record(sent time.Time, took time.Duration, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if took > l.slowest {
		l.slowest, l.slowestAt = took, sent.Sub(l.start)
	}
	l.latencies = append(l.latencies, took)
	if err == nil {
		return
	}
	l.failed++
	l.failedAt = append(l.failedAt, sent.Sub(l.start))
	if l.firstFailure == "" {
		l.firstFailure = fmt.Sprintf("%v (sent at %s, after %s)", err, sent.Sub(l.start).Round(time.Millisecond), took.Round(time.Millisecond))
	}
}

// loadReport is what a load saw: the requests sent and failed, the first
// failure, and the latencies.
type loadReport struct {
	sent, failed  int64
	first         string
	p50, p99, max time.Duration
	slowestAt     time.Duration
	outages       []outage
	start         time.Time
}

// outage is a stretch of failed requests, by when they were sent: failures
// less than outageGap apart belong to one stretch.
type outage struct {
	from, to time.Duration
	failed   int
}

const outageGap = 2 * time.Second

func (o outage) String() string {
	return fmt.Sprintf("%d failed, sent from %s to %s", o.failed, o.from.Round(100*time.Millisecond), o.to.Round(100*time.Millisecond))
}

// outages groups the send times of failed requests, in order, into
// stretches, so a report tells one long stall from scattered failures.
func outages(failedAt []time.Duration) []outage {
	var out []outage
	for _, at := range failedAt {
		if n := len(out); n > 0 && at-out[n-1].to < outageGap {
			out[n-1].to = at
			out[n-1].failed++
			continue
		}
		out = append(out, outage{from: at, to: at, failed: 1})
	}
	return out
}

func (r loadReport) String() string {
	return fmt.Sprintf("%d requests, %d failed; latency p50 %s, p99 %s, max %s (sent at %s)",
		r.sent, r.failed, r.p50.Round(time.Millisecond), r.p99.Round(time.Millisecond),
		r.max.Round(time.Millisecond), r.slowestAt.Round(time.Millisecond))
}

// elapsed is the time since the load started, to place a step among the
// report's outages.
func (l *load) elapsed() time.Duration { return time.Since(l.start).Round(100 * time.Millisecond) }

// finish stops sending, waits for the requests in flight and reports.
func (l *load) finish() loadReport {
	close(l.stop)
	l.done.Wait()
	l.client.CloseIdleConnections()
	l.mu.Lock()
	defer l.mu.Unlock()
	slices.Sort(l.failedAt)
	r := loadReport{
		sent: l.sent.Load(), failed: l.failed, first: l.firstFailure, slowestAt: l.slowestAt,
		outages: outages(l.failedAt), start: l.start,
	}
	if n := len(l.latencies); n > 0 {
		slices.Sort(l.latencies)
		r.p50, r.p99, r.max = l.latencies[n/2], l.latencies[n*99/100], l.latencies[n-1]
	}
	return r
}

// assertNoFailures logs what the load during saw and marks the test failed if a
// request failed. It then says where the requests were lost: the stretches
// of failures, the errors the proxy logged (by message, with when each was
// first and last seen, from the load's start) and the project's containers.
func (p project) assertNoFailures(t testing.TB, during string, r loadReport) {
	t.Helper()
	t.Logf("%s: %s", during, r)
	assert.Positive(t, r.sent)
	if r.failed == 0 {
		return
	}
	for _, o := range r.outages {
		t.Logf("outage: %s", o)
	}
	t.Logf("the proxy's errors:\n%s", proxyErrors((&dockertest.Container{ID: p.name + "-proxy-1"}).Logs(), r.start))
	if ps, err := dockertest.Docker(context.Background(), "ps", "--all", "--filter", p.filter(),
		"--format", "{{.Names}}\t{{.Image}}\t{{.Status}}"); err == nil {
		t.Logf("the project's containers:\n%s", ps)
	}
	assert.Zero(t, r.failed, "first failure: %s", r.first)
}

// proxyErrors sums up the entries above info level in Caddy's JSON log:
// one line per message, with its count and when it was first and last
// logged, from start.
func proxyErrors(log string, start time.Time) string {
	type seen struct {
		n           int
		first, last time.Duration
	}
	var order []string
	by := map[string]*seen{}
	for line := range strings.Lines(log) {
		var e struct {
			Level, Logger, Msg string
			Ts                 float64
			Error              string
		}
		if json.Unmarshal([]byte(line), &e) != nil || e.Level == "info" || e.Level == "debug" {
			continue
		}
		key := fmt.Sprintf("%s %s: %s", e.Level, e.Logger, e.Msg)
		if e.Error != "" {
			key += ": " + e.Error
		}
		at := time.Unix(0, int64(e.Ts*1e9)).Sub(start).Round(100 * time.Millisecond)
		if s, ok := by[key]; ok {
			s.n++
			s.last = at
			continue
		}
		by[key] = &seen{n: 1, first: at, last: at}
		order = append(order, key)
	}
	var b strings.Builder
	for _, k := range order {
		s := by[k]
		fmt.Fprintf(&b, "%dx from %s to %s: %.300s\n", s.n, s.first, s.last, k)
	}
	if b.Len() == 0 {
		return "(none)"
	}
	return b.String()
}
