package fly

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/emothe/emothe/provider/flyapi"
)

// notFoundGrace is how long WaitState keeps asking about a machine Fly does
// not know yet: a wait right after a create can race the create.
const notFoundGrace = 10 * time.Second

// runningSlice bounds one wait for "started": a machine that exits instead is
// noticed within it. Three seconds keeps that prompt at one cheap read per
// slice, well inside Fly's per-machine rate limits.
const runningSlice = 3 * time.Second

// WaitState loops over Fly's wait endpoint, which blocks at most 60 seconds
// and answers 408 when the state was not reached. While awaiting "started"
// each call is kept to runningSlice and every 408 is followed by a look at
// the machine, so a machine that stopped, failed or was destroyed ends the
// wait with *MachineExitedError within seconds instead of at the timeout.
// (The spec's wait takes one state, so "started or exited" cannot be asked.)
func (c *APIClient) WaitState(ctx context.Context, app, id, version string, timeout time.Duration, states ...string) error {
	if len(states) == 0 {
		states = []string{"started"}
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	want := strings.Join(states, ",")
	running := slices.Contains(states, "started")
	slice := 60 * time.Second
	if running {
		slice = runningSlice
	}
	timedOut := func(err error) error {
		return fmt.Errorf("machine %s did not reach state %s in time (timeout %s): %w", id, want, timeout, late(ctx, err))
	}
	rep := newReporter(ctx)
	retry := c.backOff()
	notFoundUntil := time.Now().Add(notFoundGrace)
	for {
		asked := time.Now()
		params := flyapi.MachinesWaitParams{State: new(flyapi.MachinesWaitParamsState(want)), Timeout: new(waitSeconds(ctx, slice))}
		if version != "" {
			params.Version = &version
		}
		err := c.do(ctx, call{
			send:  func(ctx context.Context) (*http.Response, error) { return c.api.MachinesWait(ctx, app, id, &params) },
			final: []int{http.StatusRequestTimeout, http.StatusNotFound},
		})
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil:
			return timedOut(err)
		case hasStatus(err, http.StatusNotFound) && slices.Contains(states, "destroyed"):
			return nil
		case hasStatus(err, http.StatusNotFound) && time.Now().Before(notFoundUntil):
			if err := sleep(ctx, retry.NextBackOff()); err != nil {
				return timedOut(err)
			}
		case hasStatus(err, http.StatusRequestTimeout):
			rep.printf("machine %s: waiting for state %s", id, want)
			if running {
				if err := c.checkExited(ctx, app, id, version); err != nil {
					if ctx.Err() != nil {
						return timedOut(err)
					}
					return err
				}
			}
			// Fly blocks before a 408; one that comes back at once must not
			// turn this loop into a flood.
			if err := sleep(ctx, c.pollInterval-time.Since(asked)); err != nil {
				return timedOut(err)
			}
		default:
			return err
		}
	}
}

// late explains an error that came as ctx ended: the context's error, plus
// the last answer when that is something else.
func late(ctx context.Context, err error) error {
	if errors.Is(err, ctx.Err()) {
		return err
	}
	return fmt.Errorf("%w; last answer: %w", context.Cause(ctx), err)
}

// waitSeconds is the wait endpoint's timeout: the time left, within [1s, limit].
func waitSeconds(ctx context.Context, limit time.Duration) int {
	if d, ok := ctx.Deadline(); ok {
		limit = min(time.Until(d), limit)
	}
	return max(int(limit/time.Second), 1)
}

// checkExited returns *MachineExitedError when the machine (at version, if
// given) is stopped, failed or destroyed. A machine still at another version
// is mid-update, which proves nothing yet.
func (c *APIClient) checkExited(ctx context.Context, app, id, version string) error {
	m, err := c.getMachine(ctx, app, id)
	switch {
	case errors.Is(err, ErrNotFound):
		return &MachineExitedError{ID: id, State: "destroyed", ExitCode: -1}
	case err != nil:
		return err
	case version != "" && str(m.InstanceId) != version:
		return nil
	}
	switch str(m.State) {
	case "stopped", "failed", "destroyed":
		return exitedError(id, m)
	}
	return nil
}

// leftStarted lists the states a machine is in once it is no longer running.
var leftStarted = []string{"stopping", "stopped", "failed", "suspending", "suspended", "destroying", "destroyed"}

