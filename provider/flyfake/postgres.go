package flyfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"
)

// Managed Postgres (/v1/postgres…) is missing from the spec the fake
// validates against, so it is routed and validated here by hand, following
// docs/fly-api.md#managed-postgres-api.

// postgresOperations name the hand-routed operations in the call log and in
// Faults.Operations.
var postgresOperations = []string{
	"Postgres_list", "Postgres_create", "Postgres_show", "Postgres_delete",
	"Postgres_attach", "Postgres_detach", "Postgres_credentials",
}

// pgDefaultUser is the user a new cluster comes with.
const pgDefaultUser = "fly-user"

// pgPlans are the plans Fly offers, keyed in lower case (the API takes them
// in any case), with each plan's machine.
var pgPlans = map[string]struct {
	cpuKind  string
	cpus     int
	memoryMB int
}{
	"basic":       {"shared", 2, 1024},
	"starter":     {"shared", 2, 2048},
	"launch":      {"performance", 2, 8192},
	"scale":       {"performance", 4, 33792},
	"performance": {"performance", 8, 65536},
}

type pgCluster struct {
	id          string
	name        string
	org         string
	region      string
	plan        string
	pgMajor     string
	poolMode    string
	diskGB      int
	postgis     bool
	password    string
	createdAt   time.Time
	deleted     bool
	attachments map[string]time.Time // app name → when attached
}

func (c *pgCluster) status(now time.Time, readyDelay time.Duration) string {
	switch {
	case c.deleted:
		return "deleted"
	case now.Sub(c.createdAt) < readyDelay:
		return "provisioning"
	}
	return "ready"
}

// PostgresState is one Managed Postgres cluster in a State.
type PostgresState struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	Org          string   `json:"org"`
	Region       string   `json:"region"`
	Plan         string   `json:"plan"`
	Status       string   `json:"status"`
	AttachedApps []string `json:"attached_apps"`
}

func (c *pgCluster) attachedApps() []string {
	apps := []string{}
	for name := range c.attachments {
		apps = append(apps, name)
	}
	sort.Strings(apps)
	return apps
}

func (c *pgCluster) state(now time.Time, readyDelay time.Duration) PostgresState {
	return PostgresState{
		ID: c.id, Name: c.name, Org: c.org, Region: c.region, Plan: c.plan,
		Status: c.status(now, readyDelay), AttachedApps: c.attachedApps(),
	}
}

type pgEndpoint struct {
	Host string `json:"host"`
	Port int    `json:"port"`
}

type pgName struct {
	Name string `json:"name"`
}

// pgClusterView is the Cluster object of the API.
type pgClusterView struct {
	ID             string   `json:"id"`
	Name           string   `json:"name"`
	Status         string   `json:"status"`
	Region         string   `json:"region"`
	Plan           string   `json:"plan"`
	DiskSizeGB     int      `json:"disk_size_gb"`
	CPUKind        string   `json:"cpu_kind"`
	CPUs           int      `json:"cpus"`
	MemoryMB       int      `json:"memory_mb"`
	Replicas       int      `json:"replicas"`
	PGMajorVersion string   `json:"pg_major_version"`
	PoolMode       string   `json:"pool_mode"`
	PostGISEnabled bool     `json:"postgis_enabled"`
	Organization   pgOrg    `json:"organization"`
	CreatedAt      string   `json:"created_at"`
	AttachedApps   []pgName `json:"attached_apps"`
	Endpoints      struct {
		Primary struct {
			Direct pgEndpoint `json:"direct"`
			Pooler pgEndpoint `json:"pooler"`
		} `json:"primary"`
	} `json:"endpoints"`
}

type pgOrg struct {
	Name string `json:"name"`
	Slug string `json:"slug"`
}

