package fly

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPostgresCreateGetCredentials(t *testing.T) {
	var (
		mu       sync.Mutex
		clusters []map[string]any
		creates  atomic.Int32
	)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/postgres", func(w http.ResponseWriter, r *http.Request) {
		var req map[string]any
		require.NoError(t, json.NewDecoder(r.Body).Decode(&req))
		assert.Equal(t, map[string]any{"org_slug": "personal", "region": "mad", "plan": "basic", "name": "db"}, req,
			"unset optional fields are left out")
		mu.Lock()
		clusters = append(clusters, map[string]any{"id": fmt.Sprint("pg", creates.Add(1)), "name": "db", "region": "mad",
			"status": "provisioning", "pg_major_version": 16})
		mu.Unlock()
		hangUp(w) // created, but the answer is lost
	})
	mux.HandleFunc("GET /v1/postgres", func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "personal", r.URL.Query().Get("org_slug"))
		mu.Lock()
		defer mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"data": clusters})
	})
	mux.HandleFunc("GET /v1/postgres/{id}/users/{user}/credentials", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]string{"username": r.PathValue("user"), "password": "hunter2"}})
	})
	c := newTestClient(t, mux)

	pg, err := c.CreatePostgres(context.Background(), CreatePostgresRequest{OrgSlug: "personal", Region: "mad", Plan: "basic", Name: "db"})
	require.NoError(t, err)
	assert.Equal(t, "pg1", pg.ID)
	assert.Equal(t, "16", pg.PgMajorVersion, "a numeric version is read as a string")
	assert.EqualValues(t, 1, creates.Load(), "an ambiguous create is looked up, not repeated")

	creds, err := c.PostgresCredentials(context.Background(), "pg1", "app_user")
	require.NoError(t, err)
	assert.Equal(t, PostgresCredentials{Username: "app_user", Password: "hunter2"}, creds)
	assert.NotContains(t, fmt.Sprintf("%v %+v %s", creds, creds, creds), "hunter2")
}

func TestCreatePostgresNeedsOrgRegionPlan(t *testing.T) {
	c := newTestClient(t, http.NotFoundHandler())
	_, err := c.CreatePostgres(context.Background(), CreatePostgresRequest{OrgSlug: "personal", Region: "mad"})
	assert.ErrorContains(t, err, `plan ""`)
}

func TestWaitPostgresReady(t *testing.T) {
	var gets atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/postgres/pg1", func(w http.ResponseWriter, r *http.Request) {
		status := "provisioning"
		if gets.Add(1) >= 3 {
			status = "ready"
		}
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"id": "pg1", "status": status,
			"endpoints": map[string]any{"primary": map[string]any{"pooler": map[string]any{"host": "pgbouncer.x.flympg.net", "port": 5432}}}}})
	})
	mux.HandleFunc("GET /v1/postgres/pg2", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"id": "pg2", "name": "db", "status": "failed"}})
	})
	c := newTestClient(t, mux)
	pg, err := c.WaitPostgresReady(context.Background(), "pg1", time.Minute)
	require.NoError(t, err)
	assert.Equal(t, PostgresHostPort{Host: "pgbouncer.x.flympg.net", Port: 5432}, pg.Endpoints.Primary.Pooler)

	_, err = c.WaitPostgresReady(context.Background(), "pg2", time.Hour)
	assert.ErrorContains(t, err, "postgres cluster pg2 (db) is failed")
}

func TestDeletePostgresToleratesGone(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		flyError(w, http.StatusGone, "cluster is being deleted", "")
	})
	c := newTestClient(t, h)
	assert.NoError(t, c.DeletePostgres(context.Background(), "pg1"))
	assert.NoError(t, c.DetachPostgres(context.Background(), "pg1", "a"))
}
