package fly

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/emothe/emothe/provider/flyapi"
	"github.com/emothe/emothe/provider/internal/opt"
)

// CreatePostgres resolves the org alias "personal" as flyctl does, and
// recovers from an ambiguous failure by comparing the organization's
// clusters before and after, since the name may be left to Fly. A host that
// refuses the list (no Fly client lists there) still gets the create; only
// an ambiguous failure then stops, as nothing can tell whether it landed.
func (c *APIClient) CreatePostgres(ctx context.Context, req CreatePostgresRequest) (PostgresCluster, error) {
	if req.OrgSlug == "" || req.Region == "" || req.Plan == "" {
		return PostgresCluster{}, fmt.Errorf("fly: creating a Managed Postgres cluster needs an organization, a region and a plan "+
			"(got org %q, region %q, plan %q)", req.OrgSlug, req.Region, req.Plan)
	}
	org, err := c.resolveOrg(ctx, req.OrgSlug)
	if err != nil {
		return PostgresCluster{}, err
	}
	req.OrgSlug = org
	before, err := c.ListPostgres(ctx, org)
	if err != nil && !Refused(err) {
		return PostgresCluster{}, fmt.Errorf("listing Postgres clusters of %s before creating one: %w", org, err)
	}
	if left, ok := leftoverCluster(before, req); ok {
		newReporter(ctx).printf("Managed Postgres cluster %s (%q in %s) already exists: adopting what an interrupted create left",
			left.ID, left.Name, left.Region)
		return left, nil
	}
	var resp envelope[PostgresCluster]
	err = c.do(ctx, call{
		send: c.rawSend(http.MethodPost, "/postgres", req),
		out:  &resp,
		recover: func(ctx context.Context) (bool, error) {
			after, err := c.ListPostgres(ctx, org)
			if err != nil {
				return false, err
			}
			got, found, err := createdSince(before, after,
				func(p PostgresCluster) string { return p.ID },
				func(p PostgresCluster) bool { return (req.Name == "" || p.Name == req.Name) && p.Region == req.Region })
			resp.Data = got
			return found, err
		},
	})
	return resp.Data, err
}

// leftoverCluster is the cluster an earlier, interrupted create of the same
// name left in the organization (docs/fly-api.md#interrupted-creates): the
// one cluster of that name and region that is not failed. A create without a
// name, or with several such clusters, adopts nothing.
func leftoverCluster(clusters []PostgresCluster, req CreatePostgresRequest) (PostgresCluster, bool) {
	if req.Name == "" {
		return PostgresCluster{}, false
	}
	var found []PostgresCluster
	for _, p := range clusters {
		if p.Name == req.Name && p.Region == req.Region && !slices.Contains(terminalPostgres, p.Status) {
			found = append(found, p)
		}
	}
	if len(found) != 1 {
		return PostgresCluster{}, false
	}
	return found[0], true
}

// PersonalOrg is the alias Fly accepts for a user's own organization.
const PersonalOrg = "personal"

// resolveOrg swaps the alias "personal" for the organization's real slug,
// as flyctl does before it creates a cluster
// (docs/fly-api.md#creating-a-postgres-cluster). The Machines API tells the
// slug only through an app of the organization.
func (c *APIClient) resolveOrg(ctx context.Context, org string) (string, error) {
	if org != PersonalOrg {
		return org, nil
	}
	var resp flyapi.ListAppsResponse
	err := c.do(ctx, call{
		send: func(ctx context.Context) (*http.Response, error) {
			return c.api.AppsList(ctx, &flyapi.AppsListParams{OrgSlug: org})
		},
		out: &resp,
	})
	if err != nil {
		return "", fmt.Errorf("fly: resolving the organization alias %q: %w; set flyio:org (or the resource's org) "+
			"to the organization's slug, as `fly orgs list` shows it", org, err)
	}
	for _, a := range opt.Val(resp.Apps) {
		if a.Organization != nil && str(a.Organization.Slug) != "" {
			return *a.Organization.Slug, nil
		}
	}
	return "", fmt.Errorf("fly: the organization alias %q cannot be resolved: the organization has no app that "+
		"names its slug; set flyio:org (or the resource's org) to the organization's slug, as `fly orgs list` shows it", org)
}

