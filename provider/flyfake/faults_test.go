package flyfake_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emothe/emothe/provider/flyapi"
	"github.com/emothe/emothe/provider/flyfake"
)

func TestTransientFaults(t *testing.T) {
	h := newHarness(t, flyfake.Options{})
	h.expectNoViolations(t)
	h.createApp(t, "web")

	if err := h.fake.SetFaults(flyfake.Faults{TransientRate: 1}); err != nil {
		t.Fatal(err)
	}
	resp, err := h.client.AppsShowWithResponse(ctx(t), "web")
	wantStatus(t, "show under a 100% fault rate", resp, err, http.StatusServiceUnavailable)
	if resp.HTTPResponse.Header.Get("fly-request-id") == "" {
		t.Error("fault answer has no fly-request-id")
	}

	// Limited to one operation, with another status, the rest goes through.
	if err := h.fake.SetFaults(flyfake.Faults{TransientRate: 1, TransientStatus: 429, Operations: []string{"Machines_create"}}); err != nil {
		t.Fatal(err)
	}
	show, err := h.client.AppsShowWithResponse(ctx(t), "web")
	wantStatus(t, "show, not a faulted operation", show, err, http.StatusOK)
	create, err := h.client.MachinesCreateWithResponse(ctx(t), "web", flyapi.CreateMachineRequest{Config: webConfig("nginx")})
	wantStatus(t, "create, faulted", create, err, http.StatusTooManyRequests)
	if n := len(h.fake.State().Apps[0].Machines); n != 0 {
		t.Errorf("a faulted create made %d machines", n)
	}
	log := h.fake.Calls().Log
	if last := log[len(log)-1]; last.Operation != "Machines_create" || last.Status != http.StatusTooManyRequests {
		t.Errorf("last call = %+v", last)
	}
}

func TestFaultsRepeatWithTheSeed(t *testing.T) {
	statuses := func() string {
		h := newHarness(t, flyfake.Options{Seed: 42, Faults: flyfake.Faults{TransientRate: 0.5}})
		var b strings.Builder
		for range 32 {
			resp, err := h.client.AppsListWithResponse(ctx(t), &flyapi.AppsListParams{OrgSlug: "personal"})
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%d ", resp.StatusCode())
		}
		return b.String()
	}
	first, second := statuses(), statuses()
	if first != second {
		t.Errorf("same seed, different faults:\n%s\n%s", first, second)
	}
	if !strings.Contains(first, "200") || !strings.Contains(first, "503") {
		t.Errorf("a 50%% rate gave %s", first)
	}
}

func TestDroppedResponseStillWrites(t *testing.T) {
	h := newHarness(t, flyfake.Options{})
	h.expectNoViolations(t)
	if err := h.fake.SetFaults(flyfake.Faults{DropRate: 1, Operations: []string{"Apps_create"}}); err != nil {
		t.Fatal(err)
	}
	_, err := h.client.AppsCreateWithResponse(ctx(t), flyapi.CreateAppRequest{Name: new("web"), OrgSlug: new("personal")})
	if err == nil {
		t.Fatal("create with its response dropped: no error")
	}

	show, err := h.client.AppsShowWithResponse(ctx(t), "web")
	wantStatus(t, "show the app whose create was dropped", show, err, http.StatusOK)
	var dropped []flyfake.Call
	for _, c := range h.fake.Calls().Log {
		if c.Dropped {
			dropped = append(dropped, c)
		}
	}
	if len(dropped) != 1 || dropped[0].Operation != "Apps_create" || dropped[0].Status != http.StatusCreated {
		t.Errorf("dropped calls = %+v, want the one Apps_create that answered 201", dropped)
	}
}

func TestInsufficientCapacity(t *testing.T) {
	h := newHarness(t, flyfake.Options{Faults: flyfake.Faults{NoCapacityRegions: []string{"ord"}}})
	h.expectNoViolations(t)
	h.createApp(t, "web")
	resp, err := h.client.MachinesCreateWithResponse(ctx(t), "web", flyapi.CreateMachineRequest{Config: webConfig("nginx"), Region: new("ord")})
	if err != nil {
		t.Fatal(err)
	}
	if _, status := errorOf(t, resp.Body); resp.StatusCode() < 400 || status != "insufficient_capacity" {
		t.Errorf("create in ord: %d %s, want insufficient_capacity", resp.StatusCode(), resp.Body)
	}
	h.createMachine(t, "web", flyapi.CreateMachineRequest{Config: webConfig("nginx"), Region: new("iad")})
}

func TestFaultSettingsAreValidated(t *testing.T) {
	h := newHarness(t, flyfake.Options{})
	for _, tc := range []struct {
		faults flyfake.Faults
		want   string
	}{
		{flyfake.Faults{TransientRate: 1.5}, "transient_rate 1.5"},
		{flyfake.Faults{DropRate: -0.1}, "drop_rate -0.1"},
		{flyfake.Faults{TransientStatus: 404}, "transient_status 404"},
		{flyfake.Faults{Operations: []string{"Machines_launch"}}, `"Machines_launch"`},
		{flyfake.Faults{ReleaseExitCode: 300}, "release_exit_code 300"},
	} {
		if err := h.fake.SetFaults(tc.faults); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("SetFaults(%+v) = %v, want an error naming %s", tc.faults, err, tc.want)
		}
	}
}

