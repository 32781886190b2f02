package dockertest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// ErrExited reports that a container stopped while it was being waited for.
var ErrExited = errors.New("container exited")

// Container is a running container that the test owns.
type Container struct {
	ID      string
	removed bool
}

// Run starts `docker run --detach args...` and removes the container, with
// its anonymous volumes, when the test ends; if the test failed, the
// container's logs are logged first.
func Run(tb testing.TB, args ...string) *Container {
	tb.Helper()
	id, err := Docker(context.Background(), append([]string{"run", "--detach"}, args...)...)
	if err != nil {
		tb.Fatal(err)
	}
	c := &Container{ID: id}
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("logs of container %.12s:\n%s", c.ID, c.Logs())
		}
		if err := c.Remove(context.Background()); err != nil {
			tb.Error(err)
		}
	})
	return c
}

// Remove stops and removes the container before the test ends, for loops
// that start many; removing it again does nothing.
func (c *Container) Remove(ctx context.Context) error {
	if c.removed {
		return nil
	}
	if _, err := Docker(ctx, "rm", "--force", "--volumes", c.ID); err != nil {
		return fmt.Errorf("remove container: %w", err)
	}
	c.removed = true
	return nil
}

// Logs is what the container printed on both streams, or why they can't be read.
func (c *Container) Logs() string {
	// docker logs replays the container's stderr on its own stderr, so the
	// CLI is run here with both streams combined rather than through Docker.
	out, err := combined(context.Background(), "logs", c.ID)
	if err != nil {
		return fmt.Sprintf("(no logs: %v)", err)
	}
	return out
}

// WaitHealthy polls the container's HEALTHCHECK status until it is healthy.
// It fails early when the status turns unhealthy or the container stops, and
// otherwise when ctx ends.
func (c *Container) WaitHealthy(ctx context.Context) error {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	last := "unknown"
	for {
		out, err := Docker(ctx, "inspect", "--format", "{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}", c.ID)
		if err != nil {
			return fmt.Errorf("health of %.12s (last %q): %w", c.ID, last, err)
		}
		state, health, _ := strings.Cut(out, " ")
		last = health
		switch {
		case state != "running":
			return fmt.Errorf("%.12s is %s: %w", c.ID, state, ErrExited)
		case last == "healthy":
			return nil
		case last == "unhealthy" || last == "none":
			return fmt.Errorf("%.12s health is %s, want healthy", c.ID, last)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("health of %.12s still %q: %w", c.ID, last, ctx.Err())
		case <-tick.C:
		}
	}
}