func (f *Fake) pgView(c *pgCluster, now time.Time) pgClusterView {
	plan := pgPlans[c.plan]
	v := pgClusterView{
		ID: c.id, Name: c.name, Status: c.status(now, f.opts.PostgresReadyDelay),
		Region: c.region, Plan: c.plan, DiskSizeGB: c.diskGB,
		CPUKind: plan.cpuKind, CPUs: plan.cpus, MemoryMB: plan.memoryMB,
		PGMajorVersion: c.pgMajor, PoolMode: c.poolMode, PostGISEnabled: c.postgis,
		Organization: pgOrg{Name: c.org, Slug: c.org},
		CreatedAt:    timestamp(c.createdAt),
		AttachedApps: []pgName{},
	}
	for _, name := range c.attachedApps() {
		v.AttachedApps = append(v.AttachedApps, pgName{name})
	}
	v.Endpoints.Primary.Direct = pgEndpoint{Host: "direct." + c.id + ".flympg.net", Port: 5432}
	v.Endpoints.Primary.Pooler = pgEndpoint{Host: "pgbouncer." + c.id + ".flympg.net", Port: 5432}
	return v
}

// pgData wraps every Managed Postgres answer as the API does.
type pgData struct {
	Data any `json:"data"`
}

// postgresRoute routes a /v1/postgres call by hand.
func (f *Fake) postgresRoute(r *http.Request) *route {
	parts := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, "/v1/postgres"), "/"), "/")
	if parts[0] == "" {
		parts = nil
	}
	op := func(name string, h http.HandlerFunc, validate func(*http.Request) error) *route {
		return &route{operation: name, handler: h, validate: validate}
	}
	switch {
	case len(parts) == 0 && r.Method == http.MethodGet:
		return op("Postgres_list", f.pgList, validatePostgresList)
	case len(parts) == 0 && r.Method == http.MethodPost:
		return op("Postgres_create", f.pgCreate, validatePostgresCreate)
	case len(parts) == 1 && r.Method == http.MethodGet:
		return op("Postgres_show", func(w http.ResponseWriter, _ *http.Request) { f.pgShow(w, parts[0]) }, nil)
	case len(parts) == 1 && r.Method == http.MethodDelete:
		return op("Postgres_delete", func(w http.ResponseWriter, _ *http.Request) { f.pgDelete(w, parts[0]) }, nil)
	case len(parts) == 2 && parts[1] == "attachments" && r.Method == http.MethodPost:
		return op("Postgres_attach", func(w http.ResponseWriter, r *http.Request) { f.pgAttach(w, r, parts[0]) }, validatePostgresAttach)
	case len(parts) == 3 && parts[1] == "attachments" && r.Method == http.MethodDelete:
		return op("Postgres_detach", func(w http.ResponseWriter, _ *http.Request) { f.pgDetach(w, parts[0], parts[2]) }, nil)
	case len(parts) == 4 && parts[1] == "users" && parts[3] == "credentials" && r.Method == http.MethodGet:
		return op("Postgres_credentials", func(w http.ResponseWriter, _ *http.Request) { f.pgCredentials(w, parts[0], parts[2]) }, nil)
	}
	return &route{err: fmt.Errorf("no Managed Postgres operation is %s %s", r.Method, r.URL.Path)}
}

func validatePostgresList(r *http.Request) error {
	if r.URL.Query().Get("org_slug") == "" {
		return fmt.Errorf(`query parameter "org_slug" is required: name the organization (or "personal")`)
	}
	if v := r.URL.Query().Get("include_deleted"); v != "" && v != "true" && v != "false" {
		return fmt.Errorf(`query parameter "include_deleted" is %q: use true or false`, v)
	}
	return nil
}

// pgField is one field a hand-validated body may carry.
type pgField struct {
	kind     string // "string", "integer" or "boolean"
	required bool
	check    func(v any) error
}

var pgCreateFields = map[string]pgField{
	"org_slug": {kind: "string", required: true},
	"region":   {kind: "string", required: true},
	"plan": {kind: "string", required: true, check: func(v any) error {
		if _, ok := pgPlans[strings.ToLower(v.(string))]; !ok {
			return fmt.Errorf("value %q is not one of basic, starter, launch, scale, Performance", v)
		}
		return nil
	}},
	"name": {kind: "string"},
	"disk_size_gb": {kind: "integer", check: func(v any) error {
		if v.(float64) < 1 {
			return fmt.Errorf("value %v is below the minimum of 1", v)
		}
		return nil
	}},
	"pg_major_version": {kind: "string", check: oneOf("16", "17")},
	"pool_mode":        {kind: "string", check: oneOf("session", "transaction")},
	"postgis_enabled":  {kind: "boolean"},
}

