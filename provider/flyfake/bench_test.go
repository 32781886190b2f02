package flyfake_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/emothe/emothe/provider/flyfake"
)

// BenchmarkValidatedCall measures one machine create and one show through
// the whole pipeline (auth, spec validation, call log, handler), in process:
// the fake's own cost per call, which bounds how fast provider tests can go.
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
	if rec := call("POST", "/v1/apps", `{"name":"web","org_slug":"personal"}`); rec.Code != http.StatusCreated {
		b.Fatalf("create app: %d %s", rec.Code, rec.Body)
	}
	body := `{"region":"ams","config":{"image":"registry.fly.io/web:v1","guest":{"cpu_kind":"shared","cpus":1,"memory_mb":256},` +
		`"services":[{"protocol":"tcp","internal_port":8080,"autostop":"stop","ports":[{"port":443,"handlers":["tls","http"]}],` +
		`"checks":[{"type":"http","port":8080,"path":"/healthz","interval":"15s","timeout":"2s"}]}]}}`
	b.ResetTimer()
	for b.Loop() {
		rec := call("POST", "/v1/apps/web/machines", body)
		if rec.Code != http.StatusOK {
			b.Fatalf("create machine: %d %s", rec.Code, rec.Body)
		}
		if rec := call("GET", "/v1/apps/web", ""); rec.Code != http.StatusOK {
			b.Fatalf("show app: %d", rec.Code)
		}
		f.ResetCalls() // keep the log from growing across iterations
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(2*b.N), "µs/call")
}
