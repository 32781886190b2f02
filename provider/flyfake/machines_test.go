package flyfake_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/emothe/emothe/provider/flyapi"
	"github.com/emothe/emothe/provider/flyfake"
)

func waitParams(state flyapi.MachinesWaitParamsState, version string, timeout int) *flyapi.MachinesWaitParams {
	return &flyapi.MachinesWaitParams{State: new(state), Version: new(version), Timeout: new(timeout)}
}

func TestMachineCreateUpdateWait(t *testing.T) {
	clock := flyfake.NewManualClock()
	h := newHarness(t, flyfake.Options{BootDelay: time.Second, Clock: clock})
	// bootWhileWaiting lets the next wait block, then boots the machine.
	bootWhileWaiting := func() {
		go func() {
			clock.AwaitTimers(1)
			clock.Advance(time.Second)
		}()
	}
	h.expectNoViolations(t)
	h.createApp(t, "web")

	m := h.createMachine(t, "web", flyapi.CreateMachineRequest{Config: webConfig("registry.fly.io/web:v1"), Region: new("ams")})
	if *m.State != "starting" {
		t.Errorf("state right after create = %q, want starting", *m.State)
	}
	if got := *m.ImageRef.Repository + ":" + *m.ImageRef.Tag; got != "web:v1" {
		t.Errorf("image_ref = %s, want web:v1", got)
	}
	bootWhileWaiting()
	wait, err := h.client.MachinesWaitWithResponse(ctx(t), "web", *m.Id, waitParams(flyapi.MachinesWaitParamsStateStarted, *m.InstanceId, 60))
	wantStatus(t, "wait started", wait, err, http.StatusOK)
	if !*wait.JSON200.Ok || *wait.JSON200.State != "started" || *wait.JSON200.Version != *m.InstanceId {
		t.Errorf("wait = %+v", *wait.JSON200)
	}

	cfg := webConfig("registry.fly.io/web:v2")
	upd, err := h.client.MachinesUpdateWithResponse(ctx(t), "web", *m.Id, flyapi.UpdateMachineRequest{Config: cfg, CurrentVersion: m.InstanceId})
	wantStatus(t, "update", upd, err, http.StatusOK)
	v2 := *upd.JSON200
	if *v2.InstanceId == *m.InstanceId {
		t.Fatal("update kept the instance_id")
	}
	if *v2.State != "replacing" {
		t.Errorf("state right after updating a started machine = %q, want replacing", *v2.State)
	}
	start, err := h.client.MachinesStartWithResponse(ctx(t), "web", *m.Id)
	wantStatus(t, "start while replacing", start, err, http.StatusPreconditionFailed)

	bootWhileWaiting()
	wait, err = h.client.MachinesWaitWithResponse(ctx(t), "web", *m.Id, waitParams(flyapi.MachinesWaitParamsStateStarted, *v2.InstanceId, 60))
	wantStatus(t, "wait new version", wait, err, http.StatusOK)
	if got := *h.machine(t, "web", *m.Id).Config.Image; got != "registry.fly.io/web:v2" {
		t.Errorf("image after update = %s", got)
	}

	stale, err := h.client.MachinesUpdateWithResponse(ctx(t), "web", *m.Id, flyapi.UpdateMachineRequest{Config: cfg, CurrentVersion: m.InstanceId})
	wantStatus(t, "update from a stale version", stale, err, http.StatusPreconditionFailed)

	versions, err := h.client.MachinesListVersionsWithResponse(ctx(t), "web", *m.Id)
	wantStatus(t, "versions", versions, err, http.StatusOK)
	if vs := *versions.JSON200; len(vs) != 2 || *vs[0].Version != *v2.InstanceId || *vs[1].Version != *m.InstanceId {
		t.Errorf("versions = %+v, want new then old", vs)
	}

	// skip_launch on a started machine leaves the new version stopped.
	upd, err = h.client.MachinesUpdateWithResponse(ctx(t), "web", *m.Id, flyapi.UpdateMachineRequest{Config: webConfig("registry.fly.io/web:v3"), SkipLaunch: new(true)})
	wantStatus(t, "update skip_launch", upd, err, http.StatusOK)
	if *upd.JSON200.State != "stopped" {
		t.Errorf("state after skip_launch update = %q, want stopped", *upd.JSON200.State)
	}

	destroy, err := h.client.MachinesDeleteWithResponse(ctx(t), "web", *m.Id, nil)
	wantStatus(t, "destroy", destroy, err, http.StatusOK)
	list, err := h.client.MachinesListWithResponse(ctx(t), "web", nil)
	wantStatus(t, "list", list, err, http.StatusOK)
	if len(*list.JSON200) != 0 {
		t.Errorf("list shows %d machines after destroy, want 0", len(*list.JSON200))
	}
	list, err = h.client.MachinesListWithResponse(ctx(t), "web", &flyapi.MachinesListParams{IncludeDeleted: new(true)})
	wantStatus(t, "list include_deleted", list, err, http.StatusOK)
	if l := *list.JSON200; len(l) != 1 || *l[0].State != "destroyed" {
		t.Errorf("include_deleted list = %+v, want the destroyed machine", l)
	}
	again, err := h.client.MachinesUpdateWithResponse(ctx(t), "web", *m.Id, flyapi.UpdateMachineRequest{Config: cfg})
	wantStatus(t, "update destroyed", again, err, http.StatusNotFound)
}

