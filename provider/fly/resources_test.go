package fly

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/provider/flyapi"
)

func TestCreateAppWithoutBodyReadsTheApp(t *testing.T) {
	t.Parallel()
	var shows atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/apps", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated) // as the spec has it: no body
	})
	mux.HandleFunc("GET /v1/apps/{app}", func(w http.ResponseWriter, r *http.Request) {
		if shows.Add(1) == 1 {
			flyError(w, http.StatusNotFound, "app not found", "") // not visible yet
			return
		}
		writeJSON(w, http.StatusOK, flyapi.App{Name: new(r.PathValue("app")), Status: new("pending")})
	})
	app, err := newTestClient(t, mux).CreateApp(context.Background(), flyapi.CreateAppRequest{Name: new("a"), OrgSlug: new("personal")})
	require.NoError(t, err)
	assert.Equal(t, "a", str(app.Name))
}

func TestCreateAppAfterDroppedResponseFindsIt(t *testing.T) {
	t.Parallel()
	var created atomic.Bool
	var posts atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/apps", func(w http.ResponseWriter, r *http.Request) {
		posts.Add(1)
		created.Store(true)
		hangUp(w)
	})
	mux.HandleFunc("GET /v1/apps/{app}", func(w http.ResponseWriter, r *http.Request) {
		if !created.Load() {
			flyError(w, http.StatusNotFound, "app not found", "")
			return
		}
		writeJSON(w, http.StatusOK, flyapi.App{Name: new("a"), Id: new("id-a")})
	})
	app, err := newTestClient(t, mux).CreateApp(context.Background(), flyapi.CreateAppRequest{Name: new("a")})
	require.NoError(t, err)
	assert.Equal(t, "id-a", str(app.Id))
	assert.EqualValues(t, 1, posts.Load())
}

// listStore serves a list endpoint whose create adds an item and then fails
// with 502 the first time.
type listStore[T any] struct {
	mu    sync.Mutex
	items []T
	posts atomic.Int32
}

func (s *listStore[T]) create(t *testing.T, build func(n int32, body []byte) T) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var raw json.RawMessage
		require.NoError(t, json.NewDecoder(r.Body).Decode(&raw))
		n := s.posts.Add(1)
		item := build(n, raw)
		s.mu.Lock()
		s.items = append(s.items, item)
		s.mu.Unlock()
		if n == 1 {
			flyError(w, http.StatusBadGateway, "bad gateway", "")
			return
		}
		writeJSON(w, http.StatusOK, item)
	}
}

func (s *listStore[T]) list(wrap func([]T) any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		writeJSON(w, http.StatusOK, wrap(s.items))
	}
}

func TestCreateVolumeAfterAmbiguousFailureFindsTheNewOne(t *testing.T) {
	t.Parallel()
	// An older volume of the same name exists: names are not unique.
	store := &listStore[flyapi.Volume]{items: []flyapi.Volume{{Id: new("vol_old"), Name: new("data"), Region: new("mad")}}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/apps/a/volumes", store.create(t, func(n int32, body []byte) flyapi.Volume {
		var req flyapi.CreateVolumeRequest
		require.NoError(t, json.Unmarshal(body, &req))
		return flyapi.Volume{Id: new("vol_new"), Name: req.Name, Region: req.Region}
	}))
	mux.HandleFunc("GET /v1/apps/a/volumes", store.list(func(v []flyapi.Volume) any { return v }))

	vol, err := newTestClient(t, mux).CreateVolume(context.Background(), "a", flyapi.CreateVolumeRequest{Name: new("data"), Region: new("mad")})
	require.NoError(t, err)
	assert.Equal(t, "vol_new", str(vol.Id))
	assert.EqualValues(t, 1, store.posts.Load())
}

