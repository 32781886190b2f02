package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// slowRoute is a handler that production lacks: it signals started, then
// holds its request open until release is closed.
func slowRoute(started, release chan struct{}) option {
	return withRoute("GET /slow", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		fmt.Fprint(w, "done")
	}))
}

type result struct {
	status int
	body   string
	err    error
}

func getAsync(url string) chan result {
	ch := make(chan result, 1)
	go func() {
		resp, err := http.Get(url)
		if err != nil {
			ch <- result{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		ch <- result{status: resp.StatusCode, body: string(b), err: err}
	}()
	return ch
}

// waitRefused waits until nothing accepts connections on addr any more.
func waitRefused(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return
		}
		c.Close()
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s still accepts connections 10s after shutdown began", addr)
}

func TestShutdownLetsInFlightRequestFinish(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	a := startApp(t, pg.DSN(), nil, slowRoute(started, release))

	slow := getAsync(a.url + "/slow")
	<-started
	exited := make(chan int, 1)
	go func() { exited <- a.shutdown() }() // SIGTERM

	waitRefused(t, strings.TrimPrefix(a.url, "http://"))
	select {
	case code := <-exited:
		t.Fatalf("serve returned %d while a request was still in flight", code)
	default:
	}

	close(release)
	if r := <-slow; r.err != nil || r.status != 200 || r.body != "done" {
		t.Fatalf("in-flight request got %d %q (err %v), want 200 \"done\"", r.status, r.body, r.err)
	}
	if code := <-exited; code != 0 {
		t.Fatalf("serve exited %d after a clean drain, want 0; stderr: %s", code, a.stderr)
	}
	if !strings.Contains(a.stdout.String(), `"msg":"stopped"`) {
		t.Errorf("no \"stopped\" log line:\n%s", a.stdout)
	}
}

func TestShutdownGivesUpAfterTimeout(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	a := startApp(t, pg.DSN(), []string{"SHUTDOWN_TIMEOUT=100ms"}, slowRoute(started, release))

	slow := getAsync(a.url + "/slow")
	<-started
	if code := a.shutdown(); code != 1 {
		t.Fatalf("serve exited %d with a request stuck past SHUTDOWN_TIMEOUT, want 1", code)
	}
	if !strings.Contains(a.stderr.String(), "SHUTDOWN_TIMEOUT=100ms") {
		t.Errorf("stderr %q does not name the timeout", a.stderr)
	}
	if r := <-slow; r.err == nil {
		t.Errorf("stuck request completed with %d after the server gave up on it", r.status)
	}
}
