package flyfake

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/emothe/emothe/provider/flyfake/api"
)

// waitTimeout answers a wait that ran out of time, as Fly does (408 is not in
// the spec's 3.0 copy, but Fly's docs and observed answers have it).
type waitTimeout struct{ msg string }

func (r waitTimeout) VisitMachinesWaitResponse(w http.ResponseWriter) error {
	writeJSON(w, http.StatusRequestTimeout, errorBody{Error: r.msg})
	return nil
}

// MachinesWait blocks until the machine (at the requested version) reaches
// the requested state, or answers 408 after the timeout. Time is the fake's
// Clock, so tests need not wait real seconds.
func (h handlers) MachinesWait(ctx context.Context, req api.MachinesWaitRequestObject) (api.MachinesWaitResponseObject, error) {
	p := req.Params
	want := []string{"started"}
	if p.State != nil {
		want = []string{string(*p.State)}
	}
	if rt, _ := ctx.Value(routeKey{}).(*route); rt != nil && len(rt.waitStates) > 0 {
		want = rt.waitStates // several states, as the spec's description allows (lenient.go)
	}
	timeout := 60
	if p.Timeout != nil {
		if *p.Timeout < 1 || *p.Timeout > 60 {
			return nil, errorf(http.StatusBadRequest, "timeout %d is out of range: use 1 to 60 seconds", *p.Timeout)
		}
		timeout = *p.Timeout
	}
	version := deref(p.Version)
	if version == "" {
		version = deref(p.InstanceId) // the deprecated name of the same parameter
	}

	var deadline time.Time
	for {
		now := h.lock()
		if deadline.IsZero() {
			deadline = now.Add(time.Duration(timeout) * time.Second)
		}
		res, current, wake, err := h.waitCheck(req.AppName, req.MachineId, version, deref(p.FromEventId), want)
		changed := h.changed
		h.mu.Unlock()
		switch {
		case err != nil:
			return nil, err
		case res != nil:
			return api.MachinesWait200JSONResponse(*res), nil
		case !now.Before(deadline):
			return waitTimeout{fmt.Sprintf("deadline_exceeded: machine failed to reach desired state, %s, currently %s", strings.Join(want, ","), current)}, nil
		}
		next := deadline
		if !wake.IsZero() && wake.Before(next) {
			next = wake
		}
		select {
		case <-changed:
		case <-h.clock.After(next.Sub(now)):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// waitCheck reports whether the machine's version has reached one of want: a
// response when it has, else its current state and when it next changes on
// its own (zero if never). Call it with the lock held.
func (h handlers) waitCheck(appName, id, version, fromEvent string, want []string) (*api.WaitMachineResponse, string, time.Time, error) {
	_, m, err := h.findMachine(appName, id)
	if err != nil {
		return nil, "", time.Time{}, err
	}
	if version == "" {
		version = m.version
	}
	state := m.state
	if version != m.version {
		if !slices.ContainsFunc(m.history, func(v machineVersion) bool { return v.version == version }) {
			return nil, "", time.Time{}, errorf(http.StatusBadRequest, "version %q is not a version of machine %s", version, m.id)
		}
		state = stateReplaced
	}
	events := m.events
	if i := slices.IndexFunc(events, func(e machineEvent) bool { return deref(e.Id) == fromEvent }); i >= 0 {
		events = events[i+1:]
	}
	lastEvent := ""
	if len(events) > 0 {
		lastEvent = deref(events[len(events)-1].Id)
	}
	reached := func(s string) *api.WaitMachineResponse {
		return &api.WaitMachineResponse{Ok: new(true), State: new(s), Version: new(version), EventId: new(lastEvent)}
	}
	if stateMatches(state, want) {
		return reached(state), state, time.Time{}, nil
	}
	// A version that is gone for good cannot reach want any more; if it
	// passed through want on its way (a release command that started and
	// exited between two polls), that is the answer.
	if state == stateDestroyed || state == stateReplaced {
		for _, e := range slices.Backward(events) {
			if e.version == version && stateMatches(deref(e.Status), want) {
				return reached(deref(e.Status)), state, time.Time{}, nil
			}
		}
	}
	if version != m.version {
		return nil, state, time.Time{}, nil
	}
	return nil, state, m.pendingAt, nil
}

// stateMatches tells whether a machine in state satisfies a wait for one
// of wants.
func stateMatches(state string, wants []string) bool {
	return slices.ContainsFunc(wants, func(want string) bool { return stateIs(state, want) })
}

// stateIs tells whether a machine in state satisfies a wait for want.
func stateIs(state, want string) bool {
	switch want {
	case state:
		return true
	case stateStopped:
		// A machine created with skip_launch has never run; flyctl waits for
		// "stopped" on it before starting a release command.
		return state == stateCreated
	case "settled":
		return slices.Contains([]string{stateCreated, stateStarted, stateStopped, stateSuspended, "failed", stateDestroyed}, state)
	}
	return false
}
