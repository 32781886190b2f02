package conformance

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/emothe/emothe/provider/flyfake"
)

// A lease is acquired and refreshed with ?ttl= and no body, as every
// `fly deploy` does; it guards the machine until it expires.
func TestLeases(t *testing.T) {
	e := newEnv(t, flyfake.Options{})
	m := must[machine](t, "launch")(e.Launch(ctx(t), launchMachineInput{Config: web("img:1"), Region: "mad"}))
	start := e.clock.Now()

	l := must[leaseData](t, "acquire")(e.AcquireLease(ctx(t), m.ID, "", 13))
	if l.Nonce == "" || l.ExpiresAt != start.Add(13*time.Second).Unix() || l.Version != m.InstanceID {
		t.Errorf("lease = %+v, want a nonce, expiry now+13s and version %s", l, m.InstanceID)
	}
	_, err := e.AcquireLease(ctx(t), m.ID, "", 13)
	wantStatus(t, "acquire a held lease", err, http.StatusConflict)
	_, err = e.Update(ctx(t), m.ID, "", launchMachineInput{Config: web("img:2")})
	wantStatus(t, "update without the nonce", err, http.StatusConflict)
	err = e.Stop(ctx(t), m.ID, "not-the-nonce", stopMachineInput{})
	wantStatus(t, "stop with another nonce", err, http.StatusConflict)

	// Refresh through the query, as flaps.RefreshLease does: same nonce,
	// new expiry.
	e.clock.Advance(10 * time.Second)
	r := must[leaseData](t, "refresh")(e.AcquireLease(ctx(t), m.ID, l.Nonce, 13))
	if r.Nonce != l.Nonce || r.ExpiresAt != start.Add(23*time.Second).Unix() {
		t.Errorf("refreshed lease = %+v, want nonce %s until now+13s", r, l.Nonce)
	}
	e.clock.Advance(12 * time.Second) // 3 s past the first expiry, 1 s before the refreshed one
	_, err = e.AcquireLease(ctx(t), m.ID, "", 13)
	wantStatus(t, "acquire before the refreshed lease expires", err, http.StatusConflict)

	e.clock.Advance(time.Second)
	next := must[leaseData](t, "acquire after expiry")(e.AcquireLease(ctx(t), m.ID, "", 13))
	if next.Nonce == l.Nonce {
		t.Error("a lease taken after expiry reused the old nonce")
	}
	_, err = e.AcquireLease(ctx(t), m.ID, l.Nonce, 13)
	wantStatus(t, "refresh an expired lease someone else now holds", err, http.StatusConflict)
	must[machine](t, "update with the nonce")(e.Update(ctx(t), m.ID, next.Nonce, launchMachineInput{Config: web("img:2")}))
	if err := e.ReleaseLease(ctx(t), m.ID, next.Nonce); err != nil {
		t.Fatalf("release: %v", err)
	}
	must[leaseData](t, "acquire after release")(e.AcquireLease(ctx(t), m.ID, "", 13))

	// flyctl creates machines leased for its wait timeout.
	leased := must[machine](t, "launch leased")(e.Launch(ctx(t), launchMachineInput{Config: web("img:1"), LeaseTTL: 300}))
	if leased.Nonce == "" {
		t.Fatal("a launch with lease_ttl answered no nonce")
	}
	_, err = e.Update(ctx(t), leased.ID, "", launchMachineInput{Config: web("img:2")})
	wantStatus(t, "update a machine leased at launch", err, http.StatusConflict)
	e.clock.Advance(300 * time.Second)
	must[machine](t, "update once the launch lease expired")(e.Update(ctx(t), leased.ID, "", launchMachineInput{Config: web("img:2")}))

	if got := e.accepted()["Machines_create_lease"]; len(got) != 7 || got[0] != "lease ttl sent as the query ?ttl= with no body" {
		t.Errorf("recorded lease violations = %q, want the 7 ?ttl= leases", got)
	}
}