func TestMachineDestroyRunningNeedsForce(t *testing.T) {
	h := newHarness(t, flyfake.Options{})
	h.expectNoViolations(t)
	h.createApp(t, "web")
	m := h.createMachine(t, "web", flyapi.CreateMachineRequest{Config: webConfig("nginx")})

	resp, err := h.client.MachinesDeleteWithResponse(ctx(t), "web", *m.Id, nil)
	wantStatus(t, "destroy running", resp, err, http.StatusPreconditionFailed)
	resp, err = h.client.MachinesDeleteWithResponse(ctx(t), "web", *m.Id, &flyapi.MachinesDeleteParams{Force: new(true)})
	wantStatus(t, "destroy running with force", resp, err, http.StatusOK)
}

// leaseBody decodes a lease answer, which Fly wraps in {"status", "data"}.
func leaseBody(t *testing.T, body []byte) (status, nonce string) {
	t.Helper()
	var l struct {
		Status string
		Data   flyapi.Lease
	}
	if err := json.Unmarshal(body, &l); err != nil {
		t.Fatalf("lease body %q: %v", body, err)
	}
	if l.Data.Nonce == nil {
		t.Fatalf("lease body %s has no data.nonce", body)
	}
	return l.Status, *l.Data.Nonce
}

func TestLeaseNonceEnforced(t *testing.T) {
	h := newHarness(t, flyfake.Options{})
	h.expectNoViolations(t)
	h.createApp(t, "web")
	m := h.createMachine(t, "web", flyapi.CreateMachineRequest{Config: webConfig("nginx"), LeaseTtl: new(30)})
	if m.Nonce == nil || *m.Nonce == "" {
		t.Fatal("create with lease_ttl returned no nonce")
	}
	nonce := *m.Nonce
	withNonce := func(n string) flyapi.RequestEditorFn {
		return func(_ context.Context, r *http.Request) error {
			r.Header.Set("fly-machine-lease-nonce", n)
			return nil
		}
	}
	upd := flyapi.UpdateMachineRequest{Config: webConfig("nginx:2")}

	resp, err := h.client.MachinesUpdateWithResponse(ctx(t), "web", *m.Id, upd)
	wantStatus(t, "update without nonce", resp, err, http.StatusConflict)
	resp, err = h.client.MachinesUpdateWithResponse(ctx(t), "web", *m.Id, upd, withNonce("wrong"))
	wantStatus(t, "update with a wrong nonce", resp, err, http.StatusConflict)
	stop, err := h.client.MachinesStopWithResponse(ctx(t), "web", *m.Id, flyapi.StopRequest{})
	wantStatus(t, "stop without nonce", stop, err, http.StatusConflict)
	resp, err = h.client.MachinesUpdateWithResponse(ctx(t), "web", *m.Id, upd, withNonce(nonce))
	wantStatus(t, "update with the nonce", resp, err, http.StatusOK)

	other, err := h.client.MachinesCreateLeaseWithResponse(ctx(t), "web", *m.Id, nil, flyapi.CreateLeaseRequest{Ttl: new(10)})
	wantStatus(t, "lease held by another", other, err, http.StatusConflict)
	refresh, err := h.client.MachinesCreateLeaseWithResponse(ctx(t), "web", *m.Id,
		&flyapi.MachinesCreateLeaseParams{FlyMachineLeaseNonce: new(nonce)}, flyapi.CreateLeaseRequest{Ttl: new(60)})
	wantStatus(t, "refresh lease", refresh, err, http.StatusCreated)
	if status, got := leaseBody(t, refresh.Body); status != "success" || got != nonce {
		t.Errorf("refresh = status %q nonce %q, want success and the same nonce", status, got)
	}

	bad, err := h.client.MachinesReleaseLeaseWithResponse(ctx(t), "web", *m.Id, &flyapi.MachinesReleaseLeaseParams{FlyMachineLeaseNonce: "wrong"})
	wantStatus(t, "release with a wrong nonce", bad, err, http.StatusConflict)
	rel, err := h.client.MachinesReleaseLeaseWithResponse(ctx(t), "web", *m.Id, &flyapi.MachinesReleaseLeaseParams{FlyMachineLeaseNonce: nonce})
	wantStatus(t, "release", rel, err, http.StatusOK)
	resp, err = h.client.MachinesUpdateWithResponse(ctx(t), "web", *m.Id, upd)
	wantStatus(t, "update after release", resp, err, http.StatusOK)

	fresh, err := h.client.MachinesCreateLeaseWithResponse(ctx(t), "web", *m.Id, nil, flyapi.CreateLeaseRequest{Ttl: new(10)})
	wantStatus(t, "new lease", fresh, err, http.StatusCreated)
	if _, got := leaseBody(t, fresh.Body); got == nonce {
		t.Error("a new lease reused the old nonce")
	}
}

