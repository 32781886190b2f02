package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// The shutdown tests run serve inside a synctest bubble: its clock is fake
// and synctest.Wait returns once every goroutine of the bubble is blocked, so
// "serve has begun draining" is a fact to assert on, not a moment to poll or
// sleep for. The network is replaced by in-memory pipes, as the bubble
// requires; pipePort is the PORT serve is told, and the Host requests name.
const pipePort = 8080

// slowRoute is a handler that production lacks: it signals started, then
// holds its request open until release is closed.
func slowRoute(started, release chan struct{}) option {
	return withRoute("GET /slow", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		fmt.Fprint(w, "done")
	}))
}

// captureMux hands the test serve's router, to ask it directly what a
// request would get.
func captureMux(m **http.ServeMux) option {
	return func(o *options) { o.web = append(o.web, func(mux *http.ServeMux) { *m = mux }) }
}

// pipeListener is a net.Listener whose connections are net.Pipe pairs.
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
	close func()
}

var errRefused = errors.New("connection refused: the listener is closed")

func newPipeListener() *pipeListener {
	l := &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
	l.close = sync.OnceFunc(func() { close(l.done) })
	return l
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error { l.close(); return nil }

func (l *pipeListener) Addr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: pipePort}
}

// closed reports whether serve has closed the listener.
func (l *pipeListener) closed() bool {
	select {
	case <-l.done:
		return true
	default:
		return false
	}
}

// dial returns the client end of a connection serve has accepted, or
// errRefused once the listener is closed.
func (l *pipeListener) dial() (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.done:
		client.Close()
		server.Close()
		return nil, errRefused
	}
}

type result struct {
	status int
	body   string
	err    error
}

// get sends GET path on conn and reads the answer; it closes conn.
func get(conn net.Conn, path string) result {
	defer conn.Close()
	req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("http://localhost:%d%s", pipePort, path), nil)
	if err != nil {
		return result{err: err}
	}
	if err := req.Write(conn); err != nil {
		return result{err: err}
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		return result{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return result{status: resp.StatusCode, body: string(b), err: err}
}

// getAsync dials and GETs path in the background.
func (l *pipeListener) getAsync(path string) <-chan result {
	ch := make(chan result, 1)
	go func() {
		conn, err := l.dial()
		if err != nil {
			ch <- result{err: err}
			return
		}
		ch <- get(conn, path)
	}()
	return ch
}

// startSlow starts serve on a pipe listener with the slow route and a GET
// of it in flight. The cleanup lets the handler go, so no goroutine outlives
// the bubble even when the test fails early.
func startSlow(t *testing.T, env []string, opts ...option) (a *app, ln *pipeListener, slow <-chan result, release func()) {
	started, released := make(chan struct{}), make(chan struct{})
	ln = newPipeListener()
	a = launch(t, ln, pipePort, pg.DSN(), env, append(opts, slowRoute(started, released))...)
	release = sync.OnceFunc(func() { close(released) })
	t.Cleanup(release)
	slow = ln.getAsync("/slow")
	<-started
	return a, ln, slow, release
}

// exited returns serve's exit code if it has returned.
func (a *app) exited() (int, bool) {
	select {
	case code := <-a.done:
		a.done <- code // keep it for shutdown
		return code, true
	default:
		return 0, false
	}
}

func TestShutdownLetsInFlightRequestFinish(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mux *http.ServeMux
		a, ln, slow, release := startSlow(t, nil, captureMux(&mux))

		a.stop() // SIGTERM
		synctest.Wait()

		// The listener is closed by now, and net/http serves no request that
		// arrives after shutdown began, so readiness is asked in-process: the
		// same handler a load balancer's probe reaches.
		probe := httptest.NewRecorder()
		mux.ServeHTTP(probe, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		if probe.Code != http.StatusServiceUnavailable || reason(probe.Body.String()) != "shutting down" {
			t.Errorf("/readyz while draining: %d %q, want 503 with reason \"shutting down\"", probe.Code, probe.Body)
		}
		if !ln.closed() {
			t.Error("serve did not close its listener on SIGTERM")
		}
		if _, err := ln.dial(); !errors.Is(err, errRefused) {
			t.Errorf("a new connection after SIGTERM: err %v, want it refused", err)
		}
		if code, ok := a.exited(); ok {
			t.Fatalf("serve returned %d while a request was still in flight", code)
		}

		release()
		if r := <-slow; r.err != nil || r.status != http.StatusOK || r.body != "done" {
			t.Fatalf("in-flight request got %d %q (err %v), want 200 \"done\"", r.status, r.body, r.err)
		}
		if code := a.shutdown(); code != 0 {
			t.Fatalf("serve exited %d after a clean drain, want 0; stderr: %s", code, a.stderr)
		}
		if !strings.Contains(a.stdout.String(), `"msg":"stopped"`) {
			t.Errorf("no \"stopped\" log line:\n%s", a.stdout)
		}
	})
}

// reason reads /readyz's JSON reason.
func reason(body string) string {
	var v struct{ Reason string }
	_ = json.Unmarshal([]byte(body), &v)
	return v.Reason
}

func TestShutdownGivesUpAfterTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const timeout = 30 * time.Second
		a, _, slow, _ := startSlow(t, []string{"SHUTDOWN_TIMEOUT=" + timeout.String()})

		a.stop() // SIGTERM
		time.Sleep(timeout - time.Nanosecond)
		synctest.Wait()
		if code, ok := a.exited(); ok {
			t.Fatalf("serve exited %d before SHUTDOWN_TIMEOUT=%s was up", code, timeout)
		}

		time.Sleep(time.Nanosecond)
		synctest.Wait()
		code, ok := a.exited()
		if !ok || code != 1 {
			t.Fatalf("serve (exited %v, code %d) with a request stuck at SHUTDOWN_TIMEOUT, want exit 1", ok, code)
		}
		if !strings.Contains(a.stderr.String(), "SHUTDOWN_TIMEOUT="+timeout.String()) {
			t.Errorf("stderr %q does not name the timeout", a.stderr)
		}
		if r := <-slow; r.err == nil {
			t.Errorf("stuck request completed with %d after the server gave up on it", r.status)
		}
	})
}
