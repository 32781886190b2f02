package flyfake_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/emothe/emothe/provider/flyfake"
)

// With Upstream set, the fake forwards every call unchanged and answers
// what upstream answers, while logging and checking the calls itself.
func TestUpstreamRecordsAndForwards(t *testing.T) {
	upstream := newHarness(t, flyfake.Options{})
	u, err := url.Parse(upstream.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxyFake := flyfake.New(flyfake.Options{Upstream: u})
	proxy := httptest.NewServer(proxyFake)
	t.Cleanup(proxy.Close)
	// The harness's raw requests carry upstream's token; send them to the
	// proxy instead.
	h := &harness{fake: upstream.fake, srv: proxy}

	resp, body := h.do(t, "POST", "/v1/apps", `{"name":"web","org_slug":"personal","network":null}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create app through the proxy: %d %s", resp.StatusCode, body)
	}
	resp, _ = h.do(t, "POST", "/v1/apps/web/machines", `{"config":{"image":"nginx","guest":{"cpus":"2"}}}`)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("invalid machine create through the proxy: %d, want upstream's 400", resp.StatusCode)
	}
	if st := upstream.fake.State(); len(st.Apps) != 1 || st.Apps[0].Name != "web" {
		t.Errorf("upstream state = %+v, want app web", st)
	}
	calls := proxyFake.Calls()
	if calls.Writes != 2 || calls.Operations["Apps_create"] != 1 || calls.Operations["Machines_create"] != 1 {
		t.Errorf("proxy calls = %+v, want the 2 writes", calls)
	}
	v := proxyFake.Violations()
	if len(v) != 2 || !v[0].Accepted || v[0].Error != "null at /network" || v[1].Accepted {
		t.Errorf("proxy violations = %+v, want the null (accepted) and the string cpus (refused)", v)
	}
	if st := proxyFake.State(); len(st.Apps) != 0 {
		t.Errorf("the proxy kept state of its own: %+v", st)
	}
}