// A wait asks for one state of one version, blocks on the fake's clock, and
// answers 408 when its timeout (at most 60 s) runs out.
func TestWaits(t *testing.T) {
	e := newEnv(t, flyfake.Options{BootDelay: 10 * time.Second})
	m := must[machine](t, "launch")(e.Launch(ctx(t), launchMachineInput{Config: web("img:1")}))
	if m.State != "starting" {
		t.Errorf("state right after launch = %s, want starting", m.State)
	}

	started := async(func() (waitResponse, error) { return e.Wait(ctx(t), m.ID, m.InstanceID, "started", 60) })
	e.clock.AwaitTimers(1)
	e.clock.Advance(10 * time.Second)
	w, err := receive(t, started)
	if err != nil || !w.OK || w.State != "started" || w.Version != m.InstanceID {
		t.Fatalf("wait started = %+v, %v", w, err)
	}

	// flaps clamps a longer timeout to 60 s; the wait then answers 408
	// once 60 s have passed on the fake's clock.
	stopped := async(func() (waitResponse, error) { return e.Wait(ctx(t), m.ID, m.InstanceID, "stopped", 300) })
	e.clock.AwaitTimers(1)
	e.clock.Advance(59 * time.Second)
	e.clock.Advance(time.Second)
	_, err = receive(t, stopped)
	wantStatus(t, "wait for a state that never comes", err, http.StatusRequestTimeout)
	if err != nil && !strings.Contains(err.Error(), "deadline_exceeded") {
		t.Errorf("timeout answer = %v, want Fly's deadline_exceeded message", err)
	}
	calls := e.fake.Calls().Log
	if last := calls[len(calls)-1]; !strings.Contains(last.Path, "timeout=60") {
		t.Errorf("the wait was sent as %s, want timeout=60", last.Path)
	}

	// An update makes a new version: the old one is replaced, the new one
	// starts after the boot.
	u := must[machine](t, "update")(e.Update(ctx(t), m.ID, "", launchMachineInput{Config: web("img:2")}))
	if u.InstanceID == m.InstanceID {
		t.Fatal("an update kept the version")
	}
	newStarted := async(func() (waitResponse, error) { return e.Wait(ctx(t), m.ID, u.InstanceID, "started", 60) })
	e.clock.AwaitTimers(1)
	e.clock.Advance(10 * time.Second)
	if w, err := receive(t, newStarted); err != nil || w.Version != u.InstanceID {
		t.Errorf("wait for the new version = %+v, %v", w, err)
	}
}

// Cordon takes a machine out of the proxy under its lease; bluegreen's
// green machines are launched cordoned.
func TestCordon(t *testing.T) {
	e := newEnv(t, flyfake.Options{})
	m := must[machine](t, "launch")(e.Launch(ctx(t), launchMachineInput{Config: web("img:1")}))
	l := must[leaseData](t, "lease")(e.AcquireLease(ctx(t), m.ID, "", 13))
	wantStatus(t, "cordon without the nonce", e.Cordon(ctx(t), m.ID, ""), http.StatusConflict)
	if err := e.Cordon(ctx(t), m.ID, l.Nonce); err != nil {
		t.Fatalf("cordon: %v", err)
	}
	if !e.cordoned(t, m.ID) {
		t.Error("the machine is not cordoned")
	}
	if err := e.Uncordon(ctx(t), m.ID, l.Nonce); err != nil {
		t.Fatalf("uncordon: %v", err)
	}
	if e.cordoned(t, m.ID) {
		t.Error("the machine is still cordoned")
	}
	green := must[machine](t, "launch green")(e.Launch(ctx(t), launchMachineInput{Config: web("img:2"), SkipServiceRegistration: true}))
	if !e.cordoned(t, green.ID) {
		t.Error("a machine launched with skip_service_registration takes traffic")
	}
}

func (e *env) cordoned(t *testing.T, id string) bool {
	t.Helper()
	for _, a := range e.fake.State().Apps {
		for _, m := range a.Machines {
			if m.ID == id {
				return m.Cordoned
			}
		}
	}
	t.Fatalf("machine %s is not in the fake", id)
	return false
}