func TestControlEndpoints(t *testing.T) {
	h := newHarness(t, flyfake.Options{})
	h.expectNoViolations(t)
	h.createApp(t, "web")
	m := h.createMachine(t, "web", flyapi.CreateMachineRequest{Config: webConfig("nginx")})
	sec, err := h.client.SecretsUpdateWithResponse(ctx(t), "web", flyapi.AppSecretsUpdateRequest{Values: &map[string]string{"DATABASE_URL": "postgres://user:hunter2@db"}})
	wantStatus(t, "set secret", sec, err, http.StatusOK)

	get := func(path string, into any) {
		t.Helper()
		resp, err := http.Get(h.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, resp)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
		}
		if strings.Contains(string(body), "hunter2") {
			t.Errorf("GET %s shows a secret value", path)
		}
		if err := json.Unmarshal(body, into); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
	}
	var st flyfake.State
	get("/__fake/state", &st)
	if len(st.Apps) != 1 || st.Apps[0].Machines[0].ID != *m.Id || st.Apps[0].Secrets.Version != 1 || st.Apps[0].Secrets.Digests["DATABASE_URL"] == "" {
		t.Errorf("state = %+v", st)
	}
	var calls flyfake.Calls
	get("/__fake/calls", &calls)
	if calls.Writes != 3 || calls.Operations["Machines_create"] != 1 || calls.Log[1].Method != "POST" {
		t.Errorf("calls = %+v", calls)
	}
	h.machine(t, "web", *m.Id)
	get("/__fake/calls", &calls)
	if calls.Reads != 1 || calls.Log[3].MachineID != *m.Id || calls.Log[3].Status != http.StatusOK {
		t.Errorf("calls after a read = %+v", calls)
	}

	for _, path := range []string{"/__fake/violations", "/__fake/response-violations"} {
		var v []flyfake.Violation
		if get(path, &v); v == nil || len(v) != 0 {
			t.Errorf("GET %s = %v, want []", path, v)
		}
	}

	req, _ := http.NewRequest(http.MethodDelete, h.srv.URL+"/__fake/calls", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("reset calls: %v %v", resp, err)
	}
	if c := h.fake.Calls(); c.Reads+c.Writes != 0 || len(c.Log) != 0 {
		t.Errorf("calls after reset = %+v", c)
	}

	post := func(body string) (int, string) {
		resp, err := http.Post(h.srv.URL+"/__fake/faults", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(readAll(t, resp))
	}
	if code, body := post(`{"transient_rate":2}`); code != http.StatusBadRequest || !strings.Contains(body, "transient_rate 2") {
		t.Errorf("bad faults: %d %s", code, body)
	}
	if code, body := post(`{"transient_rat":1}`); code != http.StatusBadRequest || !strings.Contains(body, "transient_rat") {
		t.Errorf("misspelt fault setting: %d %s", code, body)
	}
	if code, body := post(`{"unhealthy_checks":true,"release_exit_code":1}`); code != http.StatusOK {
		t.Errorf("set faults: %d %s", code, body)
	}
	if f := h.fake.Faults(); !f.UnhealthyChecks || f.ReleaseExitCode != 1 {
		t.Errorf("faults after POST = %+v", f)
	}
}

func TestConcurrentClients(t *testing.T) {
	h := newHarness(t, flyfake.Options{})
	h.expectNoViolations(t)
	h.createApp(t, "web")
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			m := h.createMachine(t, "web", flyapi.CreateMachineRequest{Config: webConfig("nginx"), Name: new(fmt.Sprintf("m%d", i))})
			h.machine(t, "web", *m.Id)
			_, _ = h.client.SecretsUpdateWithResponse(ctx(t), "web", flyapi.AppSecretsUpdateRequest{Values: &map[string]string{"K": "v"}})
		})
	}
	wg.Wait()
	st := h.fake.State()
	if n := len(st.Apps[0].Machines); n != 16 {
		t.Errorf("machines = %d, want 16", n)
	}
	if v := st.Apps[0].Secrets.Version; v != 16 {
		t.Errorf("secrets version = %d, want 16", v)
	}
}

// Every call records when it arrived and how long it took to answer, the
// latency included.
func TestCallsAreTimed(t *testing.T) {
	const latency = 20 * time.Millisecond
	h := newHarness(t, flyfake.Options{Latency: latency})
	before := time.Now()
	h.createApp(t, "web")
	log := h.fake.Calls().Log
	if len(log) != 1 {
		t.Fatalf("calls = %+v", log)
	}
	if c := log[0]; c.At.Before(before) || c.At.After(time.Now()) || c.Took < latency {
		t.Errorf("call %s %s arrived at %s (test began at %s) and took %s, want at least the %s latency",
			c.Method, c.Path, c.At, before, c.Took, latency)
	}
}
