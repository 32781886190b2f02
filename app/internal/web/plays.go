package web

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"

	"github.com/emothe/emothe/app/internal/store"
)

// Paging limits of /api/plays.
const (
	defaultLimit = 20
	maxLimit     = 100
)

//go:embed templates/index.html
var templates embed.FS

var indexPage = template.Must(template.ParseFS(templates, "templates/index.html"))

// index renders the whole catalogue as HTML (it is small: at most maxLimit shown).
func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	plays, total, err := s.Store.List(r.Context(), store.Filter{Limit: maxLimit})
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	base := s.baseURL(r)
	// Render fully before writing, so a template error is a clean 500.
	var buf bytes.Buffer
	err = indexPage.Execute(&buf, map[string]any{
		"Canonical": base + "/",
		"APIURL":    base + "/api/plays",
		"Plays":     plays,
		"Total":     total,
	})
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = buf.WriteTo(w)
}

type playJSON struct {
	store.Play
	URL string `json:"url"`
}

type playsPage struct {
	Plays  []playJSON `json:"plays"`
	Total  int        `json:"total"`
	Limit  int        `json:"limit"`
	Offset int        `json:"offset"`
	Links  pageLinks  `json:"links"`
}

type pageLinks struct {
	Self string `json:"self"`
	Next string `json:"next,omitempty"`
	Prev string `json:"prev,omitempty"`
}

// listPlays serves /api/plays?limit=&offset=&author=&title=.
func (s *Server) listPlays(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := intParam(q, "limit", defaultLimit, 1, maxLimit)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: err.Error()})
		return
	}
	offset, err := intParam(q, "offset", 0, 0, 1<<31-1)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: err.Error()})
		return
	}
	f := store.Filter{Author: q.Get("author"), Title: q.Get("title"), Limit: limit, Offset: offset}
	plays, total, err := s.Store.List(r.Context(), f)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	base := s.baseURL(r)
	page := playsPage{Plays: make([]playJSON, len(plays)), Total: total, Limit: limit, Offset: offset}
	for i, p := range plays {
		page.Plays[i] = playJSON{Play: p, URL: playURL(base, p.ID)}
	}
	page.Links.Self = pageURL(base, f, offset)
	if offset+limit < total {
		page.Links.Next = pageURL(base, f, offset+limit)
	}
	if offset > 0 {
		page.Links.Prev = pageURL(base, f, max(offset-limit, 0))
	}
	writeJSON(w, http.StatusOK, page)
}

// getPlay serves /api/plays/{id}.
func (s *Server) getPlay(w http.ResponseWriter, r *http.Request) {
	raw := r.PathValue("id")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id < 1 {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: fmt.Sprintf("play id %q is not a positive whole number", raw)})
		return
	}
	p, err := s.Store.Get(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		writeJSON(w, http.StatusNotFound, errorBody{Error: fmt.Sprintf("play %d not found", id)})
		return
	}
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, playJSON{Play: p, URL: playURL(s.baseURL(r), p.ID)})
}

// intParam reads an optional integer query parameter within [lo, hi].
func intParam(q url.Values, name string, def, lo, hi int) (int, error) {
	raw := q.Get(name)
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s is %q; it must be a whole number from %d to %d", name, raw, lo, hi)
	}
	return n, nil
}

// baseURL is the public origin: APP_HOST with the scheme the client used.
// Fly's proxy terminates TLS and says so in X-Forwarded-Proto.
func (s *Server) baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + s.AppHost
}

func playURL(base string, id int64) string {
	return base + "/api/plays/" + strconv.FormatInt(id, 10)
}

func pageURL(base string, f store.Filter, offset int) string {
	q := url.Values{}
	if f.Author != "" {
		q.Set("author", f.Author)
	}
	if f.Title != "" {
		q.Set("title", f.Title)
	}
	q.Set("limit", strconv.Itoa(f.Limit))
	q.Set("offset", strconv.Itoa(offset))
	return base + "/api/plays?" + q.Encode()
}
