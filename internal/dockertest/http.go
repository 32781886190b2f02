package dockertest

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// WaitHTTP polls url with GET until it answers with status want. It polls
// often (every 10ms) because benchmarks time start-up with it.
func WaitHTTP(ctx context.Context, url string, want int) error {
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	last := "no answer yet"
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return fmt.Errorf("wait for %s: %w", url, err)
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == want {
				return nil
			}
			last = resp.Status
		} else if ctx.Err() == nil {
			// Past the deadline every error is the deadline; keep the answer before it.
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s did not answer %d (last: %s): %w", url, want, last, ctx.Err())
		case <-tick.C:
		}
	}
}