func TestLeaseExpires(t *testing.T) {
	clock := flyfake.NewManualClock()
	h := newHarness(t, flyfake.Options{Clock: clock})
	h.expectNoViolations(t)
	h.createApp(t, "web")
	m := h.createMachine(t, "web", flyapi.CreateMachineRequest{Config: webConfig("nginx"), LeaseTtl: new(10)})

	resp, err := h.client.MachinesCordonWithResponse(ctx(t), "web", *m.Id)
	wantStatus(t, "cordon while leased", resp, err, http.StatusConflict)
	clock.Advance(10 * time.Second)
	resp, err = h.client.MachinesCordonWithResponse(ctx(t), "web", *m.Id)
	wantStatus(t, "cordon after the lease expired", resp, err, http.StatusOK)
	if !h.fake.State().Apps[0].Machines[0].Cordoned {
		t.Error("machine is not cordoned")
	}
}

func TestWaitTimesOut(t *testing.T) {
	clock := flyfake.NewManualClock()
	h := newHarness(t, flyfake.Options{Clock: clock})
	h.expectNoViolations(t)
	h.createApp(t, "web")
	m := h.createMachine(t, "web", flyapi.CreateMachineRequest{Config: webConfig("nginx"), SkipLaunch: new(true)})
	if *m.State != "created" {
		t.Fatalf("skip_launch machine is %q, want created", *m.State)
	}

	type result struct {
		resp *flyapi.MachinesWaitResponse
		err  error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := h.client.MachinesWaitWithResponse(ctx(t), "web", *m.Id, waitParams(flyapi.MachinesWaitParamsStateStarted, *m.InstanceId, 5))
		done <- result{resp, err}
	}()
	clock.AwaitTimers(1)
	clock.Advance(5 * time.Second)
	r := <-done
	wantStatus(t, "wait that cannot succeed", r.resp, r.err, http.StatusRequestTimeout)
	if msg, _ := errorOf(t, r.resp.Body); !strings.HasPrefix(msg, "deadline_exceeded: machine failed to reach desired state, started, currently created") {
		t.Errorf("408 error = %q", msg)
	}

	// flyctl waits for "stopped" on a machine it just created with skip_launch.
	stopped, err := h.client.MachinesWaitWithResponse(ctx(t), "web", *m.Id, waitParams(flyapi.MachinesWaitParamsStateStopped, *m.InstanceId, 5))
	wantStatus(t, "wait stopped on a created machine", stopped, err, http.StatusOK)
}

func TestWaitFollowsTheClock(t *testing.T) {
	clock := flyfake.NewManualClock()
	h := newHarness(t, flyfake.Options{Clock: clock, BootDelay: 30 * time.Second})
	h.expectNoViolations(t)
	h.createApp(t, "web")
	m := h.createMachine(t, "web", flyapi.CreateMachineRequest{Config: webConfig("nginx")})

	done := make(chan *flyapi.MachinesWaitResponse, 1)
	go func() {
		resp, _ := h.client.MachinesWaitWithResponse(ctx(t), "web", *m.Id, waitParams(flyapi.MachinesWaitParamsStateStarted, *m.InstanceId, 60))
		done <- resp
	}()
	clock.AwaitTimers(1) // the wait sleeps until the boot is due
	clock.Advance(30 * time.Second)
	resp := <-done
	if resp == nil || resp.StatusCode() != http.StatusOK || *resp.JSON200.State != "started" {
		t.Fatalf("wait across the boot = %+v", resp)
	}
}

