package flyfake_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/emothe/emothe/provider/flyfake"
)

type cluster struct {
	ID           string
	Status       string
	Plan         string
	AttachedApps []struct{ Name string } `json:"attached_apps"`
	Endpoints    struct {
		Primary struct {
			Pooler struct {
				Host string
				Port int
			}
		}
	}
}

func decodeData[T any](t *testing.T, body []byte) T {
	t.Helper()
	var out struct{ Data T }
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	return out.Data
}

func TestPostgresProvisioningToReady(t *testing.T) {
	clock := flyfake.NewManualClock()
	h := newHarness(t, flyfake.Options{Clock: clock, PostgresReadyDelay: 2 * time.Minute})
	h.expectNoViolations(t)
	h.createApp(t, "web")

	resp, body := h.do(t, "POST", "/v1/postgres", `{"org_slug":"personal","region":"ams","plan":"Basic","pg_major_version":"17"}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	c := decodeData[cluster](t, body)
	if c.Status != "provisioning" || c.Plan != "basic" || c.Endpoints.Primary.Pooler.Host == "" {
		t.Errorf("created cluster = %+v", c)
	}
	show := func() cluster {
		t.Helper()
		resp, body := h.do(t, "GET", "/v1/postgres/"+c.ID, "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("show: %d %s", resp.StatusCode, body)
		}
		return decodeData[cluster](t, body)
	}
	clock.Advance(time.Minute)
	if got := show().Status; got != "provisioning" {
		t.Errorf("status halfway = %s, want provisioning", got)
	}
	clock.Advance(time.Minute)
	if got := show().Status; got != "ready" {
		t.Errorf("status after the ready delay = %s, want ready", got)
	}

	resp, body = h.do(t, "GET", "/v1/postgres/"+c.ID+"/users/fly-user/credentials", "")
	creds := decodeData[map[string]string](t, body)
	if resp.StatusCode != http.StatusOK || creds["username"] != "fly-user" || creds["password"] == "" {
		t.Errorf("credentials: %d %s", resp.StatusCode, body)
	}
	for i, want := range []int{http.StatusCreated, http.StatusOK} {
		if resp, body := h.do(t, "POST", "/v1/postgres/"+c.ID+"/attachments", `{"app_name":"web"}`); resp.StatusCode != want {
			t.Errorf("attach #%d: %d %s, want %d", i+1, resp.StatusCode, body, want)
		}
	}
	if got := show().AttachedApps; len(got) != 1 || got[0].Name != "web" {
		t.Errorf("attached apps = %+v, want web", got)
	}
	resp, body = h.do(t, "GET", "/v1/postgres?org_slug=personal", "")
	if list := decodeData[[]cluster](t, body); resp.StatusCode != http.StatusOK || len(list) != 1 {
		t.Errorf("list: %d %s", resp.StatusCode, body)
	}

	if resp, _ := h.do(t, "DELETE", "/v1/postgres/"+c.ID, ""); resp.StatusCode != http.StatusAccepted {
		t.Errorf("delete: %d, want 202", resp.StatusCode)
	}
	if resp, _ := h.do(t, "DELETE", "/v1/postgres/"+c.ID, ""); resp.StatusCode != http.StatusGone {
		t.Errorf("delete again: %d, want 410", resp.StatusCode)
	}
	if resp, _ := h.do(t, "GET", "/v1/postgres/"+c.ID, ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("show deleted: %d, want 404", resp.StatusCode)
	}
	_, body = h.do(t, "GET", "/v1/postgres?org_slug=personal&include_deleted=true", "")
	if list := decodeData[[]cluster](t, body); len(list) != 1 || list[0].Status != "deleted" {
		t.Errorf("include_deleted list = %s", body)
	}
}

func TestPostgresRejectsBadRequests(t *testing.T) {
	h := newHarness(t, flyfake.Options{})
	for _, tc := range []struct{ name, method, path, body, want string }{
		{"missing region", "POST", "/v1/postgres", `{"org_slug":"personal","plan":"basic"}`, "/region"},
		{"unknown plan", "POST", "/v1/postgres", `{"org_slug":"personal","region":"ams","plan":"huge"}`, "/plan"},
		{"pg 15", "POST", "/v1/postgres", `{"org_slug":"personal","region":"ams","plan":"basic","pg_major_version":"15"}`, "/pg_major_version"},
		{"numeric version", "POST", "/v1/postgres", `{"org_slug":"personal","region":"ams","plan":"basic","pg_major_version":17}`, "must be a string"},
		{"misspelt field", "POST", "/v1/postgres", `{"org_slug":"personal","region":"ams","plan":"basic","disk_gb":10}`, "/disk_gb: unknown field"},
		{"list without org", "GET", "/v1/postgres", "", "org_slug"},
		{"unknown path", "GET", "/v1/postgres/x/backups/y/z", "", "no Managed Postgres operation"},
	} {
		resp, body := h.do(t, tc.method, tc.path, tc.body)
		if msg, _ := errorOf(t, body); resp.StatusCode != http.StatusBadRequest || !strings.Contains(msg, tc.want) {
			t.Errorf("%s: %d %q, want 400 mentioning %q", tc.name, resp.StatusCode, msg, tc.want)
		}
	}
	if n := len(h.fake.Violations()); n != 7 {
		t.Errorf("violations recorded = %d, want 7", n)
	}
}