var pgAttachFields = map[string]pgField{
	"app_name": {kind: "string", required: true},
}

func oneOf(allowed ...string) func(any) error {
	return func(v any) error {
		if !slices.Contains(allowed, v.(string)) {
			return fmt.Errorf("value %q is not one of %s", v, strings.Join(allowed, ", "))
		}
		return nil
	}
}

func validatePostgresCreate(r *http.Request) error { return validateBody(r, pgCreateFields) }
func validatePostgresAttach(r *http.Request) error { return validateBody(r, pgAttachFields) }

// validateBody holds a JSON body to fields as strictly as the spec holds the
// rest of the API: right types, no nulls, required fields present and
// non-empty. Unknown fields are refused too, since a misspelt field would be
// silently ignored by the real API. The body is put back for the handler.
func validateBody(r *http.Request, fields map[string]pgField) error {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return fmt.Errorf("request body: %w", err)
	}
	r.Body = io.NopCloser(bytes.NewReader(data))
	var body map[string]any
	if err := json.Unmarshal(data, &body); err != nil || body == nil {
		return fmt.Errorf("request body: must be a JSON object")
	}
	names := make([]string, 0, len(body))
	for name := range body {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		field, ok := fields[name]
		if !ok {
			return fmt.Errorf("request body: at /%s: unknown field", name)
		}
		v := body[name]
		var typeOK bool
		switch field.kind {
		case "string":
			_, typeOK = v.(string)
		case "integer":
			n, isNum := v.(float64)
			typeOK = isNum && n == float64(int64(n))
		case "boolean":
			_, typeOK = v.(bool)
		}
		switch {
		case v == nil:
			return fmt.Errorf("request body: at /%s: Value is not nullable", name)
		case !typeOK:
			return fmt.Errorf("request body: at /%s: value must be a %s", name, field.kind)
		case field.check != nil:
			if err := field.check(v); err != nil {
				return fmt.Errorf("request body: at /%s: %w", name, err)
			}
		}
	}
	for name, field := range fields {
		if s, _ := body[name].(string); field.required && s == "" {
			return fmt.Errorf("request body: at /%s: property %q is missing", name, name)
		}
	}
	return nil
}

func (f *Fake) findCluster(id string) (*pgCluster, error) {
	for _, c := range f.postgres {
		if c.id == id && !c.deleted {
			return c, nil
		}
	}
	return nil, errorf(http.StatusNotFound, "postgres cluster not found: %s", id)
}

func (f *Fake) pgList(w http.ResponseWriter, r *http.Request) {
	now := f.lock()
	defer f.mu.Unlock()
	org, withDeleted := r.URL.Query().Get("org_slug"), r.URL.Query().Get("include_deleted") == "true"
	out := []pgClusterView{}
	for _, c := range f.postgres {
		if c.org == org && (withDeleted || !c.deleted) {
			out = append(out, f.pgView(c, now))
		}
	}
	writeJSON(w, http.StatusOK, pgData{out})
}

