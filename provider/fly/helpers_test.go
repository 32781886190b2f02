package fly

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const testToken = "fm2_s3cr3tmacaroon"

// newTestClient points a client with millisecond retry and poll intervals at
// a test server running h.
func newTestClient(t *testing.T, h http.Handler) *APIClient {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := New(Config{
		Token:                testToken,
		BaseURL:              srv.URL,
		RetryInitialInterval: time.Millisecond,
		RetryMaxElapsed:      2 * time.Second,
		PollInterval:         time.Millisecond,
	})
	require.NoError(t, err)
	return c.(*APIClient)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// flyError answers like Fly does on failure.
func flyError(w http.ResponseWriter, status int, msg, code string) {
	writeJSON(w, status, map[string]string{"error": msg, "status": code})
}
