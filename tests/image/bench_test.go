package image

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/emothe/emothe/internal/dockertest"
)

// BenchmarkStartToReady times a fresh container from `docker run` to its
// first 200 from /readyz, against an already migrated database, and reports
// the image size alongside.
func BenchmarkStartToReady(b *testing.B) {
	svc := migrated(b)
	var total time.Duration
	for b.Loop() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		start := time.Now()
		c, base := svc.serve(b)
		if err := dockertest.WaitHTTP(ctx, base+"/readyz", http.StatusOK); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
		cancel()
		if err := c.Remove(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	// After the loop: b.Loop's first call deletes metrics reported before it.
	b.ReportMetric(total.Seconds()*1000/float64(b.N), "ms-to-ready")
	b.ReportMetric(float64(dockertest.ImageSize(b, svc.image))/1e6, "MB")
}
