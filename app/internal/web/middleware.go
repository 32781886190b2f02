package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/emothe/emothe/contract"
)

type requestIDKey struct{}

// requestIDFrom returns the id observe gave the request.
func requestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// observe gives each request an id (echoed in X-Request-Id), then logs one
// line for it and records its metrics, both labelled by route pattern.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := requestID(r.Header)
		w.Header().Set("X-Request-Id", id)
		r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id))
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}

		next.ServeHTTP(rec, r)

		took := time.Since(start)
		route := r.Pattern // set by the mux on this very request
		if route == "" {
			route = "unmatched"
		}
		s.Metrics.Observe(route, rec.status, took)
		s.Log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method),
			slog.String("route", route),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.status),
			slog.Float64("duration_ms", float64(took.Microseconds())/1000),
			slog.String("request_id", id))
	})
}

// requestID reuses the id Fly's proxy (Fly-Request-Id) or another proxy
// (X-Request-Id) assigned, so logs line up across hops; else it makes one.
func requestID(h http.Header) string {
	for _, name := range []string{"Fly-Request-Id", "X-Request-Id"} {
		if v := h.Get(name); validRequestID(v) {
			return v
		}
	}
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails on Linux
	return hex.EncodeToString(b[:])
}

// validRequestID keeps client-chosen ids short and plain, so they cannot
// forge log lines or bloat headers.
func validRequestID(v string) bool {
	if v == "" || len(v) > 128 {
		return false
	}
	for _, c := range v {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_.:", c)) {
			return false
		}
	}
	return true
}

// checkHost answers only to the public host (APP_HOST) and to loopback names,
// for local use. A request naming another host is answered 421 Misdirected
// Request: it was meant for someone else, and our absolute URLs would lie.
// The probes and /metrics are exempt: Fly's health checks and metrics scraper
// and Docker's healthcheck call them by the machine's own address.
func (s *Server) checkHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if anyHostPaths[r.URL.Path] || s.allowedHost(r.Host) {
			next.ServeHTTP(w, r)
			return
		}
		writeJSON(w, http.StatusMisdirectedRequest, errorBody{
			Error: "this service answers to host " + s.AppHost + ", not " + r.Host,
		})
	})
}

var anyHostPaths = map[string]bool{contract.HealthPath: true, contract.ReadyPath: true, contract.MetricsPath: true}

func (s *Server) allowedHost(hostport string) bool {
	switch hostOnly(hostport) {
	case hostOnly(s.AppHost), "localhost", "127.0.0.1", "::1":
		return true
	}
	return false
}

// hostOnly drops the port and IPv6 brackets and lowercases the name.
func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		hostport = h
	}
	return strings.ToLower(strings.Trim(hostport, "[]"))
}

// statusRecorder remembers the status code a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the real writer (Flush etc.).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
