package harness

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/emothe/emothe/provider/fly"
	"github.com/emothe/emothe/provider/flyapi"
	"github.com/emothe/emothe/provider/flyfake"
)

// The switch to real Fly. Nothing else in the harness or the tests reads
// these variables.
const (
	// EnvRealFly set to 1, with FLY_API_TOKEN, runs NewFly's tests against
	// the real Fly API.
	EnvRealFly = "EMOTHE_E2E_FLY"
	// EnvImages are two image references of the service, comma-separated,
	// that Fly can pull: the releases the scenarios deploy.
	EnvImages = "EMOTHE_E2E_FLY_IMAGES"
	// EnvOrg is the organization the throwaway apps go in (default personal).
	EnvOrg = "EMOTHE_E2E_FLY_ORG"
	// EnvAPIURL replaces https://api.machines.dev, so the switch itself can
	// be tried against a fake served by provider/cmd/flyfake.
	EnvAPIURL = "EMOTHE_E2E_FLY_API_URL"
)

// cheapMemoryMB is the smallest shared-cpu-1x machine Fly offers.
const cheapMemoryMB = "256"

// realFly is a run against the real Fly API.
type realFly struct {
	token    string
	upstream *url.URL
	org      string
	suffix   string // appended to every app name the stacks use
	images   [2]string
	client   fly.Client
	api      *flyapi.ClientWithResponses
	apps     []string // app names in use, for State and cleanup
	stacks   []*Stack
}

// realFlyFromEnv reads the switch. It returns nil when the run is on the
// fake, and fails the test when the switch is on but incomplete.
func realFlyFromEnv(tb testing.TB) *realFly {
	tb.Helper()
	if os.Getenv(EnvRealFly) != "1" {
		return nil
	}
	token := strings.TrimSpace(os.Getenv("FLY_API_TOKEN"))
	if token == "" {
		tb.Fatalf("%s=1 runs against the real Fly API and needs FLY_API_TOKEN: set it to `fly tokens create org` output, or unset %s to run on the fake", EnvRealFly, EnvRealFly)
	}
	images := strings.Split(os.Getenv(EnvImages), ",")
	if len(images) != 2 || strings.TrimSpace(images[0]) == "" || strings.TrimSpace(images[1]) == "" {
		tb.Fatalf("%s=1 needs %s: two image references of the service that Fly can pull, comma-separated (got %q)", EnvRealFly, EnvImages, os.Getenv(EnvImages))
	}
	base := cmp.Or(os.Getenv(EnvAPIURL), fly.DefaultBaseURL)
	upstream, err := url.Parse(base)
	if err != nil || upstream.Host == "" {
		tb.Fatalf("%s %q is not a URL like %s", EnvAPIURL, base, fly.DefaultBaseURL)
	}
	client, err := fly.New(fly.Config{Token: token, BaseURL: base})
	if err != nil {
		tb.Fatalf("FLY_API_TOKEN: %v", err)
	}
	header := token
	if !strings.Contains(token, " ") { // a bare token, as `fly tokens create` prints it without the scheme
		header = "FlyV1 " + token
	}
	api, err := flyapi.NewClientWithResponses(base+"/v1", flyapi.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
		r.Header.Set("Authorization", header)
		return nil
	}))
	if err != nil {
		tb.Fatal(err)
	}
	return &realFly{
		token: token, upstream: upstream, org: cmp.Or(os.Getenv(EnvOrg), "personal"),
		suffix: "-e2e-" + strings.ToLower(rand.Text()[:6]),
		images: [2]string{strings.TrimSpace(images[0]), strings.TrimSpace(images[1])},
		client: client, api: api,
	}
}

// configure makes a committed stack's config throwaway and cheap: unique
// app names (the app's and, for a database machine, app-db), a domain of
// their own, the smallest machines. It returns the overrides and the app
// name.
func (r *realFly) configure(s *Stack, committed map[string]string) (map[string]string, string) {
	app := committed["emothe:appName"] + r.suffix
	r.apps = append(r.apps, app, app+"-db")
	r.stacks = append(r.stacks, s)
	out := map[string]string{
		"flyio:org":       r.org,
		"emothe:appName":  app,
		"emothe:memoryMb": cheapMemoryMB,
	}
	if committed["emothe:domain"] != "" {
		out["emothe:domain"] = app + ".example.org"
	}
	return out, app
}

