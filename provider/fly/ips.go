package fly

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"

	"github.com/emothe/emothe/provider/flyapi"
)

// AssignIP recovers from an ambiguous failure by comparing the app's IPs
// before and after, matching the new one on family, sharing, region and
// service name (the list carries no type).
func (c *APIClient) AssignIP(ctx context.Context, app string, req flyapi.AssignIPRequest) (flyapi.IPAssignment, error) {
	before, err := c.ListIPs(ctx, app)
	if err != nil {
		return flyapi.IPAssignment{}, fmt.Errorf("listing IPs of app %s before assigning one: %w", app, err)
	}
	var ip flyapi.IPAssignment
	err = c.do(ctx, call{
		send: func(ctx context.Context) (*http.Response, error) { return c.api.AppIPAssignmentsCreate(ctx, app, req) },
		out:  &ip,
		recover: func(ctx context.Context) (bool, error) {
			after, err := c.ListIPs(ctx, app)
			if err != nil {
				return false, err
			}
			got, found, err := createdSince(before, after,
				func(a flyapi.IPAssignment) string { return str(a.Ip) },
				func(a flyapi.IPAssignment) bool { return IPMatches(a, req) })
			ip = got
			return found, err
		},
	})
	return ip, err
}

// IPMatches reports whether assignment a is of the kind req asks for.
func IPMatches(a flyapi.IPAssignment, req flyapi.AssignIPRequest) bool {
	addr, err := netip.ParseAddr(str(a.Ip))
	if err != nil {
		return false
	}
	typ := str(req.Type)
	wantV4 := typ == "v4" || typ == "shared_v4"
	shared := a.Shared != nil && *a.Shared
	return addr.Is4() == wantV4 && shared == (typ == "shared_v4") &&
		(req.Region == nil || str(a.Region) == *req.Region) &&
		(req.ServiceName == nil || str(a.ServiceName) == *req.ServiceName)
}

func (c *APIClient) ListIPs(ctx context.Context, app string) ([]flyapi.IPAssignment, error) {
	var resp flyapi.ListIPAssignmentsResponse
	err := c.do(ctx, call{
		send: func(ctx context.Context) (*http.Response, error) { return c.api.AppIPAssignmentsList(ctx, app) },
		out:  &resp,
	})
	if err != nil || resp.Ips == nil {
		return nil, err
	}
	return *resp.Ips, nil
}

func (c *APIClient) ReleaseIP(ctx context.Context, app, ip string) error {
	err := c.do(ctx, call{
		send: func(ctx context.Context) (*http.Response, error) { return c.api.AppIPAssignmentsDelete(ctx, app, ip) },
	})
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}
