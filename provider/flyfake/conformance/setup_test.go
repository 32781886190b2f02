package conformance

import (
	"context"
	"errors"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/emothe/emothe/provider/flyfake"
)

const appName = "conformance"

// env is a fake on the fake's manual clock, and a flaps-style client for
// one app on it.
type env struct {
	fake  *flyfake.Fake
	clock *flyfake.ManualClock
	*flaps
	// refused are operations a test sent a request to that Fly refuses
	// too, on purpose.
	refused []string
}

// newEnv starts a fake with opts on a manual clock and creates the app. At
// the end of the test it asserts that the fake served every request (Fly
// serves all that flaps sends) and that its answers kept to the spec.
func newEnv(t *testing.T, opts flyfake.Options) *env {
	t.Helper()
	clock := flyfake.NewManualClock()
	opts.Clock = clock
	fake := flyfake.New(opts)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	e := &env{fake: fake, clock: clock, flaps: &flaps{base: srv.URL + "/v1", token: fake.Token(), app: appName}}
	t.Cleanup(func() {
		for _, v := range fake.Violations() {
			if !v.Accepted && !slices.Contains(e.refused, v.Operation) {
				t.Errorf("the fake refused a request Fly serves: %+v", v)
			}
		}
		if v := fake.ResponseViolations(); len(v) > 0 {
			t.Errorf("the fake's answers broke the spec: %+v", v)
		}
	})
	if err := e.CreateApp(t.Context(), appName, "personal"); err != nil {
		t.Fatalf("create app: %v", err)
	}
	return e
}

func ctx(t *testing.T) context.Context { return t.Context() }

func must[T any](t *testing.T, what string) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
}

func wantStatus(t *testing.T, what string, err error, status int) {
	t.Helper()
	if got := statusOf(err); got != status {
		t.Errorf("%s: %v, want a %d answer", what, err, status)
	}
}

// web is a config as flyctl sends one for an app machine.
func web(image string) *machineConfig {
	return &machineConfig{
		Image: image,
		Guest: &machineGuest{CPUKind: "shared", CPUs: 1, MemoryMB: 256},
		Env:   map[string]string{"PRIMARY_REGION": "mad"},
		Services: []machineService{{
			Protocol: "tcp", InternalPort: 8080, Autostop: new(true), Autostart: new(true),
			Ports: []machinePort{{Port: new(443), Handlers: []string{"tls", "http"}}},
		}},
		Metadata: map[string]string{"fly_process_group": "app"},
	}
}

// accepted are the strict violations the fake recorded and served, by
// operation.
func (e *env) accepted() map[string][]string {
	out := map[string][]string{}
	for _, v := range e.fake.Violations() {
		if v.Accepted {
			out[v.Operation] = append(out[v.Operation], v.Error)
		}
	}
	return out
}

// async runs a blocking call (a wait) while the test moves the clock.
func async[T any](f func() (T, error)) <-chan result[T] {
	ch := make(chan result[T], 1)
	go func() {
		v, err := f()
		ch <- result[T]{v, err}
	}()
	return ch
}

type result[T any] struct {
	v   T
	err error
}

// receive takes a blocking call's result. The real-time bound only keeps a
// broken fake from hanging the test; what is asserted is the fake's clock.
func receive[T any](t *testing.T, ch <-chan result[T]) (T, error) {
	t.Helper()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-time.After(10 * time.Second):
		t.Fatal("the call did not return after the fake's clock passed its deadline")
		var zero T
		return zero, errors.New("unreachable")
	}
}
