// Package flyfake is an in-process fake of Fly's Machines API, faithful to
// Fly's published OpenAPI description (provider/flyapi/spec) and to the
// behaviour docs/fly-api.md records. It is how the project
// proves its Fly provider works without reaching Fly.
//
// The fake serves the API under /v1 as an http.Handler: every request is
// authenticated, validated against the spec, counted, optionally delayed or
// failed on purpose, and then handled by an implementation of the strict
// server oapi-codegen generates from the same spec (package api). Managed
// Postgres, which the spec lacks, is routed and validated by hand. Machines
// move through their states on a Clock, so tests choose how long boots and
// health checks take.
//
// Every request that breaks a strict reading of the spec is recorded as a
// Violation. What Fly serves anyway, because its own client sends it (nulls,
// {"K": null} to unset a secret, boolean autostop, ?ttl= leases, kill=true,
// base64 key values, several wait states; lenient.go), the fake serves too;
// the rest it answers 400. Its own answers are checked against the spec as well
// (ResponseViolations), and give what Fly gives where Fly departs from it:
// Start's JSON body, autostop as a boolean, a lease inside "data".
//
// Outside /v1, /__fake/ serves the fake's own control endpoints: state, call
// counts, violations and fault settings.
package flyfake

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/getkin/kin-openapi/routers"

	"github.com/emothe/emothe/provider/flyfake/api"
)

// Clock is the fake's source of time: machine boots, health delays, leases,
// wait timeouts and Postgres provisioning all follow it.
type Clock interface {
	Now() time.Time
	// After is time.After on this clock.
	After(d time.Duration) <-chan time.Time
}

type wallClock struct{}

func (wallClock) Now() time.Time                         { return time.Now() }
func (wallClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Options configure a Fake. The zero value is a working fake with a
// generated token, instant boots and instantly passing health checks.
type Options struct {
	// Token is the API token clients must send as "FlyV1 <token>" or
	// "Bearer <token>". Generated when empty; see Fake.Token.
	Token string
	// Clock defaults to the wall clock.
	Clock Clock
	// Seed makes fault injection and generated IDs repeatable.
	Seed uint64
	// Latency is added, in wall-clock time, before every /v1 call.
	Latency time.Duration
	// BootDelay is how long a machine stays starting (or replacing, after an
	// update) before it is started, and how long a release-command machine
	// runs before it exits.
	BootDelay time.Duration
	// HealthDelay is how long a machine must have been started before its
	// checks turn from critical to passing.
	HealthDelay time.Duration
	// PostgresReadyDelay is how long a Managed Postgres cluster provisions.
	PostgresReadyDelay time.Duration
	// Faults are the initial fault settings; see Fake.SetFaults.
	Faults Faults
	// Upstream, when set, makes the fake a recording proxy in front of that
	// API (real Fly is https://api.machines.dev): calls are routed, checked
	// against the spec and logged as usual, then forwarded as they came,
	// token included. The fake's own state, handlers and faults go unused.
	Upstream *url.URL
}

// Fake is the fake Fly API. Create it with New; it is safe for concurrent use.
type Fake struct {
	opts    Options
	token   string
	clock   Clock
	v1      http.Handler // the generated strict server, mounted at /v1
	control http.Handler // /__fake/ endpoints
	proxy   http.Handler // set when Options.Upstream is
	reqSeq  atomic.Uint64

	mu                 sync.Mutex
	changed            chan struct{} // closed and replaced whenever a machine changes
	faults             Faults
	faultRNG           *rand.Rand
	idRNG              *rand.Rand
	apps               []*app
	postgres           []*pgCluster
	serial             int // feeds IPs and numeric IDs
	calls              callLog
	violations         []Violation
	responseViolations []Violation
}

// New returns a fake configured by opts. It panics when opts.Faults is
// invalid (see Faults.Validate) or the embedded spec cannot be loaded:
// both are programming errors in the caller or the build.
func New(opts Options) *Fake {
	if _, err := specRouter(); err != nil {
		panic(fmt.Sprintf("flyfake: %v", err))
	}
	if err := opts.Faults.Validate(); err != nil {
		panic(fmt.Sprintf("flyfake: Options.Faults: %v", err))
	}
	f := &Fake{
		opts:     opts,
		token:    opts.Token,
		clock:    opts.Clock,
		changed:  make(chan struct{}),
		faults:   opts.Faults,
		faultRNG: rand.New(rand.NewPCG(opts.Seed, 1)),
		idRNG:    rand.New(rand.NewPCG(opts.Seed, 2)),
		calls:    callLog{ops: map[string]int{}},
	}
	if f.token == "" {
		f.token = "fm2_flyfake_" + crand.Text()
	}
	if f.clock == nil {
		f.clock = wallClock{}
	}
	strict := api.NewStrictHandlerWithOptions(handlers{f}, nil, api.StrictHTTPServerOptions{
		RequestErrorHandlerFunc:  f.rejectInvalid,
		ResponseErrorHandlerFunc: func(w http.ResponseWriter, _ *http.Request, err error) { writeError(w, err) },
	})
	f.v1 = api.HandlerWithOptions(strict, api.StdHTTPServerOptions{
		BaseURL:          "/v1",
		ErrorHandlerFunc: f.rejectInvalid,
	})
	f.control = f.controlHandler()
	if u := opts.Upstream; u != nil {
		f.proxy = &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(u) }}
	}
	return f
}

