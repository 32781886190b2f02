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
		{"explicit null", "POST", "/v1/apps/web/machines",
			`{"config":{"image":null}}`, "Machines_create", "at /config/image: Value is not nullable"},
		{"wrong type", "POST", "/v1/apps/web/machines",
			`{"config":{"image":"nginx","guest":{"cpus":"2"}}}`, "Machines_create", "at /config/guest/cpus"},
		{"boolean autostop", "POST", "/v1/apps/web/machines",
			`{"config":{"image":"nginx","services":[{"protocol":"tcp","internal_port":80,"autostop":true}]}}`, "Machines_create", "autostop"},
		{"null secret", "POST", "/v1/apps/web/secrets", `{"values":{"A":null}}`, "Secrets_update", "at /values/A: Value is not nullable"},
		{"bad query parameter", "GET", "/v1/apps/web/machines/m1/events?limit=many", "", "Machines_list_events", `query parameter "limit"`},
		{"missing header", "DELETE", "/v1/apps/web/machines/m1/lease", "", "Machines_release_lease", `header parameter "fly-machine-lease-nonce"`},
		{"unknown path", "GET", "/v1/apps/web/machines/m1/logs", "", "", "no operation"},
		{"wrong method", "PATCH", "/v1/apps", `{}`, "", "method not allowed"},
	} {
		resp, body := h.do(t, tc.method, tc.path, tc.body)
		msg, _ := errorOf(t, body)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(msg, tc.want) {
			t.Errorf("%s: %d %q, want 400 mentioning %q", tc.name, resp.StatusCode, msg, tc.want)
		}
		v := h.fake.Violations()
		if len(v) == 0 || v[len(v)-1].Operation != tc.op || v[len(v)-1].Error != msg {
			t.Errorf("%s: last violation = %+v, want operation %q and the answered error", tc.name, v, tc.op)
		}
	}
	if n := len(h.fake.Violations()); n != 9 {
		t.Errorf("violations = %d, want 9", n)
	}
	if st := h.fake.State(); len(st.Apps[0].Machines) != 0 || len(st.Apps[0].Secrets.Digests) != 0 {
		t.Errorf("rejected requests changed state: %+v", st.Apps[0])
	}
}
