package fly

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/provider/flyapi"
)

func event(typ string, ts int, request map[string]any) flyapi.MachineEvent {
	e := flyapi.MachineEvent{Type: &typ, Timestamp: &ts}
	if request != nil {
		e.Request = &request
	}
	return e
}

func exitReq(code int, oom bool) map[string]any {
	return map[string]any{"exit_event": map[string]any{"exit_code": code, "oom_killed": oom}}
}

func TestWaitStateLoopsOver408s(t *testing.T) {
	var waits atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/apps/a/machines/m1/wait", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		assert.Equal(t, "started", q.Get("state"))
		assert.Equal(t, "v2", q.Get("version"))
		secs, err := strconv.Atoi(q.Get("timeout"))
		assert.NoError(t, err)
		assert.True(t, secs >= 1 && secs <= 60, "wait timeout %d outside [1, 60]", secs)
		if waits.Add(1) <= 2 {
			flyError(w, http.StatusRequestTimeout, "deadline_exceeded: machine failed to reach desired state, started, currently starting", "")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "state": "started"})
	})
	mux.HandleFunc("GET /v1/apps/a/machines/m1", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, flyapi.Machine{Id: new("m1"), State: new("starting"), InstanceId: new("v2")})
	})
	var msgs []string
	ctx := WithProgress(context.Background(), func(m string) { msgs = append(msgs, m) })
	require.NoError(t, newTestClient(t, mux).WaitState(ctx, "a", "m1", "v2", time.Minute, "started"))
	assert.EqualValues(t, 3, waits.Load())
	assert.Equal(t, []string{"machine m1: waiting for state started"}, msgs)
}

func TestWaitStateFailsFastWhenTheMachineExits(t *testing.T) {
	var waits atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/apps/a/machines/m1/wait", func(w http.ResponseWriter, r *http.Request) {
		waits.Add(1)
		flyError(w, http.StatusRequestTimeout, "deadline_exceeded", "")
	})
	mux.HandleFunc("GET /v1/apps/a/machines/m1", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, flyapi.Machine{
			Id: new("m1"), State: new("stopped"), InstanceId: new("v2"),
			Events: &[]flyapi.MachineEvent{ // newest first, as Fly lists them
				event("exit", 400, exitReq(3, true)),
				event("start", 300, nil),
				event("exit", 200, exitReq(9, false)), // a previous run
				event("start", 100, nil),
			},
		})
	})
	err := newTestClient(t, mux).WaitState(context.Background(), "a", "m1", "v2", time.Hour, "started")
	var exited *MachineExitedError
	require.ErrorAs(t, err, &exited)
	assert.Equal(t, MachineExitedError{ID: "m1", State: "stopped", ExitCode: 3, OOMKilled: true}, *exited)
	assert.EqualValues(t, 1, waits.Load(), "one 408 and a look at the machine are enough")
	assert.ErrorContains(t, err, "exit code 3")
}

func TestWaitStateIgnoresAnOlderVersionsState(t *testing.T) {
	var gets atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/apps/a/machines/m1/wait", func(w http.ResponseWriter, r *http.Request) {
		if gets.Load() < 2 {
			flyError(w, http.StatusRequestTimeout, "deadline_exceeded", "")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"ok": true})
	})
	mux.HandleFunc("GET /v1/apps/a/machines/m1", func(w http.ResponseWriter, r *http.Request) {
		gets.Add(1) // still the old, stopped version: the update is under way
		writeJSON(w, http.StatusOK, flyapi.Machine{Id: new("m1"), State: new("stopped"), InstanceId: new("v1")})
	})
	assert.NoError(t, newTestClient(t, mux).WaitState(context.Background(), "a", "m1", "v2", time.Minute, "started"))
}

func TestWaitStateNotFound(t *testing.T) {
	var waits atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if waits.Add(1) == 1 {
			flyError(w, http.StatusNotFound, "machine not found", "")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"ok": true})
	})
	c := newTestClient(t, h)
	require.NoError(t, c.WaitState(context.Background(), "a", "m1", "", time.Minute, "started"),
		"a 404 right after create is retried")

	gone := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		flyError(w, http.StatusNotFound, "machine not found", "")
	})
	assert.NoError(t, newTestClient(t, gone).WaitState(context.Background(), "a", "m1", "", time.Minute, "destroyed"),
		"a machine that is gone is destroyed")
}

func TestWaitStateTimesOut(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		flyError(w, http.StatusRequestTimeout, "currently stopping", "")
	})
	err := newTestClient(t, h).WaitState(context.Background(), "a", "m1", "", 30*time.Millisecond, "stopped")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorContains(t, err, "machine m1 did not reach state stopped")
}

