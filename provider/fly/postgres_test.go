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
	t.Parallel()
	var (
		mu       sync.Mutex
		clusters []map[string]any
		creates  atomic.Int32
	)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/postgres", func(w http.ResponseWriter, r *http.Request) {
		var req map[string]any
		require.NoError(t, json.NewDecoder(r.Body).Decode(&req))
		assert.Equal(t, map[string]any{"org_slug": "theatre", "region": "mad", "plan": "basic", "name": "db"}, req,
			"unset optional fields are left out")
		mu.Lock()
		clusters = append(clusters, map[string]any{"id": fmt.Sprint("pg", creates.Add(1)), "name": "db", "region": "mad",
			"status": "provisioning", "pg_major_version": 16})
		mu.Unlock()
		hangUp(w) // created, but the answer is lost
	})
	mux.HandleFunc("GET /v1/postgres", func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "theatre", r.URL.Query().Get("org_slug"))
		mu.Lock()
		defer mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"data": clusters})
	})
	mux.HandleFunc("GET /v1/postgres/{id}/users/{user}/credentials", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]string{"username": r.PathValue("user"), "password": "hunter2"}})
	})
	c := newTestClient(t, mux)

	pg, err := c.CreatePostgres(context.Background(), CreatePostgresRequest{OrgSlug: "theatre", Region: "mad", Plan: "basic", Name: "db"})
	require.NoError(t, err)
	assert.Equal(t, "pg1", pg.ID)
	assert.Equal(t, "16", pg.PgMajorVersion, "a numeric version is read as a string")
	assert.EqualValues(t, 1, creates.Load(), "an ambiguous create is looked up, not repeated")

	creds, err := c.PostgresCredentials(context.Background(), "pg1", "app_user")
	require.NoError(t, err)
	assert.Equal(t, PostgresCredentials{Username: "app_user", Password: "hunter2"}, creds)
	assert.NotContains(t, fmt.Sprintf("%v %+v %s", creds, creds, creds), "hunter2")
}

// flyctl swaps the alias "personal" for the organization's slug before it
// creates a cluster; the Machines API tells the slug through the org's apps.
func TestCreatePostgresResolvesThePersonalAlias(t *testing.T) {
	t.Parallel()
	var orgs []string
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/apps", func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "personal", r.URL.Query().Get("org_slug"))
		writeJSON(w, http.StatusOK, map[string]any{"total_apps": 1,
			"apps": []any{map[string]any{"name": "web", "organization": map[string]any{"name": "Jane", "slug": "jane-doe"}}}})
	})
	mux.HandleFunc("GET /v1/postgres", func(w http.ResponseWriter, r *http.Request) {
		orgs = append(orgs, r.URL.Query().Get("org_slug"))
		writeJSON(w, http.StatusOK, map[string]any{"data": []any{}})
	})
	mux.HandleFunc("POST /v1/postgres", func(w http.ResponseWriter, r *http.Request) {
		var req CreatePostgresRequest
		require.NoError(t, json.NewDecoder(r.Body).Decode(&req))
		orgs = append(orgs, req.OrgSlug)
		writeJSON(w, http.StatusCreated, map[string]any{"data": map[string]any{"id": "pg1", "status": "provisioning"}})
	})
	c := newTestClient(t, mux)
	pg, err := c.CreatePostgres(context.Background(), CreatePostgresRequest{OrgSlug: "personal", Region: "mad", Plan: "basic"})
	require.NoError(t, err)
	assert.Equal(t, "pg1", pg.ID)
	assert.Equal(t, []string{"jane-doe", "jane-doe"}, orgs, "the list and the create name the real slug")
}

// With no app to read the slug from, the error asks for the setting.
func TestCreatePostgresAsksForTheOrgWhenTheAliasCannotBeResolved(t *testing.T) {
	t.Parallel()
	var creates atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/apps", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"total_apps": 0, "apps": []any{}})
	})
	mux.HandleFunc("POST /v1/postgres", func(w http.ResponseWriter, r *http.Request) { creates.Add(1) })
	c := newTestClient(t, mux)
	_, err := c.CreatePostgres(context.Background(), CreatePostgresRequest{OrgSlug: "personal", Region: "mad", Plan: "basic"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"personal"`)
	assert.Contains(t, err.Error(), "flyio:org")
	assert.Zero(t, creates.Load(), "nothing is created in an org that is not known")
}

// No Fly client lists clusters on the Machines API host: a refused list
// must not stop the create.
func TestCreatePostgresWithoutTheList(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusNotImplemented} {
		mux := http.NewServeMux()
		mux.HandleFunc("GET /v1/postgres", func(w http.ResponseWriter, r *http.Request) { flyError(w, status, "no", "") })
		mux.HandleFunc("POST /v1/postgres", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusCreated, map[string]any{"data": map[string]any{"id": "pg1", "status": "provisioning"}})
		})
		c := newTestClient(t, mux)
		pg, err := c.CreatePostgres(context.Background(), CreatePostgresRequest{OrgSlug: "theatre", Region: "mad", Plan: "basic"})
		require.NoError(t, err, "list answered %d", status)
		assert.Equal(t, "pg1", pg.ID)
	}
}

// A cluster just ready may not serve its credentials yet: like flyctl, the
// fetch is tried 3 times.
func TestPostgresCredentialsAreRetried(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		failures int
		ok       bool
	}{{2, true}, {3, false}} {
		var gets atomic.Int32
		c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if int(gets.Add(1)) <= tc.failures {
				flyError(w, http.StatusNotFound, "user not found", "")
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"data": map[string]string{"username": "fly-user", "password": "pw"}})
		}))
		creds, err := c.PostgresCredentials(context.Background(), "pg1", "fly-user")
		if tc.ok {
			require.NoError(t, err)
			assert.Equal(t, "pw", creds.Password)
		} else {
			assert.ErrorIs(t, err, ErrNotFound)
		}
		assert.EqualValues(t, min(tc.failures+1, 3), gets.Load())
	}
}

func TestCreatePostgresNeedsOrgRegionPlan(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, http.NotFoundHandler())
	_, err := c.CreatePostgres(context.Background(), CreatePostgresRequest{OrgSlug: "personal", Region: "mad"})
	assert.ErrorContains(t, err, `plan ""`)
}

func TestWaitPostgresReady(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		flyError(w, http.StatusGone, "cluster is being deleted", "")
	})
	c := newTestClient(t, h)
	assert.NoError(t, c.DeletePostgres(context.Background(), "pg1"))
	assert.NoError(t, c.DetachPostgres(context.Background(), "pg1", "a"))
}
