package fly

import (
	"context"
	"encoding/json"
	"errors"
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
		m := flyapi.Machine{Id: new(fmt.Sprintf("m%d", n)), State: new("created"), Config: req.Config}
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
			req := flyapi.CreateMachineRequest{Config: &flyapi.FlyMachineConfig{Image: new("nginx"), Metadata: &meta}}

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
		writeJSON(w, http.StatusOK, flyapi.Machine{Id: new("m2")})
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
	m, err := newTestClient(t, mux).CreateMachine(context.Background(), "a", flyapi.CreateMachineRequest{LeaseTtl: new(30)}, "launch-4")
	require.NoError(t, err)
	assert.Equal(t, "n-lost", str(m.Nonce))
}

func TestMutationsSendTheLeaseNonce(t *testing.T) {
	got := map[string]string{}
	var (
		mu      sync.Mutex
		deletes []string
	)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		got[r.Method+" "+r.URL.Path] = r.Header.Get(nonceHeader)
		if r.Method == http.MethodDelete {
			deletes = append(deletes, r.URL.RawQuery)
		}
		if r.URL.Path == "/v1/apps/a/machines/m1/stop" {
			var body map[string]any
			assert.NoError(t, json.NewDecoder(r.Body).Decode(&body))
			assert.Equal(t, map[string]any{"signal": "SIGINT", "timeout": "30s"}, body, "the stop carries the grace")
		}
		writeJSON(w, http.StatusOK, map[string]string{"id": "m1"})
	})
	c := newTestClient(t, h)
	ctx := context.Background()
	_, err := c.UpdateMachine(ctx, "a", "m1", "n1", flyapi.UpdateMachineRequest{})
	require.NoError(t, err)
	require.NoError(t, c.StopMachine(ctx, "a", "m1", "n1", flyapi.StopRequest{Signal: new(flyapi.StopRequestSignal("SIGINT")), Timeout: new("30s")}))
	require.NoError(t, c.Cordon(ctx, "a", "m1", "n1"))
	require.NoError(t, c.Uncordon(ctx, "a", "m1", "n1"))
	require.NoError(t, c.DestroyMachine(ctx, "a", "m1", "n1", true))
	require.NoError(t, c.DestroyMachine(ctx, "a", "m1", "n1", false))
	assert.Equal(t, []string{"force=true", ""}, deletes, "force only when asked")
	assert.Equal(t, map[string]string{
		"POST /v1/apps/a/machines/m1":          "n1",
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
		writeJSON(w, http.StatusOK, flyapi.Machine{Id: new("m1"), State: new("destroyed")})
	})
	mux.HandleFunc("GET /v1/apps/{app}/machines", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, []flyapi.Machine{{Id: new("m1"), State: new("destroyed")}, {Id: new("m2"), State: new("started")}})
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
	assert.NoError(t, c.DestroyMachine(context.Background(), "a", "m1", "", false))
}

// A create Fly refuses for lack of capacity launched nothing, so it is tried
// again (capacityRetries times) before the error reaches the caller.
func TestCreateRetriesInsufficientCapacity(t *testing.T) {
	var creates atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/apps/a/machines", func(w http.ResponseWriter, r *http.Request) {
		if creates.Add(1) <= 2 {
			flyError(w, http.StatusPreconditionFailed, "insufficient resources available to fulfill request", "insufficient_capacity")
			return
		}
		writeJSON(w, http.StatusOK, flyapi.Machine{Id: new("m1")})
	})
	m, err := newTestClient(t, mux).CreateMachine(context.Background(), "a", flyapi.CreateMachineRequest{Region: new("mad")}, "k")
	require.NoError(t, err)
	assert.Equal(t, "m1", str(m.Id))
	assert.EqualValues(t, 3, creates.Load())

	creates.Store(-100) // no capacity, ever
	_, err = newTestClient(t, mux).CreateMachine(context.Background(), "a", flyapi.CreateMachineRequest{Region: new("mad")}, "k")
	assert.True(t, InsufficientCapacity(err), "the last refusal is returned: %v", err)
	assert.EqualValues(t, -100+1+capacityRetries, creates.Load())
}

func TestInsufficientCapacity(t *testing.T) {
	for _, e := range []*APIError{
		{StatusCode: 412, Code: "insufficient_capacity", Message: "no room"},
		{StatusCode: 409, Message: "aborted: could not reserve resource for machine: insufficient memory available"},
		{StatusCode: 422, Message: "Insufficient resources available to fulfill request"},
	} {
		assert.True(t, InsufficientCapacity(fmt.Errorf("wrapped: %w", e)), e.Message)
	}
	assert.False(t, InsufficientCapacity(&APIError{StatusCode: 412, Message: "unable to start machine from current state replacing"}))
	assert.False(t, InsufficientCapacity(errors.New("insufficient resources")), "only Fly's answers")
}
