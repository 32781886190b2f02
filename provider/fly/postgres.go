package fly

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"
)

// CreatePostgres recovers from an ambiguous failure by comparing the
// organization's clusters before and after, since the name may be left to Fly.
func (c *APIClient) CreatePostgres(ctx context.Context, req CreatePostgresRequest) (PostgresCluster, error) {
	if req.OrgSlug == "" || req.Region == "" || req.Plan == "" {
		return PostgresCluster{}, fmt.Errorf("fly: creating a Managed Postgres cluster needs an organization, a region and a plan "+
			"(got org %q, region %q, plan %q)", req.OrgSlug, req.Region, req.Plan)
	}
	before, err := c.ListPostgres(ctx, req.OrgSlug)
	if err != nil {
		return PostgresCluster{}, fmt.Errorf("listing Postgres clusters of %s before creating one: %w", req.OrgSlug, err)
	}
	var resp envelope[PostgresCluster]
	err = c.do(ctx, call{
		send: c.rawSend(http.MethodPost, "/postgres", req),
		out:  &resp,
		recover: func(ctx context.Context) (bool, error) {
			after, err := c.ListPostgres(ctx, req.OrgSlug)
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
// the app's DATABASE_URL; Fly leaves that to the caller (API-NOTES.md §6.1).
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

func (c *APIClient) PostgresCredentials(ctx context.Context, id, user string) (PostgresCredentials, error) {
	var resp envelope[PostgresCredentials]
	err := c.do(ctx, call{send: c.rawSend(http.MethodGet,
		"/postgres/"+url.PathEscape(id)+"/users/"+url.PathEscape(user)+"/credentials", nil), out: &resp})
	return resp.Data, err
}
