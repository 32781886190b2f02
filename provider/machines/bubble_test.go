package machines

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/provider/fly"
	"github.com/emothe/emothe/provider/flyapi"
	"github.com/emothe/emothe/provider/flyfake"
)

// bubble is a fake Fly API holding app "web" and a client for it, for tests
// run in a testing/synctest bubble. The client reaches the fake through an
// in-memory transport, so no goroutine waits on a network, and every delay
// — boots, health checks, waits, lease refreshes, retries, bluegreen's
// pauses — runs on the bubble's clock: a rollout's timing is exact and takes
// no real time. The transport logs every request with its bubble time.
type bubble struct {
	t      *testing.T
	fake   *flyfake.Fake
	client fly.Client
	start  time.Time

	mu  sync.Mutex
	log []request
	say []string
}

// request is one API call as the transport saw it.
type request struct {
	at     time.Duration // bubble time since the start
	op     string        // e.g. "create", "update", "lease", "wait started"
	id     string        // machine ID, "" for app-level calls
	nonce  string        // the fly-machine-lease-nonce header; for a create, the nonce it answered
	leased bool          // the machine held a lease when the call arrived
	query  string
	body   string
	status int
}

// newBubble must be called inside synctest.Test.
func newBubble(t *testing.T, opts flyfake.Options) *bubble {
	t.Helper()
	b := &bubble{t: t, fake: flyfake.New(opts), start: time.Now()}
	t.Cleanup(func() {
		if v := b.fake.Violations(); len(v) > 0 {
			t.Errorf("requests that break Fly's API spec: %v", v)
		}
	})
	client, err := fly.New(fly.Config{Token: b.fake.Token(), BaseURL: "http://flyfake", HTTPClient: &http.Client{Transport: b}})
	require.NoError(t, err)
	b.client = client
	_, err = client.CreateApp(t.Context(), flyapi.CreateAppRequest{Name: new("web"), OrgSlug: new("personal")})
	require.NoError(t, err)
	return b
}

var (
	machinePath = regexp.MustCompile(`^/v1/apps/[^/]+/machines(?:/([^/]+)(?:/([a-z]+))?)?$`)
)

// RoundTrip serves req with the fake, in the caller's goroutine.
func (b *bubble) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
	}
	// As a server's request, never a nil body.
	req.Body = io.NopCloser(bytes.NewReader(body))
	e := request{at: time.Since(b.start), nonce: req.Header.Get("fly-machine-lease-nonce"), query: req.URL.RawQuery, body: string(body)}
	if m := machinePath.FindStringSubmatch(req.URL.Path); m != nil {
		e.id, e.op = m[1], operation(req, m[1], m[2])
		e.leased = e.id != "" && b.machine(e.id).LeaseOwner != ""
	}
	// The fake sees the request as a server would: a path, no scheme or host.
	in := req.Clone(req.Context())
	in.URL.Scheme, in.URL.Host, in.Host, in.RequestURI = "", "", req.URL.Host, req.URL.RequestURI()
	rec := httptest.NewRecorder()
	b.fake.ServeHTTP(rec, in)
	resp := rec.Result()
	resp.Request = req
	e.status = resp.StatusCode
	if e.op == "create" { // the new machine and the nonce of the lease it holds
		var m struct{ ID, Nonce string }
		_ = json.Unmarshal(rec.Body.Bytes(), &m)
		e.id, e.nonce = m.ID, m.Nonce
	}
	b.mu.Lock()
	b.log = append(b.log, e)
	b.mu.Unlock()
	return resp, nil
}

// operation names a machine call: its action, or create/list/update/destroy/
// get, and for waits the awaited state.
func operation(req *http.Request, id, action string) string {
	switch {
	case action == "wait":
		return "wait " + req.URL.Query().Get("state")
	case action == "lease" && req.Method == http.MethodDelete:
		return "release"
	case action != "":
		return action
	case id == "" && req.Method == http.MethodPost:
		return "create"
	case id == "":
		return "list"
	}
	return map[string]string{http.MethodPost: "update", http.MethodDelete: "destroy", http.MethodGet: "get"}[req.Method]
}

// machine is the fake's view of machine id.
func (b *bubble) machine(id string) flyfake.MachineState {
	for _, a := range b.fake.State().Apps {
		for _, m := range a.Machines {
			if m.ID == id {
				return m
			}
		}
	}
	return flyfake.MachineState{}
}

// machines lists the app's live machines.
func (b *bubble) machines() []flyfake.MachineState {
	var out []flyfake.MachineState
	for _, a := range b.fake.State().Apps {
		for _, m := range a.Machines {
			if m.State != "destroyed" && (*m.Config.Metadata)["fly_process_group"] == "app" {
				out = append(out, m)
			}
		}
	}
	return out
}

// appMachines lists the app's machines, as deploy does before it plans.
func (b *bubble) appMachines() []flyapi.Machine {
	b.t.Helper()
	all, err := appMachines(b.t.Context(), b.client, "web")
	require.NoError(b.t, err)
	return all
}

// up converges the group to in with client (b.client when nil), logging
// what the rollout says.
func (b *bubble) up(client fly.Client, in Args) (State, error) {
	b.t.Helper()
	if client == nil {
		client = b.client
	}
	in = in.normalize()
	all, err := appMachines(b.t.Context(), client, in.App)
	if err != nil {
		return State{}, err
	}
	return converge(b.t.Context(), client, in, all, func(format string, args ...any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.say = append(b.say, fmt.Sprintf(format, args...))
	})
}

func (b *bubble) mustUp(in Args) State {
	b.t.Helper()
	s, err := b.up(nil, in)
	require.NoError(b.t, err)
	return s
}

// reset forgets the calls and messages so far.
func (b *bubble) reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.log, b.say = nil, nil
}

// calls returns the logged calls, those to machine ids only when given,
// and of ops only when given.
func (b *bubble) calls(ids []string, ops ...string) []request {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []request
	for _, e := range b.log {
		if (ids == nil || slices.Contains(ids, e.id)) && (ops == nil || slices.Contains(ops, e.op)) {
			out = append(out, e)
		}
	}
	return out
}

// said reports whether the rollout said something containing text.
func (b *bubble) said(text string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.ContainsFunc(b.say, func(s string) bool { return strings.Contains(s, text) })
}

// webArgs is a group of count machines per region with an HTTP check.
func webArgs(image string, count int, regions ...string) Args {
	return Args{
		App: "web", Regions: regions, CountPerRegion: count,
		Config: MachineConfig{
			Image:    image,
			Services: []MachineService{{InternalPort: 8080, Checks: []HealthCheck{{Type: "http", Path: "/healthz"}}}},
		},
	}
}

func liveIDs(b *bubble) []string {
	ms := b.machines()
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	slices.Sort(out)
	return out
}

// capacityless fails the updates of the machines in ids as Fly does when
// their host has no room for the new config.
type capacityless struct {
	fly.Client
	ids []string
}

func (c capacityless) UpdateMachine(ctx context.Context, app, id, nonce string, req flyapi.UpdateMachineRequest) (flyapi.Machine, error) {
	if slices.Contains(c.ids, id) {
		return flyapi.Machine{}, &fly.APIError{StatusCode: http.StatusPreconditionFailed, Method: http.MethodPost, Path: "/v1/apps/" + app + "/machines/" + id,
			Message: "aborted: could not reserve resource for machine: insufficient memory available to fulfill request"}
	}
	return c.Client.UpdateMachine(ctx, app, id, nonce, req)
}
