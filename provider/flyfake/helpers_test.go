package flyfake_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emothe/emothe/provider/flyapi"
	"github.com/emothe/emothe/provider/flyfake"
)

// harness is a fake behind a real HTTP server and a generated client for it.
type harness struct {
	fake   *flyfake.Fake
	srv    *httptest.Server
	client *flyapi.ClientWithResponses
}

// newHarness starts a fake; unless the test expects violations it fails the
// test when any request broke the spec.
func newHarness(t *testing.T, opts flyfake.Options) *harness {
	t.Helper()
	f := flyfake.New(opts)
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	client, err := flyapi.NewClientWithResponses(srv.URL+"/v1", flyapi.WithRequestEditorFn(
		func(_ context.Context, r *http.Request) error {
			r.Header.Set("Authorization", "FlyV1 "+f.Token())
			return nil
		}))
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	return &harness{fake: f, srv: srv, client: client}
}

// expectNoViolations fails the test if any request broke the contract.
func (h *harness) expectNoViolations(t *testing.T) {
	t.Helper()
	t.Cleanup(func() {
		if v := h.fake.Violations(); len(v) > 0 {
			t.Errorf("spec violations: %+v", v)
		}
	})
}

func ctx(t *testing.T) context.Context { return t.Context() }

// status is the HTTP status of a generated client's response.
type statusResponse interface{ StatusCode() int }

func wantStatus(t *testing.T, what string, resp statusResponse, err error, want int) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if got := resp.StatusCode(); got != want {
		t.Fatalf("%s: status %d, want %d", what, got, want)
	}
}

// errorOf decodes Fly's {"error", "status"} body.
func errorOf(t *testing.T, body []byte) (msg, status string) {
	t.Helper()
	var e struct{ Error, Status string }
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body %q: %v", body, err)
	}
	return e.Error, e.Status
}

func (h *harness) createApp(t *testing.T, name string) {
	t.Helper()
	resp, err := h.client.AppsCreateWithResponse(ctx(t), flyapi.CreateAppRequest{Name: new(name), OrgSlug: new("personal")})
	wantStatus(t, "create app", resp, err, http.StatusCreated)
}

func (h *harness) createMachine(t *testing.T, app string, req flyapi.CreateMachineRequest) flyapi.Machine {
	t.Helper()
	resp, err := h.client.MachinesCreateWithResponse(ctx(t), app, req)
	wantStatus(t, "create machine", resp, err, http.StatusOK)
	return *resp.JSON200
}

func (h *harness) machine(t *testing.T, app, id string) flyapi.Machine {
	t.Helper()
	resp, err := h.client.MachinesShowWithResponse(ctx(t), app, id)
	wantStatus(t, "show machine", resp, err, http.StatusOK)
	return *resp.JSON200
}

func webConfig(image string) *flyapi.FlyMachineConfig {
	return &flyapi.FlyMachineConfig{Image: new(image)}
}

// manualClock is a Clock that moves only when the test advances it, so
// boots, health delays and wait timeouts take no real time.
type manualClock struct {
	mu     sync.Mutex
	cond   *sync.Cond
	now    time.Time
	timers []manualTimer
}

type manualTimer struct {
	at time.Time
	ch chan time.Time
}

func newManualClock() *manualClock {
	c := &manualClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	c.cond = sync.NewCond(&c.mu)
	return c
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.timers = append(c.timers, manualTimer{at: c.now.Add(d), ch: ch})
	c.cond.Broadcast()
	return ch
}

// Advance moves time on and fires the timers that are due.
func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.timers[:0]
	for _, t := range c.timers {
		if t.at.After(c.now) {
			kept = append(kept, t)
		} else {
			t.ch <- c.now
		}
	}
	c.timers = kept
}

// awaitTimers blocks until someone is waiting on n timers, so an Advance is
// sure to reach a request that is blocked on the clock.
func (c *manualClock) awaitTimers(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.timers) < n {
		c.cond.Wait()
	}
}

func readAll(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return b
}

// do sends a raw authenticated request, for paths the generated client does
// not have (Managed Postgres) or bodies it would never send.
func (h *harness) do(t *testing.T, method, path, body string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx(t), method, h.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+h.fake.Token())
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp, readAll(t, resp)
}
