package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/emothe/emothe/internal/pgtest"
)

// pg is one throwaway Postgres for the package; each test takes its own database.
var pg *pgtest.Server

func TestMain(m *testing.M) {
	var err error
	if pg, err = pgtest.StartServer(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	if err := pg.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}

const testSecret = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// environ builds a getenv from KEY=VALUE pairs.
func environ(pairs ...string) func(string) string {
	m := map[string]string{}
	for _, p := range pairs {
		k, v, _ := strings.Cut(p, "=")
		m[k] = v
	}
	return func(k string) string { return m[k] }
}

// syncBuffer is an io.Writer safe to read while a server writes to it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// app is `emothe serve` running in-process.
type app struct {
	url    string // http://127.0.0.1:PORT
	port   int
	stop   context.CancelFunc // what SIGTERM does
	done   chan int           // run's exit code
	stdout *syncBuffer
	stderr *syncBuffer

	once sync.Once
	code int
}

// shutdown does what SIGTERM does and returns serve's exit code.
func (a *app) shutdown() int {
	a.once.Do(func() {
		a.stop()
		a.code = <-a.done
	})
	return a.code
}

// startApp runs serve on a loopback port against dsn with extra env pairs;
// the test's cleanup stops it if the test did not.
func startApp(t testing.TB, dsn string, env []string, opts ...option) *app {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return launch(t, ln, ln.Addr().(*net.TCPAddr).Port, dsn, env, opts...)
}

// launch runs serve on ln, which stands for the given port, against dsn with
// extra env pairs; the test's cleanup stops it if the test did not.
func launch(t testing.TB, ln net.Listener, port int, dsn string, env []string, opts ...option) *app {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a := &app{
		url: fmt.Sprintf("http://127.0.0.1:%d", port), port: port, stop: cancel,
		done: make(chan int, 1), stdout: new(syncBuffer), stderr: new(syncBuffer),
	}
	// PORT matches the listener, as in production, so APP_HOST's default fits.
	getenv := environ(append([]string{"DATABASE_URL=" + dsn, "SECRET_KEY_BASE=" + testSecret, fmt.Sprintf("PORT=%d", port)}, env...)...)
	go func() {
		a.done <- run(ctx, []string{"serve"}, getenv, a.stdout, a.stderr, append(opts, withListener(ln))...)
	}()
	t.Cleanup(func() { a.shutdown() })
	return a
}

// migrated returns a new database with the migrations applied.
func migrated(t testing.TB) string {
	t.Helper()
	dsn := pg.NewDatabase(t)
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"migrate"}, environ("DATABASE_URL="+dsn), io.Discard, &stderr); code != 0 {
		t.Fatalf("migrate exited %d: %s", code, stderr.String())
	}
	return dsn
}

// getJSON GETs url, decodes a JSON body into v (if not nil) and returns the status.
func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("GET %s: Content-Type %q, want JSON", url, ct)
	}
	if v != nil {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("GET %s: decode: %v", url, err)
		}
	}
	return resp.StatusCode
}

func TestUsage(t *testing.T) {
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"launch"}, environ(), io.Discard, &stderr); code != 2 {
		t.Errorf("unknown subcommand exited %d, want 2", code)
	}
	if !strings.Contains(stderr.String(), `unknown subcommand "launch"`) || !strings.Contains(stderr.String(), "usage: emothe") {
		t.Errorf("stderr %q lacks the problem or the usage", stderr.String())
	}
}

// Config errors exit 2 before touching anything, list every problem and never
// print the secrets; the wording of each message is tested in package config.
func TestBadConfigExitsTwoWithoutLeakingSecrets(t *testing.T) {
	tests := []struct {
		cmd  string
		env  []string
		want []string
	}{
		{"serve", nil, []string{"DATABASE_URL is not set", "SECRET_KEY_BASE is not set"}},
		{"serve", []string{"DATABASE_URL=mysql://u:hunter2pw@db/x", "SECRET_KEY_BASE=hunter2pw", "PORT=99999"},
			[]string{`scheme "mysql"`, "SECRET_KEY_BASE is 9 characters", `PORT is "99999"`}},
		{"migrate", []string{"PORT=not-needed"}, []string{"DATABASE_URL is not set"}},
		{"healthcheck", []string{"PORT=eighty"}, []string{`PORT is "eighty"`}},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), []string{tt.cmd}, environ(tt.env...), &stdout, &stderr)
		if code != 2 {
			t.Errorf("%s %v exited %d, want 2", tt.cmd, tt.env, code)
		}
		for _, w := range tt.want {
			if !strings.Contains(stderr.String(), w) {
				t.Errorf("%s: stderr %q lacks %q", tt.cmd, stderr.String(), w)
			}
		}
		if out := stdout.String() + stderr.String(); strings.Contains(out, "hunter2pw") {
			t.Errorf("%s: output leaks a secret: %s", tt.cmd, out)
		}
	}
}