// WaitHealthy polls the machine until it has at least one check and all are
// passing. Fly's compat checks (bg_deployments_compat*) are ignored.
func (c *APIClient) WaitHealthy(ctx context.Context, app, id string, timeout time.Duration) (flyapi.Machine, error) {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	rep := newReporter(ctx)
	tick := time.NewTicker(c.pollInterval)
	defer tick.Stop()
	var checks []flyapi.CheckStatus
	for {
		m, err := c.getMachine(ctx, app, id)
		switch {
		case errors.Is(err, ErrNotFound):
			return m, &MachineExitedError{ID: id, State: "destroyed", ExitCode: -1}
		case err != nil && ctx.Err() != nil:
			return m, unhealthyError(id, timeout, checks, late(ctx, err))
		case err != nil:
			return m, err
		case slices.Contains(leftStarted, str(m.State)):
			return m, exitedError(id, m)
		}
		checks = healthChecks(m)
		passing := 0
		for _, ch := range checks {
			if str(ch.Status) == "passing" {
				passing++
			}
		}
		if len(checks) > 0 && passing == len(checks) {
			return m, nil
		}
		rep.printf("machine %s (%s): waiting for health checks, %d/%d passing", id, str(m.Region), passing, len(checks))
		select {
		case <-ctx.Done():
			return m, unhealthyError(id, timeout, checks, context.Cause(ctx))
		case <-tick.C:
		}
	}
}

// healthChecks drops the checks flaps injects for its own deployments.
func healthChecks(m flyapi.Machine) []flyapi.CheckStatus {
	if m.Checks == nil {
		return nil
	}
	return slices.DeleteFunc(slices.Clone(*m.Checks), func(ch flyapi.CheckStatus) bool {
		return strings.HasPrefix(str(ch.Name), "bg_deployments_compat")
	})
}

func unhealthyError(id string, timeout time.Duration, checks []flyapi.CheckStatus, cause error) error {
	if len(checks) == 0 {
		return fmt.Errorf("machine %s reported no health checks within %s; only wait for health on machines whose config has checks: %w",
			id, timeout, cause)
	}
	lines := make([]string, len(checks))
	for i, ch := range checks {
		out := strings.Join(strings.Fields(str(ch.Output)), " ")
		if len(out) > 200 {
			out = out[:200] + "…"
		}
		lines[i] = fmt.Sprintf("%s: %s: %s", str(ch.Name), str(ch.Status), out)
	}
	return fmt.Errorf("machine %s health checks not all passing within %s [%s]: %w", id, timeout, strings.Join(lines, "; "), cause)
}

func exitedError(id string, m flyapi.Machine) *MachineExitedError {
	e := &MachineExitedError{ID: id, State: str(m.State), ExitCode: -1}
	if m.Events != nil {
		e.ExitCode, e.OOMKilled = lastExit(*m.Events)
	}
	return e
}

// lastExit reads the exit of the main process's last run: the latest exit
// event after the last start event. The code sits in request.exit_event or,
// from older hosts, request.MonitorEvent.exit_event; an exit_event without
// exit_code is a 0, and -1 means no exit event at all.
func lastExit(events []flyapi.MachineEvent) (code int, oom bool) {
	start := -1
	for _, e := range events {
		if str(e.Type) == "start" && e.Timestamp != nil && *e.Timestamp > start {
			start = *e.Timestamp
		}
	}
	code, latest := -1, -1
	for _, e := range events {
		if str(e.Type) != "exit" || e.Timestamp == nil || *e.Timestamp < start || *e.Timestamp <= latest || e.Request == nil {
			continue
		}
		raw, err := json.Marshal(*e.Request)
		if err != nil {
			continue
		}
		var req struct {
			ExitEvent    *exitEvent `json:"exit_event"`
			MonitorEvent struct {
				ExitEvent *exitEvent `json:"exit_event"`
			} `json:"MonitorEvent"`
		}
		if json.Unmarshal(raw, &req) != nil {
			continue
		}
		ev := req.ExitEvent
		if ev == nil {
			ev = req.MonitorEvent.ExitEvent
		}
		if ev == nil {
			continue
		}
		code, oom, latest = ev.ExitCode, ev.OOMKilled, *e.Timestamp
	}
	return code, oom
}

// exitEvent is flyd's exit_event. Like fly-go's, ExitCode is no pointer: Fly
// leaves out a 0 code (fly-go declares it omitempty), so missing means 0.
type exitEvent struct {
	ExitCode  int  `json:"exit_code"`
	OOMKilled bool `json:"oom_killed"`
}