func (c *APIClient) GetPostgres(ctx context.Context, id string) (PostgresCluster, error) {
	var resp envelope[PostgresCluster]
	err := c.do(ctx, call{send: c.rawSend(http.MethodGet, "/postgres/"+url.PathEscape(id), nil), out: &resp})
	return resp.Data, err
}

func (c *APIClient) ListPostgres(ctx context.Context, org string) ([]PostgresCluster, error) {
	var resp envelope[[]PostgresCluster]
	err := c.do(ctx, call{send: c.rawSend(http.MethodGet, "/postgres?org_slug="+url.QueryEscape(org), nil), out: &resp})
	return resp.Data, err
}

func (c *APIClient) DeletePostgres(ctx context.Context, id string) error {
	err := c.do(ctx, call{send: c.rawSend(http.MethodDelete, "/postgres/"+url.PathEscape(id), nil)})
	if errors.Is(err, ErrNotFound) { // 404, or 410 while being deleted
		return nil
	}
	return err
}

// terminalPostgres are statuses a cluster does not leave on its own.
var terminalPostgres = []string{"failed", "error"}

func (c *APIClient) WaitPostgresReady(ctx context.Context, id string, timeout time.Duration) (PostgresCluster, error) {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	rep := newReporter(ctx)
	tick := time.NewTicker(c.pollInterval)
	defer tick.Stop()
	for {
		p, err := c.GetPostgres(ctx, id)
		switch {
		case err != nil && ctx.Err() != nil:
			return p, fmt.Errorf("postgres cluster %s not ready in time (timeout %s): %w", id, timeout, err)
		case err != nil:
			return p, err
		case p.Status == "ready":
			return p, nil
		case slices.Contains(terminalPostgres, p.Status):
			return p, fmt.Errorf("fly: postgres cluster %s (%s) is %s", id, p.Name, p.Status)
		}
		rep.printf("postgres cluster %s (%s): %s", id, p.Region, p.Status)
		select {
		case <-ctx.Done():
			return p, fmt.Errorf("postgres cluster %s still %s after %s: %w", id, p.Status, timeout, context.Cause(ctx))
		case <-tick.C:
		}
	}
}

// AttachPostgres records the app as a user of the cluster. It does not set
// the app's DATABASE_URL; Fly leaves that to the caller
// (docs/fly-api.md#attaching-postgres-to-an-app).
func (c *APIClient) AttachPostgres(ctx context.Context, id, app string) error {
	return c.do(ctx, call{send: c.rawSend(http.MethodPost, "/postgres/"+url.PathEscape(id)+"/attachments",
		map[string]string{"app_name": app})})
}

func (c *APIClient) DetachPostgres(ctx context.Context, id, app string) error {
	err := c.do(ctx, call{send: c.rawSend(http.MethodDelete,
		"/postgres/"+url.PathEscape(id)+"/attachments/"+url.PathEscape(app), nil)})
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// credentialAttempts is how often PostgresCredentials asks: like flyctl,
// which retries the fetch after a new cluster reports ready
// (docs/fly-api.md#creating-a-postgres-cluster).
const credentialAttempts = 3

// PostgresCredentials asks up to credentialAttempts times, pausing
// pollInterval in between: a cluster just ready may not serve them yet.
func (c *APIClient) PostgresCredentials(ctx context.Context, id, user string) (PostgresCredentials, error) {
	var resp envelope[PostgresCredentials]
	var err error
	for attempt := range credentialAttempts {
		if attempt > 0 {
			if serr := sleep(ctx, c.pollInterval); serr != nil {
				return resp.Data, errors.Join(err, serr)
			}
		}
		err = c.do(ctx, call{send: c.rawSend(http.MethodGet,
			"/postgres/"+url.PathEscape(id)+"/users/"+url.PathEscape(user)+"/credentials", nil), out: &resp})
		if err == nil {
			return resp.Data, nil
		}
	}
	return resp.Data, err
}
