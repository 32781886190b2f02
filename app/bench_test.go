package main

import (
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkAPIPlays measures /api/plays against real Postgres with 32
// concurrent keep-alive connections. One op is one request, so the run is
// bounded by -benchtime; it reports throughput and p99 latency.
func BenchmarkAPIPlays(b *testing.B) {
	const conns = 32
	a := startApp(b, migrated(b), nil)
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: conns, MaxIdleConnsPerHost: conns}}
	url := a.url + "/api/plays?limit=10&offset=0"
	get := func() (int, error) {
		resp, err := client.Get(url)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		_, err = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, err
	}
	if status, err := get(); err != nil || status != 200 {
		b.Fatalf("warm-up request: %d %v", status, err)
	}

	latencies := make([]time.Duration, b.N)
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range conns {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(b.N); i = next.Add(1) - 1 {
				t0 := time.Now()
				status, err := get()
				latencies[i] = time.Since(t0)
				if err != nil || status != 200 {
					b.Errorf("request %d: %d %v", i, status, err)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()

	slices.Sort(latencies)
	p99 := latencies[(len(latencies)*99+99)/100-1] // nearest-rank percentile
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
}