// Start answers JSON that flaps decodes; a running machine is destroyed
// with kill=true, and refused without it.
func TestStartStopDestroyWithKill(t *testing.T) {
	e := newEnv(t, flyfake.Options{})
	m := must[machine](t, "launch")(e.Launch(ctx(t), launchMachineInput{Config: web("img:1"), SkipLaunch: true}))
	if m.State != "created" {
		t.Errorf("state after a skip_launch launch = %s, want created", m.State)
	}
	s := must[machineStartResponse](t, "start")(e.Start(ctx(t), m.ID, ""))
	if s.PreviousState != "created" {
		t.Errorf("start answer = %+v, want previous_state created", s)
	}
	must[waitResponse](t, "wait started")(e.Wait(ctx(t), m.ID, m.InstanceID, "started", 60))

	if err := e.Stop(ctx(t), m.ID, "", stopMachineInput{Signal: "SIGTERM", Timeout: "10s"}); err != nil {
		t.Fatalf("stop: %v", err)
	}
	must[waitResponse](t, "wait stopped")(e.Wait(ctx(t), m.ID, m.InstanceID, "stopped", 60))
	got := must[machine](t, "get")(e.Get(ctx(t), m.ID))
	if got.State != "stopped" || got.Events[0].Type != "exit" || !got.Events[0].Request.ExitEvent.RequestedStop {
		t.Errorf("after stop: state %s, last event %+v; want stopped after a requested exit", got.State, got.Events[0])
	}
	s = must[machineStartResponse](t, "start again")(e.Start(ctx(t), m.ID, ""))
	if s.PreviousState != "stopped" {
		t.Errorf("start answer = %+v, want previous_state stopped", s)
	}

	wantStatus(t, "destroy a started machine with kill=false", e.Destroy(ctx(t), m.ID, "", false), http.StatusPreconditionFailed)
	if err := e.Destroy(ctx(t), m.ID, "", true); err != nil {
		t.Fatalf("destroy with kill=true: %v", err)
	}
	if w := must[waitResponse](t, "wait destroyed")(e.Wait(ctx(t), m.ID, "", "destroyed", 60)); w.State != "destroyed" {
		t.Errorf("wait destroyed = %+v", w)
	}
	if got := e.accepted()["Machines_delete"]; len(got) != 2 || got[1] != "query parameter kill=true is not in the spec" {
		t.Errorf("recorded destroy violations = %q, want kill=false and kill=true", got)
	}
}

// With the OmitZeroExitCode fault, a release command that succeeds exits
// without exit_code, as Fly may answer; fly-go reads that as 0.
func TestExitEventWithoutExitCode(t *testing.T) {
	e := newEnv(t, flyfake.Options{BootDelay: time.Second, Faults: flyfake.Faults{OmitZeroExitCode: true}})
	cfg := web("img:1")
	cfg.Services, cfg.AutoDestroy, cfg.Restart = nil, true, &machineRestart{Policy: "no"}
	cfg.Init.Cmd = []string{"migrate"}
	m := must[machine](t, "launch release command")(e.Launch(ctx(t), launchMachineInput{Config: cfg, SkipLaunch: true}))
	must[machineStartResponse](t, "start")(e.Start(ctx(t), m.ID, ""))
	e.clock.Advance(2 * time.Second) // boots, runs and exits
	got := must[machine](t, "get")(e.Get(ctx(t), m.ID))

	var raw struct {
		Events []map[string]json.RawMessage `json:"events"`
	}
	if err := e.send(ctx(t), http.MethodGet, e.machinePath(m.ID, ""), nil, nil, &raw, nil); err != nil {
		t.Fatal(err)
	}
	var exit *machineEvent
	for i, ev := range got.Events {
		if ev.Type == "exit" {
			exit = &got.Events[i]
			if strings.Contains(string(raw.Events[i]["request"]), "exit_code") {
				t.Errorf("exit event request %s has an exit_code", raw.Events[i]["request"])
			}
			break
		}
	}
	if exit == nil || exit.Request == nil || exit.Request.ExitEvent == nil || exit.Request.ExitEvent.ExitCode != 0 {
		t.Fatalf("events = %+v, want an exit event that reads as code 0", got.Events)
	}
}

// A wait may ask for several states, as the spec's description allows and
// newer flaps does; the first one reached answers.
func TestWaitForSeveralStates(t *testing.T) {
	e := newEnv(t, flyfake.Options{})
	m := must[machine](t, "launch")(e.Launch(ctx(t), launchMachineInput{Config: web("img:1")}))
	if err := e.Stop(ctx(t), m.ID, "", stopMachineInput{}); err != nil {
		t.Fatalf("stop: %v", err)
	}
	for _, q := range []url.Values{
		{"state": {"started,stopped"}, "version": {m.InstanceID}, "timeout": {"1"}},
		{"state": {"suspended", "stopped"}, "version": {m.InstanceID}, "timeout": {"1"}},
	} {
		var w waitResponse
		if err := e.send(ctx(t), http.MethodGet, e.machinePath(m.ID, "/wait"), q, nil, &w, nil); err != nil || w.State != "stopped" {
			t.Errorf("wait %s = %+v, %v; want stopped", q.Encode(), w, err)
		}
	}
	e.refused = append(e.refused, "Machines_wait")
	err := e.send(ctx(t), http.MethodGet, e.machinePath(m.ID, "/wait"), url.Values{"state": {"stopped,asleep"}}, nil, nil, nil)
	wantStatus(t, "wait for a state that does not exist", err, http.StatusBadRequest)
}
