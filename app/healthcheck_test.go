package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

func healthcheckPort(port int) (int, string) {
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"healthcheck"}, environ(fmt.Sprintf("PORT=%d", port)), io.Discard, &stderr)
	return code, stderr.String()
}

func TestHealthcheck(t *testing.T) {
	a := startApp(t, pg.DSN(), nil)
	if code, stderr := healthcheckPort(a.port); code != 0 {
		t.Errorf("against a running server: exit %d (%s), want 0", code, stderr)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	free := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	if code, stderr := healthcheckPort(free); code != 1 || stderr == "" {
		t.Errorf("with nothing listening: exit %d (%q), want 1 with a message", code, stderr)
	}

	unhealthy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer unhealthy.Close()
	if code, _ := healthcheckPort(unhealthy.Listener.Addr().(*net.TCPAddr).Port); code != 1 {
		t.Errorf("against a 503: exit %d, want 1", code)
	}
}