// pgCreate starts provisioning; the cluster turns ready after
// Options.PostgresReadyDelay.
func (f *Fake) pgCreate(w http.ResponseWriter, r *http.Request) {
	var req struct {
		OrgSlug        string `json:"org_slug"`
		Region         string `json:"region"`
		Plan           string `json:"plan"`
		Name           string `json:"name"`
		DiskSizeGB     *int   `json:"disk_size_gb"`
		PGMajorVersion string `json:"pg_major_version"`
		PoolMode       string `json:"pool_mode"`
		PostGISEnabled bool   `json:"postgis_enabled"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		f.reject(w, r, fmt.Sprintf("request body: %v", err))
		return
	}
	now := f.lock()
	defer f.mu.Unlock()
	c := &pgCluster{
		id:          f.randString(20, lowerAlnum),
		name:        req.Name,
		org:         req.OrgSlug,
		region:      req.Region,
		plan:        strings.ToLower(req.Plan),
		pgMajor:     req.PGMajorVersion,
		poolMode:    req.PoolMode,
		diskGB:      10,
		postgis:     req.PostGISEnabled,
		password:    f.randString(24, lowerAlnum),
		createdAt:   now,
		attachments: map[string]time.Time{},
	}
	if c.name == "" {
		c.name = "pg-" + c.id[:8]
	}
	if c.pgMajor == "" {
		c.pgMajor = "16"
	}
	if c.poolMode == "" {
		c.poolMode = "transaction"
	}
	if req.DiskSizeGB != nil {
		c.diskGB = *req.DiskSizeGB
	}
	f.postgres = append(f.postgres, c)
	writeJSON(w, http.StatusCreated, pgData{f.pgView(c, now)})
}

func (f *Fake) pgShow(w http.ResponseWriter, id string) {
	now := f.lock()
	defer f.mu.Unlock()
	c, err := f.findCluster(id)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, pgData{f.pgView(c, now)})
}

// pgDelete deletes asynchronously (202); a cluster already deleted is 410.
func (f *Fake) pgDelete(w http.ResponseWriter, id string) {
	f.lock()
	defer f.mu.Unlock()
	i := slices.IndexFunc(f.postgres, func(c *pgCluster) bool { return c.id == id })
	switch {
	case i < 0:
		writeError(w, errorf(http.StatusNotFound, "postgres cluster not found: %s", id))
	case f.postgres[i].deleted:
		writeError(w, errorf(http.StatusGone, "postgres cluster %s is already deleted", id))
	default:
		f.postgres[i].deleted = true
		f.postgres[i].attachments = map[string]time.Time{}
		w.WriteHeader(http.StatusAccepted)
	}
}

// pgAttach records an app as a consumer: 201 the first time, 200 after.
// Like the real API as far as is known, it sets no secret on the app.
func (f *Fake) pgAttach(w http.ResponseWriter, r *http.Request, id string) {
	var req struct {
		AppName string `json:"app_name"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		f.reject(w, r, fmt.Sprintf("request body: %v", err))
		return
	}
	now := f.lock()
	defer f.mu.Unlock()
	c, err := f.findCluster(id)
	if err == nil {
		_, err = f.findApp(req.AppName)
	}
	if err != nil {
		writeError(w, err)
		return
	}
	code := http.StatusOK
	at, ok := c.attachments[req.AppName]
	if !ok {
		code, at = http.StatusCreated, now
		c.attachments[req.AppName] = at
	}
	writeJSON(w, code, pgData{map[string]string{
		"app_name":            req.AppName,
		"postgres_cluster_id": c.id,
		"created_at":          timestamp(at),
	}})
}

func (f *Fake) pgDetach(w http.ResponseWriter, id, appName string) {
	f.lock()
	defer f.mu.Unlock()
	c, err := f.findCluster(id)
	if err != nil {
		writeError(w, err)
		return
	}
	if _, ok := c.attachments[appName]; !ok {
		writeError(w, errorf(http.StatusNotFound, "app %s is not attached to postgres cluster %s", appName, id))
		return
	}
	delete(c.attachments, appName)
	w.WriteHeader(http.StatusNoContent)
}

func (f *Fake) pgCredentials(w http.ResponseWriter, id, user string) {
	f.lock()
	defer f.mu.Unlock()
	c, err := f.findCluster(id)
	if err != nil {
		writeError(w, err)
		return
	}
	if user != pgDefaultUser {
		writeError(w, errorf(http.StatusNotFound, "user %q not found in postgres cluster %s: the fake's clusters have only %q", user, id, pgDefaultUser))
		return
	}
	writeJSON(w, http.StatusOK, pgData{map[string]string{"username": user, "password": c.password}})
}