func TestChecksPassAfterHealthDelay(t *testing.T) {
	clock := flyfake.NewManualClock()
	h := newHarness(t, flyfake.Options{Clock: clock, HealthDelay: 10 * time.Second})
	h.expectNoViolations(t)
	h.createApp(t, "web")
	cfg := webConfig("nginx")
	cfg.Services = &[]flyapi.FlyMachineService{{
		Protocol: new("tcp"), InternalPort: new(8080),
		Checks: &[]flyapi.FlyMachineServiceCheck{{Type: new("http"), Path: new("/healthz"), Port: new(8080)}},
	}}
	cfg.Checks = &map[string]flyapi.FlyMachineCheck{"db": {Type: new("tcp"), Port: new(5432)}}
	m := h.createMachine(t, "web", flyapi.CreateMachineRequest{Config: cfg})

	statuses := func() map[string]string {
		out := map[string]string{}
		for _, c := range *h.machine(t, "web", *m.Id).Checks {
			out[*c.Name] = *c.Status
		}
		return out
	}
	want := func(status string) map[string]string {
		return map[string]string{"servicecheck-00-http-8080": status, "db": status}
	}
	if got := statuses(); !equalMaps(got, want("critical")) {
		t.Errorf("checks right after start = %v, want all critical", got)
	}
	clock.Advance(9 * time.Second)
	if got := statuses(); !equalMaps(got, want("critical")) {
		t.Errorf("checks before the health delay = %v, want all critical", got)
	}
	clock.Advance(time.Second)
	if got := statuses(); !equalMaps(got, want("passing")) {
		t.Errorf("checks after the health delay = %v, want all passing", got)
	}

	if err := h.fake.SetFaults(flyfake.Faults{UnhealthyChecks: true}); err != nil {
		t.Fatal(err)
	}
	if got := statuses(); !equalMaps(got, want("critical")) {
		t.Errorf("checks under the unhealthy fault = %v, want all critical", got)
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// releaseConfig is a release-command machine as flyctl builds one.
func releaseConfig() *flyapi.FlyMachineConfig {
	cfg := webConfig("registry.fly.io/web:v1")
	cfg.AutoDestroy = new(true)
	cfg.Restart = &flyapi.FlyMachineRestart{Policy: new(flyapi.FlyMachineRestartPolicyNo)}
	cfg.Init = &flyapi.FlyMachineInit{Cmd: &[]string{"emothe", "migrate"}}
	return cfg
}

func TestReleaseMachineExitsAndIsDestroyed(t *testing.T) {
	h := newHarness(t, flyfake.Options{BootDelay: 10 * time.Millisecond})
	h.expectNoViolations(t)
	h.createApp(t, "web")
	if err := h.fake.SetFaults(flyfake.Faults{ReleaseExitCode: 3}); err != nil {
		t.Fatal(err)
	}

	// The sequence flyctl runs: create stopped, start, wait started, wait destroyed.
	m := h.createMachine(t, "web", flyapi.CreateMachineRequest{Config: releaseConfig(), SkipLaunch: new(true)})
	start, err := h.client.MachinesStartWithResponse(ctx(t), "web", *m.Id)
	wantStatus(t, "start", start, err, http.StatusOK)
	for _, state := range []flyapi.MachinesWaitParamsState{flyapi.MachinesWaitParamsStateStarted, flyapi.MachinesWaitParamsStateDestroyed} {
		wait, err := h.client.MachinesWaitWithResponse(ctx(t), "web", *m.Id, waitParams(state, *m.InstanceId, 60))
		wantStatus(t, "wait "+string(state), wait, err, http.StatusOK)
	}

	events, err := h.client.MachinesListEventsWithResponse(ctx(t), "web", *m.Id, nil)
	wantStatus(t, "events", events, err, http.StatusOK)
	var kinds []string
	exitCode := -1
	for _, ev := range *events.JSON200 { // newest first
		kinds = append(kinds, *ev.Type)
		if *ev.Type == "exit" {
			exit := (*ev.Request)["exit_event"].(map[string]any)
			exitCode = int(exit["exit_code"].(float64))
		}
	}
	if got := strings.Join(kinds, ","); got != "destroy,exit,start,launch" {
		t.Errorf("events newest first = %s, want destroy,exit,start,launch", got)
	}
	if exitCode != 3 {
		t.Errorf("exit code = %d, want 3", exitCode)
	}
	if got := *h.machine(t, "web", *m.Id).State; got != "destroyed" {
		t.Errorf("release machine state = %q, want destroyed", got)
	}
}