// cleanup destroys everything a stack made on Fly: the stack (unprotected
// first, so a protected database goes too), then, whatever destroy left
// (retained or half-created resources), the apps by name and the Managed
// Postgres clusters the stack's state names or that carry its app's name.
// What it cannot remove fails the test, named.
func (r *realFly) cleanup(tb testing.TB, s *Stack) {
	ctx, app := context.Background(), s.App
	clusters := clusterIDs(tb, s)
	unprotect := exec.Command("pulumi", "state", "unprotect", "--all", "--yes", "--stack", s.Name, "--non-interactive")
	unprotect.Dir = s.Dir
	if out, err := unprotect.CombinedOutput(); err != nil {
		tb.Logf("cleanup: pulumi state unprotect: %v\n%s", err, out)
	}
	if _, err := s.TryDestroy(tb); err != nil {
		tb.Logf("cleanup: pulumi destroy %s: %v (removing by name instead)", s.Name, err)
	}
	for _, name := range []string{app, app + "-db"} {
		if err := r.client.DeleteApp(ctx, name); err != nil {
			tb.Errorf("cleanup: app %s is left on Fly (%v): run `fly apps destroy %s --yes`", name, err, name)
		}
	}
	if listed, err := r.client.ListPostgres(ctx, r.org); err == nil {
		for _, c := range listed {
			if strings.HasPrefix(c.Name, app) {
				clusters = append(clusters, c.ID)
			}
		}
	}
	for _, id := range slices.Compact(slices.Sorted(slices.Values(clusters))) {
		if err := r.client.DeletePostgres(ctx, id); err != nil {
			tb.Errorf("cleanup: Managed Postgres %s is left (%v): run `fly mpg destroy %s`", id, err, id)
		}
	}
}

// clusterIDs are the Managed Postgres clusters in a stack's state. An
// unreadable state fails the test but lets a cleanup go on.
func clusterIDs(tb testing.TB, s *Stack) []string {
	var state struct {
		Deployment struct {
			Resources []struct {
				Type string `json:"type"`
				ID   string `json:"id"`
			} `json:"resources"`
		} `json:"deployment"`
	}
	exported, err := s.export()
	if err == nil {
		err = json.Unmarshal([]byte(exported), &state)
	}
	if err != nil {
		tb.Errorf("reading stack %s's state for its Managed Postgres: %v", s.Name, err)
	}
	var ids []string
	for _, res := range state.Deployment.Resources {
		if res.Type == "flyio:index:ManagedPostgres" && res.ID != "" {
			ids = append(ids, res.ID)
		}
	}
	return ids
}

// state reads what the fake's State holds from the real API, for the apps
// in use. Fly does not show secrets versions, a machine's
// min_secrets_version or its cordon, so those stay zero (see
// Env.SeesInternals).
func (r *realFly) state(tb testing.TB) flyfake.State {
	tb.Helper()
	ctx := context.Background()
	st := flyfake.State{Apps: []flyfake.AppState{}, Postgres: []flyfake.PostgresState{}}
	for _, name := range r.apps {
		a, err := r.client.GetApp(ctx, name)
		if errors.Is(err, fly.ErrNotFound) {
			continue
		}
		if err != nil {
			tb.Fatalf("reading app %s from Fly: %v", name, err)
		}
		as := flyfake.AppState{Name: name, Secrets: flyfake.SecretsState{Digests: map[string]string{}}}
		if a.Organization != nil {
			as.Org = deref(a.Organization.Slug)
		}
		r.readMachines(tb, &as)
		r.readResources(tb, &as)
		st.Apps = append(st.Apps, as)
	}
	for _, c := range r.clusters(tb) {
		ps := flyfake.PostgresState{ID: c.ID, Name: c.Name, Org: r.org, Region: c.Region, Plan: c.Plan, Status: c.Status, AttachedApps: []string{}}
		for _, a := range c.AttachedApps {
			ps.AttachedApps = append(ps.AttachedApps, a.Name)
		}
		st.Postgres = append(st.Postgres, ps)
	}
	return st
}

// clusters are the Managed Postgres clusters of the stacks in use: listed
// by name, or, where Fly refuses the list (no Fly client makes that call),
// read one by one from the IDs in the stacks' state.
func (r *realFly) clusters(tb testing.TB) []fly.PostgresCluster {
	tb.Helper()
	ctx := context.Background()
	var out []fly.PostgresCluster
	listed, err := r.client.ListPostgres(ctx, r.org)
	if err == nil {
		for _, c := range listed {
			if r.ours(c.Name) {
				out = append(out, c)
			}
		}
		return out
	}
	for _, s := range r.stacks {
		for _, id := range clusterIDs(tb, s) {
			c, err := r.client.GetPostgres(ctx, id)
			if errors.Is(err, fly.ErrNotFound) {
				continue
			}
			if err != nil {
				tb.Fatalf("reading Managed Postgres %s: %v", id, err)
			}
			out = append(out, c)
		}
	}
	return out
}

