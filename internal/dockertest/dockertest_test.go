package dockertest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestDockerErrorCarriesStderr(t *testing.T) {
	RequireEngine(t)
	_, err := Docker(context.Background(), "image", "inspect", "emothe-no-such-image:never")
	if err == nil || !strings.Contains(err.Error(), "No such image") {
		t.Fatalf("want docker's own complaint in the error, got %v", err)
	}
}

func TestEnvFileIsPrivateAndVerbatim(t *testing.T) {
	path := EnvFile(t, map[string]string{"B": "two words", "A": "x=y"})
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600: the file holds secrets", fi.Mode().Perm())
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := "A=x=y\nB=two words\n"; string(got) != want {
		t.Errorf("env file %q, want %q", got, want)
	}
}

func TestWaitHTTP(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ready" && calls.Add(1) > 3 {
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	if err := WaitHTTP(ctx, srv.URL+"/ready", http.StatusOK); err != nil {
		t.Fatalf("want success once the server turns ready: %v", err)
	}
	if calls.Load() != 4 {
		t.Errorf("%d requests, want 4: three 503s, then the 200", calls.Load())
	}

	short, cancelShort := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancelShort()
	err := WaitHTTP(short, srv.URL+"/never", http.StatusOK)
	if err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("want a timeout that names the last answer (503), got %v", err)
	}
}