// Token is the API token the fake accepts.
func (f *Fake) Token() string { return f.token }

// ServeHTTP serves the Machines API under /v1 and the control endpoints
// under /__fake/.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("fly-request-id", fmt.Sprintf("flyfake-%08d", f.reqSeq.Add(1)))
	switch {
	case strings.HasPrefix(r.URL.Path, "/__fake/"):
		f.control.ServeHTTP(w, r)
	case r.URL.Path == "/v1" || strings.HasPrefix(r.URL.Path, "/v1/"):
		f.serveV1(w, r)
	default:
		writeJSON(w, http.StatusNotFound, errorBody{Error: "not found: the Machines API is under /v1"})
	}
}

// serveV1 runs one API call through latency, routing, call recording, auth,
// spec validation and fault injection before handling it.
func (f *Fake) serveV1(w http.ResponseWriter, r *http.Request) {
	arrived := f.clock.Now()
	if f.opts.Latency > 0 {
		t := time.NewTimer(f.opts.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	rt := f.route(r)
	rt.nonce = r.Header.Get("fly-machine-lease-nonce")
	call := f.startCall(r, rt, arrived)
	sw := &statusWriter{ResponseWriter: w}
	if f.proxy != nil {
		f.forward(sw, r, rt)
		f.finishCall(call, sw.code)
		return
	}
	if rt.spec != nil {
		sw.body = &bytes.Buffer{}
		defer func() { f.checkResponse(r, rt, sw) }()
	}
	defer func() { f.finishCall(call, sw.code) }()
	r = r.WithContext(context.WithValue(r.Context(), routeKey{}, rt))

	if !f.authorized(r) {
		writeJSON(sw, http.StatusUnauthorized, errorBody{Error: "Authenticate: token validation error"})
		return
	}
	if rt.err != nil {
		f.recordViolation(r, r.URL.RequestURI(), rt, []string{rt.err.Error()}, false)
	} else {
		rt.err = f.admit(r, rt)
	}
	if rt.err != nil {
		writeJSON(sw, http.StatusBadRequest, errorBody{Error: rt.err.Error()})
		return
	}
	transient, drop := f.drawFaults(rt.operation)
	if transient != 0 {
		writeJSON(sw, transient, errorBody{Error: fmt.Sprintf("flyfake: injected fault: %d %s", transient, http.StatusText(transient))})
		return
	}
	if drop {
		f.markDropped(call)
		// Do the work, then cut the connection before any byte of the
		// answer leaves: the client cannot tell whether the call happened.
		discard := &discardWriter{header: http.Header{}}
		rt.handler.ServeHTTP(discard, r)
		sw.code, sw.body = discard.code, nil // no answer left to validate
		hijackAndClose(w)
		return
	}
	rt.handler.ServeHTTP(sw, r)
}

// forward checks a call against the spec, recording what breaks it, and
// passes it on to the upstream API unchanged.
func (f *Fake) forward(w http.ResponseWriter, r *http.Request, rt *route) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: fmt.Sprintf("request body: %v", err)})
		return
	}
	check := r.Clone(r.Context())
	setBody(check, body)
	if rt.err != nil {
		f.recordViolation(check, check.URL.RequestURI(), rt, []string{rt.err.Error()}, false)
	} else {
		_ = f.admit(check, rt) // recorded; upstream gives its own answer
	}
	setBody(r, body)
	f.proxy.ServeHTTP(w, r)
}