func (r *realFly) ours(name string) bool {
	for _, app := range r.apps {
		if strings.HasPrefix(name, app) {
			return true
		}
	}
	return false
}

// readMachines lists the app's machines, destroyed ones included as the
// fake keeps them.
func (r *realFly) readMachines(tb testing.TB, as *flyfake.AppState) {
	tb.Helper()
	resp, err := r.api.MachinesListWithResponse(context.Background(), as.Name, &flyapi.MachinesListParams{IncludeDeleted: new(true)})
	if err == nil && resp.JSON200 == nil {
		err = fmt.Errorf("status %d", resp.StatusCode())
	}
	if err != nil {
		tb.Fatalf("listing the machines of %s: %v", as.Name, err)
	}
	for _, m := range *resp.JSON200 {
		ms := flyfake.MachineState{
			ID: deref(m.Id), Name: deref(m.Name), Region: deref(m.Region), State: deref(m.State),
			Version: deref(m.InstanceId), Versions: []string{deref(m.InstanceId)},
		}
		if m.Config != nil {
			convert(tb, m.Config, &ms.Config)
		}
		if ms.State != "destroyed" {
			ms.Versions = r.versions(tb, as.Name, ms.ID)
		}
		as.Machines = append(as.Machines, ms)
	}
}

// versions lists a machine's versions oldest first, as the fake keeps them.
func (r *realFly) versions(tb testing.TB, app, id string) []string {
	tb.Helper()
	resp, err := r.api.MachinesListVersionsWithResponse(context.Background(), app, id)
	if err == nil && resp.JSON200 == nil {
		err = fmt.Errorf("status %d", resp.StatusCode())
	}
	if err != nil {
		tb.Fatalf("listing the versions of machine %s: %v", id, err)
	}
	var out []string
	for _, v := range slices.Backward(*resp.JSON200) { // Fly lists the newest first
		out = append(out, deref(v.Version))
	}
	return out
}

// readResources reads the app's volumes, secrets' digests, IPs and
// certificates.
func (r *realFly) readResources(tb testing.TB, as *flyfake.AppState) {
	tb.Helper()
	ctx := context.Background()
	vols, err := r.client.ListVolumes(ctx, as.Name)
	if err != nil {
		tb.Fatalf("listing the volumes of %s: %v", as.Name, err)
	}
	convert(tb, vols, &as.Volumes)
	secrets, err := r.client.ListSecrets(ctx, as.Name)
	if err != nil {
		tb.Fatalf("listing the secrets of %s: %v", as.Name, err)
	}
	for _, s := range secrets {
		as.Secrets.Digests[deref(s.Name)] = deref(s.Digest)
	}
	ips, err := r.client.ListIPs(ctx, as.Name)
	if err != nil {
		tb.Fatalf("listing the IPs of %s: %v", as.Name, err)
	}
	for _, ip := range ips {
		as.IPs = append(as.IPs, flyfake.IPState{IP: deref(ip.Ip), Type: ipType(ip), Region: deref(ip.Region), Shared: deref(ip.Shared)})
	}
	certs, err := r.api.AppCertificatesListWithResponse(ctx, as.Name, nil)
	if err == nil && certs.JSON200 == nil {
		err = fmt.Errorf("status %d", certs.StatusCode())
	}
	if err != nil {
		tb.Fatalf("listing the certificates of %s: %v", as.Name, err)
	}
	for _, c := range deref(certs.JSON200.Certificates) {
		as.Certificates = append(as.Certificates, flyfake.CertificateState{Hostname: deref(c.Hostname), Status: deref(c.Status)})
	}
}

// ipType tells an assignment's type, which Fly's listing leaves out.
func ipType(ip flyapi.IPAssignment) string {
	addr := deref(ip.Ip)
	switch {
	case deref(ip.Shared):
		return "shared_v4"
	case strings.HasPrefix(addr, "fdaa:"):
		return "private_v6"
	case strings.Contains(addr, ":"):
		return "v6"
	}
	return "v4"
}

// convert copies between the client's and the fake's generated types,
// which come from the same spec.
func convert(tb testing.TB, from, to any) {
	tb.Helper()
	b, err := json.Marshal(from)
	if err == nil {
		err = json.Unmarshal(b, to)
	}
	if err != nil {
		tb.Fatalf("converting %T to %T: %v", from, to, err)
	}
}

func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}
