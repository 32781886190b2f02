package fly

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLeaseAcquireRefreshRelease(t *testing.T) {
	var (
		acquires  atomic.Int32
		released  atomic.Bool
		refreshed = make(chan struct{}, 100)
		mu        sync.Mutex
		problems  []string
	)
	fail := func(msg string) { mu.Lock(); problems = append(problems, msg); mu.Unlock() }
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/apps/a/machines/m1/lease", func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		if json.NewDecoder(r.Body).Decode(&body) != nil || body["ttl"] != float64(1) || r.URL.RawQuery != "" {
			fail("lease TTL must be the JSON body {\"ttl\": 1}, not a query")
		}
		nonce := r.Header.Get(nonceHeader)
		switch {
		case nonce == "" && acquires.Add(1) == 1:
			flyError(w, http.StatusConflict, "machine is leased by someone else", "")
		case nonce == "":
			writeJSON(w, http.StatusCreated, map[string]any{"status": "success", "data": map[string]any{"nonce": "n1", "expires_at": 1}})
		case nonce == "n1" && !released.Load():
			writeJSON(w, http.StatusCreated, map[string]any{"status": "success", "data": map[string]any{"nonce": "n1"}})
			refreshed <- struct{}{}
		default:
			fail("refresh after release or with a wrong nonce: " + nonce)
		}
	})
	mux.HandleFunc("DELETE /v1/apps/a/machines/m1/lease", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(nonceHeader) != "n1" {
			fail("release without the nonce")
		}
		released.Store(true)
		w.WriteHeader(http.StatusOK)
	})
	c := newTestClient(t, mux)

	// 20ms: Fly's TTL rounds up to 1s, refreshes come every 10ms.
	lease, err := c.AcquireLease(context.Background(), "a", "m1", 20*time.Millisecond)
	require.NoError(t, err)
	assert.Equal(t, "n1", lease.Nonce())
	assert.EqualValues(t, 2, acquires.Load(), "a 409 is retried")

	for range 2 {
		select {
		case <-refreshed:
		case <-time.After(5 * time.Second):
			t.Fatal("the lease was not refreshed in the background")
		}
	}
	require.NoError(t, lease.Release(context.Background()))
	assert.True(t, released.Load())
	// Release waits for the refresher to stop, so none can follow it.
	mu.Lock()
	defer mu.Unlock()
	assert.Empty(t, problems)
}

func TestLeaseHeldTooLongFails(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		flyError(w, http.StatusConflict, "machine is leased by someone else", "")
	})
	c := newTestClient(t, h)
	c.retryMaxElapsed = 20 * time.Millisecond
	_, err := c.AcquireLease(context.Background(), "a", "m1", time.Second)
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusConflict, ae.StatusCode)
	assert.ErrorContains(t, err, "acquiring the lease on machine m1")
}

func TestReleasingAGoneLeaseIsFine(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/apps/a/machines/m1/lease", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusCreated, map[string]any{"nonce": "n1"}) // the spec's bare Lease
	})
	mux.HandleFunc("DELETE /v1/apps/a/machines/m1/lease", func(w http.ResponseWriter, r *http.Request) {
		flyError(w, http.StatusNotFound, "lease not found", "")
	})
	lease, err := newTestClient(t, mux).AcquireLease(context.Background(), "a", "m1", time.Minute)
	require.NoError(t, err)
	assert.Equal(t, "n1", lease.Nonce())
	assert.NoError(t, lease.Release(context.Background()))
}

func TestFixedLeaseForMocks(t *testing.T) {
	l := FixedLease("n9")
	assert.Equal(t, "n9", l.Nonce())
	assert.NoError(t, l.Release(context.Background()))
}
