package web

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/emothe/emothe/app/internal/metrics"
	"github.com/jackc/pgx/v5/pgxpool"
)

// newTestServer has no store: these tests only reach routes and middleware
// that never touch the database. The pool only feeds /metrics its statistics;
// it never dials.
func newTestServer(t *testing.T, logs *bytes.Buffer) *Server {
	pool, err := pgxpool.New(context.Background(), "postgres://nobody@127.0.0.1:1/none")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return New(Config{
		Metrics: metrics.New(pool.Stat),
		Log:     slog.New(slog.NewJSONHandler(logs, nil)),
		AppHost: "emothe.example:8443",
	})
}

func get(h http.Handler, host, path string, header map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	r.Host = host
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestDrainTurnsReadinessOff(t *testing.T) {
	s := newTestServer(t, new(bytes.Buffer))
	s.Drain()
	w := get(s, "localhost", "/readyz", nil)
	if w.Code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz while draining = %d, want 503", w.Code)
	}
	var body map[string]string
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body["reason"] != "shutting down" {
		t.Fatalf("/readyz body %q (err %v), want JSON reason \"shutting down\"", w.Body, err)
	}
	if w := get(s, "localhost", "/healthz", nil); w.Code != http.StatusOK {
		t.Fatalf("/healthz while draining = %d, want 200: liveness must not fail a draining server", w.Code)
	}
}

func TestHostCheck(t *testing.T) {
	s := newTestServer(t, new(bytes.Buffer))
	s.Drain() // /readyz then answers without a store
	tests := []struct {
		host, path string
		want       int
	}{
		{"emothe.example:8443", "/nope", http.StatusNotFound}, // allowed through to the mux
		{"EMOTHE.example", "/nope", http.StatusNotFound},      // any port, any case
		{"localhost:8080", "/nope", http.StatusNotFound},
		{"127.0.0.1", "/nope", http.StatusNotFound},
		{"[::1]:8080", "/nope", http.StatusNotFound},
		{"evil.example", "/nope", http.StatusMisdirectedRequest},
		{"evil.example", "/api/plays", http.StatusMisdirectedRequest},
		{"emothe.example.evil.example", "/", http.StatusMisdirectedRequest},
		{"[fdaa::3]:8080", "/healthz", http.StatusOK}, // Fly's checks use the machine's address
		{"172.17.0.2:8080", "/healthz", http.StatusOK},
		{"[fdaa::3]:8080", "/readyz", http.StatusServiceUnavailable}, // reached the handler (drained below)
		{"[fdaa::3]:9091", "/metrics", http.StatusOK},
	}
	for _, tt := range tests {
		if w := get(s, tt.host, tt.path, nil); w.Code != tt.want {
			t.Errorf("GET %s with Host %q = %d, want %d (%s)", tt.path, tt.host, w.Code, tt.want, w.Body)
		}
	}
}

func TestRequestIDHonouredOrGenerated(t *testing.T) {
	s := newTestServer(t, new(bytes.Buffer))
	tests := []struct {
		name   string
		header map[string]string
		want   string // "" means a generated id
	}{
		{"fly", map[string]string{"Fly-Request-Id": "01HZX8-ams", "X-Request-Id": "other"}, "01HZX8-ams"},
		{"generic", map[string]string{"X-Request-Id": "abc.123:x_y"}, "abc.123:x_y"},
		{"none", nil, ""},
		{"forged log line", map[string]string{"X-Request-Id": "a\" injected=\"1"}, ""},
		{"too long", map[string]string{"X-Request-Id": strings.Repeat("a", 129)}, ""},
	}
	generated := regexp.MustCompile(`^[0-9a-f]{32}$`)
	for _, tt := range tests {
		got := get(s, "localhost", "/healthz", tt.header).Header().Get("X-Request-Id")
		if tt.want != "" && got != tt.want {
			t.Errorf("%s: X-Request-Id = %q, want %q", tt.name, got, tt.want)
		}
		if tt.want == "" && !generated.MatchString(got) {
			t.Errorf("%s: X-Request-Id = %q, want a generated 32-hex id", tt.name, got)
		}
	}
}

func TestOneLogLinePerRequestWithRoutePattern(t *testing.T) {
	var logs bytes.Buffer
	s := newTestServer(t, &logs)
	get(s, "localhost", "/healthz", map[string]string{"X-Request-Id": "req-1"})
	get(s, "localhost", "/no/such/page", map[string]string{"X-Request-Id": "req-2"})

	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d log lines, want 2:\n%s", len(lines), logs.String())
	}
	want := []map[string]any{
		{"msg": "request", "method": "GET", "route": "GET /healthz", "status": 200.0, "request_id": "req-1"},
		{"msg": "request", "route": "unmatched", "path": "/no/such/page", "status": 404.0, "request_id": "req-2"},
	}
	for i, line := range lines {
		var got map[string]any
		if err := json.Unmarshal([]byte(line), &got); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		for k, v := range want[i] {
			if got[k] != v {
				t.Errorf("line %d: %s = %v, want %v", i, k, got[k], v)
			}
		}
		if _, ok := got["duration_ms"].(float64); !ok {
			t.Errorf("line %d has no numeric duration_ms: %s", i, line)
		}
	}
}
