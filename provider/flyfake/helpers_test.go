package flyfake_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/emothe/emothe/provider/flyapi"
	"github.com/emothe/emothe/provider/flyfake"
)

// harness is a fake behind a real HTTP server and a generated client for it.
type harness struct {
	fake   *flyfake.Fake
	srv    *httptest.Server
	client *flyapi.ClientWithResponses
}

// newHarness starts a fake, and fails the test when any of the fake's
// answers broke the spec. (Tests that keep their requests to the spec also
// call expectNoViolations.)
func newHarness(t *testing.T, opts flyfake.Options) *harness {
	t.Helper()
	f := flyfake.New(opts)
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		if v := f.ResponseViolations(); len(v) > 0 {
			t.Errorf("the fake's answers broke the spec: %+v", v)
		}
	})
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