func TestAssignIPAfterAmbiguousFailureFindsTheNewOne(t *testing.T) {
	t.Parallel()
	store := &listStore[flyapi.IPAssignment]{items: []flyapi.IPAssignment{{Ip: new("2a09:8280:1::1")}}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/apps/a/ip_assignments", store.create(t, func(n int32, _ []byte) flyapi.IPAssignment {
		return flyapi.IPAssignment{Ip: new("66.241.124.7"), Shared: new(true)}
	}))
	mux.HandleFunc("GET /v1/apps/a/ip_assignments", store.list(func(ips []flyapi.IPAssignment) any {
		return flyapi.ListIPAssignmentsResponse{Ips: &ips}
	}))

	ip, err := newTestClient(t, mux).AssignIP(context.Background(), "a", flyapi.AssignIPRequest{Type: new("shared_v4")})
	require.NoError(t, err)
	assert.Equal(t, "66.241.124.7", str(ip.Ip))
	assert.EqualValues(t, 1, store.posts.Load())
}

func TestCreatedSinceRefusesToGuess(t *testing.T) {
	t.Parallel()
	id := func(s string) string { return s }
	all := func(string) bool { return true }
	got, found, err := createdSince([]string{"a"}, []string{"a", "b"}, id, all)
	assert.Equal(t, "b", got)
	assert.True(t, found)
	assert.NoError(t, err)
	_, found, err = createdSince([]string{"a"}, []string{"a"}, id, all)
	assert.False(t, found)
	assert.NoError(t, err)
	_, _, err = createdSince([]string{"a"}, []string{"a", "b", "c"}, id, all)
	assert.ErrorContains(t, err, "2 new objects")
}

func TestSetSecretsUnsetsNilsWithDelete(t *testing.T) {
	t.Parallel()
	var (
		mu      sync.Mutex
		posted  map[string]any
		deleted []string
	)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/apps/a/secrets", func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		require.NoError(t, json.NewDecoder(r.Body).Decode(&body))
		mu.Lock()
		posted = body
		mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"version": 7})
	})
	mux.HandleFunc("DELETE /v1/apps/a/secrets/{name}", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		deleted = append(deleted, r.PathValue("name"))
		n := len(deleted)
		mu.Unlock()
		if r.PathValue("name") == "GONE" {
			flyError(w, http.StatusNotFound, "secret not found", "")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"version": 7 + n})
	})
	v, err := newTestClient(t, mux).SetSecrets(context.Background(), "a",
		map[string]*string{"KEEP": new("v"), "OLD": nil, "GONE": nil})
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"values": map[string]any{"KEEP": "v"}}, posted, "no nulls in the body")
	assert.Equal(t, []string{"GONE", "OLD"}, deleted)
	assert.EqualValues(t, 9, v, "the highest version")
}

func TestSetSecretsErrorHidesValues(t *testing.T) {
	t.Parallel()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		flyError(w, http.StatusBadRequest, `value "s3cret-value" is too long`, "")
	})
	_, err := newTestClient(t, h).SetSecrets(context.Background(), "a", map[string]*string{"API_KEY": new("s3cret-value")})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "s3cret-value")
	assert.Contains(t, err.Error(), "API_KEY")
}

func TestVolumesBeingDestroyedAreGone(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/apps/a/volumes/{id}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, flyapi.Volume{Id: new("vol_1"), State: new("pending_destroy")})
	})
	mux.HandleFunc("PUT /v1/apps/a/volumes/{id}/extend", func(w http.ResponseWriter, r *http.Request) {
		var req flyapi.ExtendVolumeRequest
		require.NoError(t, json.NewDecoder(r.Body).Decode(&req))
		writeJSON(w, http.StatusOK, flyapi.ExtendVolumeResponse{Volume: &flyapi.Volume{SizeGb: req.SizeGb}, NeedsRestart: new(true)})
	})
	c := newTestClient(t, mux)
	_, err := c.GetVolume(context.Background(), "a", "vol_1")
	assert.ErrorIs(t, err, ErrNotFound)
	vol, restart, err := c.ExtendVolume(context.Background(), "a", "vol_1", 20)
	require.NoError(t, err)
	assert.Equal(t, 20, *vol.SizeGb)
	assert.True(t, restart)
}
