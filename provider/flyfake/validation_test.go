package flyfake_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/emothe/emothe/provider/flyfake"
)

func TestSpecViolationsAreRejectedAndRecorded(t *testing.T) {
	h := newHarness(t, flyfake.Options{})
	h.createApp(t, "web")
	for _, tc := range []struct{ name, method, path, body, op, want string }{
		{"wrong enum", "POST", "/v1/apps/web/machines",
			`{"config":{"image":"nginx","restart":{"policy":"sometimes"}}}`, "Machines_create", "at /config/restart/policy: value is not one of the allowed values"},
		{"wrong type", "POST", "/v1/apps/web/machines",
			`{"config":{"image":"nginx","guest":{"cpus":"2"}}}`, "Machines_create", "at /config/guest/cpus"},
		{"wrong type next to a null", "POST", "/v1/apps/web/machines",
			`{"config":{"image":"nginx","size":null,"guest":{"cpus":"2"}}}`, "Machines_create", "at /config/guest/cpus"},
		{"bad query parameter", "GET", "/v1/apps/web/machines/m1/events?limit=many", "", "Machines_list_events", `query parameter "limit"`},
		{"missing header", "DELETE", "/v1/apps/web/machines/m1/lease", "", "Machines_release_lease", `header parameter "fly-machine-lease-nonce"`},
		{"lease without body or ttl", "POST", "/v1/apps/web/machines/m1/lease", "", "Machines_create_lease", "request body"},
		{"unknown path", "GET", "/v1/apps/web/machines/m1/logs", "", "", "no operation"},
		{"wrong method", "PATCH", "/v1/apps", `{}`, "", "method not allowed"},
	} {
		resp, body := h.do(t, tc.method, tc.path, tc.body)
		msg, _ := errorOf(t, body)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(msg, tc.want) {
			t.Errorf("%s: %d %q, want 400 mentioning %q", tc.name, resp.StatusCode, msg, tc.want)
		}
		v := h.fake.Violations()
		if len(v) == 0 || v[len(v)-1].Operation != tc.op || v[len(v)-1].Error != msg || v[len(v)-1].Accepted {
			t.Errorf("%s: last violation = %+v, want a refused one of operation %q with the answered error", tc.name, v, tc.op)
		}
	}
	if n := len(h.fake.Violations()); n != 8 {
		t.Errorf("violations = %d, want 8", n)
	}
	if st := h.fake.State(); len(st.Apps[0].Machines) != 0 || len(st.Apps[0].Secrets.Digests) != 0 {
		t.Errorf("rejected requests changed state: %+v", st.Apps[0])
	}
}

// What Fly's own client sends beyond the spec is served, and still
// recorded, so that tests can hold the project's client to the spec.
func TestFlyLeniencyIsServedAndRecorded(t *testing.T) {
	h := newHarness(t, flyfake.Options{})
	h.createApp(t, "web")
	for _, tc := range []struct{ name, method, path, body, op, want string }{
		{"explicit null", "POST", "/v1/apps/web/machines",
			`{"config":{"image":"nginx","size":null,"guest":{"cpus":1,"cpu_kind":"shared","memory_mb":256,"kernel_args":null}}}`,
			"Machines_create", "null at /config/guest/kernel_args; null at /config/size"},
		{"boolean autostop", "POST", "/v1/apps/web/machines",
			`{"config":{"image":"nginx","services":[{"protocol":"tcp","internal_port":80,"autostop":false}]}}`,
			"Machines_create", "boolean autostop false at /config/services/0/autostop"},
		{"null secret", "POST", "/v1/apps/web/secrets", `{"values":{"A":null,"B":"b"}}`, "Secrets_update", "secret A unset by a null value"},
	} {
		resp, body := h.do(t, tc.method, tc.path, tc.body)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d %s, want 200", tc.name, resp.StatusCode, body)
		}
		v := h.fake.Violations()
		if len(v) == 0 || v[len(v)-1].Operation != tc.op || v[len(v)-1].Error != tc.want || !v[len(v)-1].Accepted {
			t.Errorf("%s: last violation = %+v, want an accepted one of %q saying %q", tc.name, v, tc.op, tc.want)
		}
	}
	st := h.fake.State().Apps[0]
	if len(st.Machines) != 2 || *(*st.Machines[1].Config.Services)[0].Autostop != "off" {
		t.Errorf("machines = %+v, want 2, the second with autostop off", st.Machines)
	}
	if len(st.Secrets.Digests) != 1 || st.Secrets.Digests["B"] == "" {
		t.Errorf("secrets = %v, want B alone", st.Secrets.Digests)
	}
}
