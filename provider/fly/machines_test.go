package fly

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/provider/flyapi"
)

// machineStore is a minimal machines endpoint whose create succeeds on the
// server and then loses its answer in the given way.
type machineStore struct {
	mu       sync.Mutex
	machines []flyapi.Machine
	creates  atomic.Int32
	lose     func(w http.ResponseWriter) // nil answers normally
}

func (s *machineStore) handler(t *testing.T) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/apps/{app}/machines", func(w http.ResponseWriter, r *http.Request) {
		var req flyapi.CreateMachineRequest
		require.NoError(t, json.NewDecoder(r.Body).Decode(&req))
		n := s.creates.Add(1)
		s.mu.Lock()
		m := flyapi.Machine{Id: ptr(fmt.Sprintf("m%d", n)), State: ptr("created"), Config: req.Config}
		s.machines = append(s.machines, m)
		s.mu.Unlock()
		if s.lose != nil {
			s.lose(w)
			return
		}
		writeJSON(w, http.StatusOK, m)
	})
	mux.HandleFunc("GET /v1/apps/{app}/machines", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		writeJSON(w, http.StatusOK, s.machines)
	})
	return mux
}

// hangUp drops the connection after the server did the work.
func hangUp(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		conn.Close()
	}
}

func TestCreateMachineAfterAmbiguousFailureLaunchesOnce(t *testing.T) {
	for name, lose := range map[string]func(http.ResponseWriter){
		"dropped response": hangUp,
		"503 after create": func(w http.ResponseWriter) { flyError(w, http.StatusServiceUnavailable, "upstream died", "") },
		"408 after create": func(w http.ResponseWriter) { flyError(w, http.StatusRequestTimeout, "timed out", "") },
	} {
		t.Run(name, func(t *testing.T) {
			store := &machineStore{lose: lose}
			c := newTestClient(t, store.handler(t))
			meta := map[string]string{MetaProcessGroup: "app"}
			req := flyapi.CreateMachineRequest{Config: &flyapi.FlyMachineConfig{Image: ptr("nginx"), Metadata: &meta}}

			m, err := c.CreateMachine(context.Background(), "a", req, "launch-1")
			require.NoError(t, err)

			assert.EqualValues(t, 1, store.creates.Load(), "the create must not be sent twice")
			require.Len(t, store.machines, 1)
			assert.Equal(t, "m1", str(m.Id))
			assert.Equal(t, "launch-1", (*m.Config.Metadata)[MetaIdempotencyKey])
			assert.Equal(t, "app", (*m.Config.Metadata)[MetaProcessGroup])
			assert.Equal(t, map[string]string{MetaProcessGroup: "app"}, meta, "the caller's metadata is left alone")
		})
	}
}

func TestCreateMachineWithoutKeyIsNotRetriedBlindly(t *testing.T) {
	store := &machineStore{lose: hangUp}
	_, err := newTestClient(t, store.handler(t)).CreateMachine(context.Background(), "a", flyapi.CreateMachineRequest{}, "")
	require.ErrorContains(t, err, "may have succeeded")
	assert.EqualValues(t, 1, store.creates.Load())
}

func TestCreateMachineWithoutTraceRetries(t *testing.T) {
	var posts atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/apps/{app}/machines", func(w http.ResponseWriter, r *http.Request) {
		if posts.Add(1) == 1 {
			hangUp(w) // failed before creating anything
			return
		}
		writeJSON(w, http.StatusOK, flyapi.Machine{Id: ptr("m2")})
	})
	mux.HandleFunc("GET /v1/apps/{app}/machines", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, []flyapi.Machine{})
	})
	m, err := newTestClient(t, mux).CreateMachine(context.Background(), "a", flyapi.CreateMachineRequest{}, "launch-2")
	require.NoError(t, err)
	assert.Equal(t, "m2", str(m.Id))
	assert.EqualValues(t, 2, posts.Load())
}

