// Package web is the service's HTTP layer: routes, handlers and the
// middleware that checks the Host, tags requests with an id, logs them and
// counts them.
package web

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/emothe/emothe/app/internal/metrics"
	"github.com/emothe/emothe/app/internal/store"
	"github.com/emothe/emothe/contract"
)

// Config is what the handlers need.
type Config struct {
	Store   *store.Store
	Metrics *metrics.Metrics
	Log     *slog.Logger
	// AppHost is the public host[:port]: the base of absolute URLs and the
	// Host the catalogue answers to (see allowedHost).
	AppHost string
}

// Option adjusts a Server.
type Option func(*http.ServeMux)

// WithRoute adds a route. Tests use it to mount handlers that production
// does not have, such as a deliberately slow one.
func WithRoute(pattern string, h http.Handler) Option {
	return func(mux *http.ServeMux) { mux.Handle(pattern, h) }
}

// Server is the service's http.Handler.
type Server struct {
	Config
	draining atomic.Bool
	handler  http.Handler
}

// New builds the handler with its routes.
func New(cfg Config, opts ...Option) *Server {
	s := &Server{Config: cfg}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.index)
	mux.HandleFunc("GET /api/plays", s.listPlays)
	mux.HandleFunc("GET /api/plays/{id}", s.getPlay)
	mux.HandleFunc("GET "+contract.HealthPath, s.healthz)
	mux.HandleFunc("GET "+contract.ReadyPath, s.readyz)
	mux.Handle("GET "+contract.MetricsPath, cfg.Metrics.Handler())
	for _, opt := range opts {
		opt(mux)
	}
	// checkHost sits inside observe, so rejected requests are logged and
	// counted too; neither may copy the request on its way to the mux, which
	// records the matched pattern on it for observe to read.
	s.handler = s.observe(s.checkHost(mux))
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// Drain makes /readyz fail from now on, so load balancers stop routing here
// while in-flight requests finish.
func (s *Server) Drain() { s.draining.Store(true) }

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyTimeout bounds the database check, so an unresponsive database makes
// /readyz answer 503 rather than outlast the prober's own timeout.
const readyTimeout = 2 * time.Second

// readyz is 200 only while not draining, with the database reachable and its
// schema migrated; otherwise 503 with the reason.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.draining.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": "shutting down"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	err := s.Store.Ready(ctx)
	if err == nil {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
		return
	}
	reason := err.Error()
	if errors.Is(err, store.ErrUnreachable) {
		// Connection errors name hosts and users: keep them in the log.
		s.Log.WarnContext(r.Context(), "not ready", "err", err, "request_id", requestIDFrom(r.Context()))
		reason = store.ErrUnreachable.Error()
	}
	writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": reason})
}

type errorBody struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client hung up: nothing left to tell it
}

// internalError logs err against the request and sends a body without it.
func (s *Server) internalError(w http.ResponseWriter, r *http.Request, err error) {
	ctx := r.Context()
	s.Log.ErrorContext(ctx, "request failed", "err", err, "request_id", requestIDFrom(ctx))
	writeJSON(w, http.StatusInternalServerError, errorBody{Error: "internal error; request id " + requestIDFrom(ctx)})
}
