package compose

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// loadTimeout is how long a request of the load may take before it counts
// as failed. It also bounds the requests in flight to loadRate × loadTimeout.
const loadTimeout = 15 * time.Second

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
}

func (r loadReport) String() string {
	return fmt.Sprintf("%d requests, %d failed; latency p50 %s, p99 %s, max %s (sent at %s)",
		r.sent, r.failed, r.p50.Round(time.Millisecond), r.p99.Round(time.Millisecond),
		r.max.Round(time.Millisecond), r.slowestAt.Round(time.Millisecond))
}

// finish stops sending, waits for the requests in flight and reports.
func (l *load) finish() loadReport {
	close(l.stop)
	l.done.Wait()
	l.client.CloseIdleConnections()
	l.mu.Lock()
	defer l.mu.Unlock()
	r := loadReport{sent: l.sent.Load(), failed: l.failed, first: l.firstFailure, slowestAt: l.slowestAt}
	if n := len(l.latencies); n > 0 {
		slices.Sort(l.latencies)
		r.p50, r.p99, r.max = l.latencies[n/2], l.latencies[n*99/100], l.latencies[n-1]
	}
	return r
}