// authorized accepts "FlyV1 <token>" (macaroons, as fly-go sends them) and
// "Bearer <token>" (as Fly's docs show).
func (f *Fake) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	for _, scheme := range []string{"FlyV1 ", "Bearer "} {
		if tok, ok := strings.CutPrefix(h, scheme); ok && tok == f.token {
			return true
		}
	}
	return false
}

// reject answers 400 with what is wrong and records the violation.
func (f *Fake) reject(w http.ResponseWriter, r *http.Request, msg string) {
	rt, _ := r.Context().Value(routeKey{}).(*route)
	f.recordViolation(r, r.URL.RequestURI(), rt, []string{msg}, false)
	writeJSON(w, http.StatusBadRequest, errorBody{Error: msg})
}

// rejectInvalid handles the generated server's own decoding errors, which
// spec validation should have caught first.
func (f *Fake) rejectInvalid(w http.ResponseWriter, r *http.Request, err error) {
	f.reject(w, r, err.Error())
}

// Violation is a request that broke a strict reading of Fly's Machines API
// spec (or, for /v1/postgres, of the documented contract).
type Violation struct {
	Method    string `json:"method"`
	Path      string `json:"path"`
	Operation string `json:"operation,omitempty"`
	Error     string `json:"error"`
	// Accepted violations are ones Fly serves anyway (its own client sends
	// them), and so did the fake; the others were answered 400.
	Accepted bool `json:"accepted,omitempty"`
}

// Violations returns every request so far that broke the strict reading of
// the spec, served or refused; a client that keeps to the contract leaves
// it empty.
func (f *Fake) Violations() []Violation {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Violation(nil), f.violations...)
}

type routeKey struct{}

// statusWriter remembers the status code for the call log and, when body
// is set, a copy of the answer for its validation.
type statusWriter struct {
	http.ResponseWriter
	code int
	body *bytes.Buffer
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	if w.body != nil {
		w.body.Write(b)
	}
	return w.ResponseWriter.Write(b)
}

// discardWriter swallows the answer of a call whose response is dropped.
type discardWriter struct {
	header http.Header
	code   int
}

func (w *discardWriter) Header() http.Header { return w.header }
func (w *discardWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}

func (w *discardWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return len(b), nil
}

// hijackAndClose kills the client's connection. Where the connection cannot
// be hijacked (HTTP/2), aborting the handler resets the stream instead.
func hijackAndClose(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// route is what the fake knows about a /v1 call before handling it.
type route struct {
	operation  string // the spec's operationId, or Postgres_* for /v1/postgres
	machineID  string
	handler    http.Handler
	validate   func(*http.Request) error
	err        error    // the call breaks the contract before it is even routed
	nonce      string   // the fly-machine-lease-nonce header
	unset      []string // secret names a Secrets_update sent as null
	waitStates []string // the states a Machines_wait sent several of

	// The spec's operation, for validating the answer; nil for the
	// hand-routed Managed Postgres calls.
	spec   *routers.Route
	params map[string]string
}

// route finds the operation r calls: hand-routed Managed Postgres, or an
// operation of the spec.
func (f *Fake) route(r *http.Request) *route {
	if r.URL.Path == "/v1/postgres" || strings.HasPrefix(r.URL.Path, "/v1/postgres/") {
		return f.postgresRoute(r)
	}
	router, _ := specRouter() // loaded by New
	rt, params, err := router.FindRoute(r)
	if err != nil {
		return &route{err: errors.New(describeViolation(err))}
	}
	return &route{
		operation: rt.Operation.OperationID,
		machineID: params["machine_id"],
		handler:   f.v1,
		spec:      rt,
		params:    params,
		validate: func(r *http.Request) error {
			if err := validateRequest(r, rt, params); err != nil {
				return errors.New(describeViolation(err))
			}
			return nil
		},
	}
}
