package fly

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
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
	assert.Equal(t, "n1", nonceOf(t, lease))
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
	assert.Equal(t, "n1", nonceOf(t, lease))
	assert.NoError(t, lease.Release(context.Background()))
}

// The lease of a destroyed machine went with it: Release sends nothing.
func TestReleasingTheLeaseOfADestroyedMachineSendsNothing(t *testing.T) {
	var deletes atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/apps/a/machines/m1/lease", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusCreated, map[string]any{"nonce": "n1"})
	})
	mux.HandleFunc("DELETE /v1/apps/a/machines/m1/lease", func(w http.ResponseWriter, r *http.Request) {
		deletes.Add(1)
		w.WriteHeader(http.StatusOK)
	})
	lease, err := newTestClient(t, mux).AcquireLease(context.Background(), "a", "m1", time.Minute)
	require.NoError(t, err)
	lease.Gone()
	assert.NoError(t, lease.Release(context.Background()))
	assert.Zero(t, deletes.Load())
}

func nonceOf(t *testing.T, l *Lease) string {
	t.Helper()
	n, err := l.Nonce(context.Background())
	require.NoError(t, err)
	return n
}

// leaseServer grants leases as Fly does: a POST without a nonce takes a new
// lease (nonces n1, n2, …), one with a nonce refreshes it, and every nonce
// sent is logged.
type leaseServer struct {
	mu      sync.Mutex
	granted int
	// renewedAs, when set, is the nonce Fly answers every refresh with, as
	// when the lease had lapsed and was granted anew; else it answers the
	// nonce sent.
	renewedAs string
	sent      []string // "take", "refresh <nonce>", "release <nonce>"
}

func (s *leaseServer) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/apps/a/machines/m1/lease", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		nonce := r.Header.Get(nonceHeader)
		switch nonce {
		case "":
			s.granted++
			s.sent = append(s.sent, "take")
			writeJSON(w, http.StatusCreated, map[string]any{"status": "success", "data": map[string]any{"nonce": fmt.Sprintf("n%d", s.granted)}})
		default:
			// Fly answers a refresh with the lease it holds.
			s.sent = append(s.sent, "refresh "+nonce)
			if s.renewedAs != "" {
				nonce = s.renewedAs
			}
			writeJSON(w, http.StatusCreated, map[string]any{"status": "success", "data": map[string]any{"nonce": nonce}})
		}
	})
	mux.HandleFunc("DELETE /v1/apps/a/machines/m1/lease", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.sent = append(s.sent, "release "+r.Header.Get(nonceHeader))
		w.WriteHeader(http.StatusOK)
	})
	return mux
}

func (s *leaseServer) calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sent)
}

// setClock moves the lease's clock to now+d.
func setClock(l *Lease, d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.now = func() time.Time { return time.Now().Add(d) }
}

// A lease whose refreshes failed until it expired is never sent again:
// Nonce takes a new lease, and Release sends nothing for an expired one.
func TestAnExpiredNonceIsNeverSent(t *testing.T) {
	srv := &leaseServer{}
	c := newTestClient(t, srv.handler())
	created := time.Now()
	// The nonce a create with lease_ttl returned, held for 5 minutes.
	l := c.HoldLease(context.Background(), "a", "m1", "n0", 5*time.Minute, created)
	assert.Equal(t, "n0", nonceOf(t, l), "a live lease's nonce")
	assert.Empty(t, srv.calls(), "no call while the lease holds")

	setClock(l, 5*time.Minute) // its refreshes never came through
	assert.Equal(t, "n1", nonceOf(t, l), "an expired lease is taken again")
	assert.Equal(t, []string{"take"}, srv.calls())
	assert.Equal(t, "n1", nonceOf(t, l), "the new lease holds")

	setClock(l, 11*time.Minute)
	require.NoError(t, l.Release(context.Background()))
	assert.Equal(t, []string{"take"}, srv.calls(), "an expired nonce is not even released")
}

// A lease counts as expired a second before Fly drops it, so a call sent
// with its nonce still arrives in time.
func TestALeaseExpiresWithSlack(t *testing.T) {
	srv := &leaseServer{}
	l := newTestClient(t, srv.handler()).HoldLease(context.Background(), "a", "m1", "n0", 13*time.Second, time.Now())
	setClock(l, 11*time.Second)
	assert.Equal(t, "n0", nonceOf(t, l))
	setClock(l, 12*time.Second+100*time.Millisecond)
	assert.Equal(t, "n1", nonceOf(t, l))
	require.NoError(t, l.Release(context.Background()))
	assert.Equal(t, []string{"take", "release n1"}, srv.calls())
}

func TestRefreshPeriodIsFlyctls(t *testing.T) {
	assert.Equal(t, 4*time.Second, refreshEvery(13*time.Second), "flyctl's 13 s deploy lease")
	assert.Equal(t, 99*time.Second+666666666, refreshEvery(5*time.Minute))
	assert.Equal(t, 10*time.Millisecond, refreshEvery(30*time.Millisecond), "sub-second TTLs (tests)")
}

// A refresh keeps the nonce Fly answers with, which is the lease Fly holds.
func TestARefreshKeepsTheNonceFlyAnswers(t *testing.T) {
	// Every refresh answers n1, so a refresh that Release cuts short (its
	// answer lost) leaves the lease's nonce as it was.
	srv := &leaseServer{renewedAs: "n1"}
	l := newTestClient(t, srv.handler()).HoldLease(context.Background(), "a", "m1", "n0", 30*time.Millisecond, time.Now())
	deadline := time.Now().Add(5 * time.Second)
	for nonce, _ := l.current(); nonce == "n0" && time.Now().Before(deadline); nonce, _ = l.current() {
		time.Sleep(time.Millisecond) // polling for the background refresh, not an assertion
	}
	require.Contains(t, srv.calls(), "refresh n0", "the lease was refreshed in the background")
	require.NoError(t, l.Release(context.Background()))
	calls := srv.calls()
	assert.Equal(t, "release n1", last(calls), "the release names the nonce the refresh answered: %v", calls)
}

func last[T any](s []T) T { return s[len(s)-1] }