// healthServer serves a machine whose state and checks the test changes.
type healthServer struct {
	mu     sync.Mutex
	state  string
	checks []flyapi.CheckStatus
	gets   int
	onGet  func(h *healthServer) // runs before answering, under mu
}

func (s *healthServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gets++
	if s.onGet != nil {
		s.onGet(s)
	}
	writeJSON(w, http.StatusOK, flyapi.Machine{Id: new("m1"), Region: new("mad"), State: &s.state, Checks: &s.checks})
}

func check(name, status, output string) flyapi.CheckStatus {
	return flyapi.CheckStatus{Name: &name, Status: &status, Output: &output}
}

func TestWaitHealthyPassesWhenChecksPass(t *testing.T) {
	srv := &healthServer{state: "started", onGet: func(h *healthServer) {
		h.checks = []flyapi.CheckStatus{
			check("http", "passing", ""),
			check("tcp", map[bool]string{true: "passing", false: "critical"}[h.gets >= 3], ""),
			check("bg_deployments_compat_http", "critical", "ignored"),
		}
	}}
	var msgs []string
	ctx := WithProgress(context.Background(), func(m string) { msgs = append(msgs, m) })
	m, err := newTestClient(t, srv).WaitHealthy(ctx, "a", "m1", time.Minute)
	require.NoError(t, err)
	assert.Equal(t, "m1", str(m.Id))
	assert.Equal(t, 3, srv.gets)
	assert.Equal(t, []string{"machine m1 (mad): waiting for health checks, 1/2 passing"}, msgs)
}

func TestWaitHealthyFailsFastWhenTheMachineStops(t *testing.T) {
	srv := &healthServer{state: "started", checks: []flyapi.CheckStatus{check("http", "critical", "")},
		onGet: func(h *healthServer) {
			if h.gets == 2 {
				h.state = "stopped"
			}
		}}
	_, err := newTestClient(t, srv).WaitHealthy(context.Background(), "a", "m1", time.Hour)
	var exited *MachineExitedError
	require.ErrorAs(t, err, &exited)
	assert.Equal(t, "stopped", exited.State)
	assert.Equal(t, -1, exited.ExitCode, "no exit event recorded")
}

func TestWaitHealthyTimeoutListsChecks(t *testing.T) {
	srv := &healthServer{state: "started", checks: []flyapi.CheckStatus{
		check("http", "critical", "GET /healthz: dial tcp [fdaa::3]:8080:\n connection refused"),
		check("tcp", "passing", "ok"),
	}}
	_, err := newTestClient(t, srv).WaitHealthy(context.Background(), "a", "m1", 30*time.Millisecond)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorContains(t, err, "http: critical: GET /healthz: dial tcp [fdaa::3]:8080: connection refused")
	assert.ErrorContains(t, err, "tcp: passing: ok")
}

func TestWaitHealthyWithoutChecksExplains(t *testing.T) {
	srv := &healthServer{state: "started"}
	_, err := newTestClient(t, srv).WaitHealthy(context.Background(), "a", "m1", 20*time.Millisecond)
	assert.ErrorContains(t, err, "reported no health checks")
}

func TestLastExitReadsMonitorEvents(t *testing.T) {
	code, oom := lastExit([]flyapi.MachineEvent{
		event("start", 10, nil),
		event("exit", 20, map[string]any{"MonitorEvent": map[string]any{"exit_event": map[string]any{"exit_code": 137}}}),
	})
	assert.Equal(t, 137, code)
	assert.False(t, oom)
	code, _ = lastExit([]flyapi.MachineEvent{event("start", 10, nil)})
	assert.Equal(t, -1, code)
}

// Fly leaves exit_code out of a clean exit, as fly-go's omitempty does: a
// missing code is 0, not "no exit recorded".
func TestLastExitReadsAMissingCodeAsZero(t *testing.T) {
	code, _ := lastExit([]flyapi.MachineEvent{
		event("start", 10, nil),
		event("exit", 20, exitReq(1, false)), // an exit before the last start does not count
		event("start", 30, nil),
		event("exit", 40, map[string]any{"exit_event": map[string]any{"oom_killed": false, "requested_stop": false}}),
	})
	assert.Equal(t, 0, code)
	code, _ = lastExit([]flyapi.MachineEvent{event("start", 10, nil), event("exit", 20, map[string]any{"restart_count": 0})})
	assert.Equal(t, -1, code, "an exit event without exit_event records no code")
}
