package flyfake_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/emothe/emothe/provider/flyfake"
)

// BenchmarkValidatedCall measures calls through the whole pipeline (auth,
// spec validation, call log, handler) in process: an app create, a machine
// create, a machine show and the app's delete per iteration. It is the
// fake's own cost per call, which bounds how fast provider tests can go.
func BenchmarkValidatedCall(b *testing.B) {
	f := flyfake.New(flyfake.Options{Token: "t"})
	call := func(method, path, body string) *httptest.ResponseRecorder {
		var req *http.Request
		if body == "" {
			req = httptest.NewRequest(method, path, nil)
		} else {
			req = httptest.NewRequest(method, path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Authorization", "Bearer t")
		rec := httptest.NewRecorder()
		f.ServeHTTP(rec, req)
		return rec
	}
	body := `{"region":"ams","config":{"image":"registry.fly.io/web:v1","guest":{"cpu_kind":"shared","cpus":1,"memory_mb":256},` +
		`"services":[{"protocol":"tcp","internal_port":8080,"autostop":"stop","ports":[{"port":443,"handlers":["tls","http"]}],` +
		`"checks":[{"type":"http","port":8080,"path":"/healthz","interval":"15s","timeout":"2s"}]}]}}`
	b.ResetTimer()
	for b.Loop() {
		if rec := call("POST", "/v1/apps", `{"name":"web","org_slug":"personal"}`); rec.Code != http.StatusCreated {
			b.Fatalf("create app: %d %s", rec.Code, rec.Body)
		}
		rec := call("POST", "/v1/apps/web/machines", body)
		if rec.Code != http.StatusOK {
			b.Fatalf("create machine: %d %s", rec.Code, rec.Body)
		}
		var m struct{ ID string }
		if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
			b.Fatal(err)
		}
		if rec := call("GET", "/v1/apps/web/machines/"+m.ID, ""); rec.Code != http.StatusOK {
			b.Fatalf("show machine %s: %d", m.ID, rec.Code)
		}
		if rec := call("DELETE", "/v1/apps/web", ""); rec.Code != http.StatusAccepted {
			b.Fatalf("delete app: %d", rec.Code)
		}
		f.ResetCalls() // keep the log from growing across iterations
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(4*b.N), "µs/call")
}