func TestCreateMachineStopsWhenLookupFails(t *testing.T) {
	var posts atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/apps/{app}/machines", func(w http.ResponseWriter, r *http.Request) {
		posts.Add(1)
		hangUp(w)
	})
	mux.HandleFunc("GET /v1/apps/{app}/machines", func(w http.ResponseWriter, r *http.Request) {
		flyError(w, http.StatusForbidden, "no list for you", "")
	})
	_, err := newTestClient(t, mux).CreateMachine(context.Background(), "a", flyapi.CreateMachineRequest{}, "launch-3")
	require.ErrorContains(t, err, "may have succeeded")
	assert.ErrorContains(t, err, "no list for you")
	assert.EqualValues(t, 1, posts.Load(), "no blind retry when the lookup fails")
}

func TestCreateMachineRecoversLeaseNonce(t *testing.T) {
	store := &machineStore{lose: hangUp}
	mux := store.handler(t).(*http.ServeMux)
	mux.HandleFunc("GET /v1/apps/{app}/machines/{id}/lease", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "success", "data": map[string]any{"nonce": "n-lost"}})
	})
	m, err := newTestClient(t, mux).CreateMachine(context.Background(), "a", flyapi.CreateMachineRequest{LeaseTtl: ptr(30)}, "launch-4")
	require.NoError(t, err)
	assert.Equal(t, "n-lost", str(m.Nonce))
}

func TestMutationsSendTheLeaseNonce(t *testing.T) {
	got := map[string]string{}
	var mu sync.Mutex
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got[r.Method+" "+r.URL.Path] = r.Header.Get(nonceHeader)
		mu.Unlock()
		if r.Method == http.MethodDelete {
			assert.Equal(t, "true", r.URL.Query().Get("force"))
		}
		writeJSON(w, http.StatusOK, map[string]string{"id": "m1"})
	})
	c := newTestClient(t, h)
	ctx := context.Background()
	_, err := c.UpdateMachine(ctx, "a", "m1", "n1", flyapi.UpdateMachineRequest{})
	require.NoError(t, err)
	require.NoError(t, c.StartMachine(ctx, "a", "m1", "n1"))
	require.NoError(t, c.StopMachine(ctx, "a", "m1", "n1"))
	require.NoError(t, c.Cordon(ctx, "a", "m1", "n1"))
	require.NoError(t, c.Uncordon(ctx, "a", "m1", "n1"))
	require.NoError(t, c.DestroyMachine(ctx, "a", "m1", "n1"))
	assert.Equal(t, map[string]string{
		"POST /v1/apps/a/machines/m1":          "n1",
		"POST /v1/apps/a/machines/m1/start":    "n1",
		"POST /v1/apps/a/machines/m1/stop":     "n1",
		"POST /v1/apps/a/machines/m1/cordon":   "n1",
		"POST /v1/apps/a/machines/m1/uncordon": "n1",
		"DELETE /v1/apps/a/machines/m1":        "n1",
	}, got)

	_, err = c.UpdateMachine(ctx, "a", "m1", "", flyapi.UpdateMachineRequest{})
	require.NoError(t, err)
	assert.Empty(t, got["POST /v1/apps/a/machines/m1"], "no nonce, no header")
}

func TestDestroyedMachinesAreNotFound(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/apps/{app}/machines/{id}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, flyapi.Machine{Id: ptr("m1"), State: ptr("destroyed")})
	})
	mux.HandleFunc("GET /v1/apps/{app}/machines", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, []flyapi.Machine{{Id: ptr("m1"), State: ptr("destroyed")}, {Id: ptr("m2"), State: ptr("started")}})
	})
	mux.HandleFunc("DELETE /v1/apps/{app}/machines/{id}", func(w http.ResponseWriter, r *http.Request) {
		flyError(w, http.StatusNotFound, "machine not found", "")
	})
	c := newTestClient(t, mux)
	_, err := c.GetMachine(context.Background(), "a", "m1")
	assert.ErrorIs(t, err, ErrNotFound)
	ms, err := c.ListMachines(context.Background(), "a")
	require.NoError(t, err)
	require.Len(t, ms, 1)
	assert.Equal(t, "m2", str(ms[0].Id))
	assert.NoError(t, c.DestroyMachine(context.Background(), "a", "m1", ""))
}
