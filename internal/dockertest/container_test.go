package dockertest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestWaitHealthy(t *testing.T) {
	RequireEngine(t)
	img := BuilderImage(t)
	fast := []string{"--health-interval", "100ms", "--health-retries", "1"}
	cases := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"healthy", append(fast, "--health-cmd", "true", img, "sleep", "30"), ""},
		{"unhealthy", append(fast, "--health-cmd", "false", img, "sleep", "30"), "health is unhealthy"},
		{"exited", append(fast, "--health-cmd", "true", img, "true"), ErrExited.Error()},
		{"no healthcheck", []string{img, "sleep", "30"}, "health is none"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err := Run(t, tc.args...).WaitHealthy(ctx)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("want healthy, got %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("want an error containing %q, got %v", tc.wantErr, err)
			case errors.Is(err, context.DeadlineExceeded):
				t.Fatalf("waited out the deadline instead of failing early: %v", err)
			}
		})
	}
}
