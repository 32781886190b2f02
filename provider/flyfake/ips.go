package flyfake

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/emothe/emothe/provider/flyfake/api"
)

type ipAssignment struct {
	ip          string
	kind        string // v4, v6, shared_v4 or private_v6
	region      string
	serviceName string
	shared      bool
	createdAt   time.Time
}

func (ip *ipAssignment) view() api.IPAssignment {
	return api.IPAssignment{
		Ip:          new(ip.ip),
		Region:      new(ip.region),
		ServiceName: new(ip.serviceName),
		Shared:      new(ip.shared),
		CreatedAt:   new(timestamp(ip.createdAt)),
	}
}

// ipsOf lists the app's public addresses of the given kinds.
func (a *app) ipsOf(kinds ...string) []string {
	out := []string{}
	for _, ip := range a.ips {
		if slices.Contains(kinds, ip.kind) {
			out = append(out, ip.ip)
		}
	}
	return out
}

// AppIPAssignmentsCreate allocates an address; an app has one shared IPv4,
// so asking for it again returns it.
func (h handlers) AppIPAssignmentsCreate(_ context.Context, req api.AppIPAssignmentsCreateRequestObject) (api.AppIPAssignmentsCreateResponseObject, error) {
	now := h.lock()
	defer h.mu.Unlock()
	a, err := h.findApp(req.AppName)
	if err != nil {
		return nil, err
	}
	kind := deref(req.Body.Type)
	h.serial++
	n := h.serial
	var addr string
	switch kind {
	case "v4":
		addr = fmt.Sprintf("137.66.%d.%d", n/250%250, n%250+1)
	case "v6":
		addr = fmt.Sprintf("2a09:8280:1::%x:%x", n, n)
	case "shared_v4":
		for _, ip := range a.ips {
			if ip.kind == kind {
				return api.AppIPAssignmentsCreate200JSONResponse(ip.view()), nil
			}
		}
		addr = fmt.Sprintf("66.241.124.%d", n%250+1)
	case "private_v6":
		addr = fmt.Sprintf("fdaa:0:%x:0:1::%x", n, n)
	default:
		return nil, errorf(http.StatusBadRequest, "type %q is invalid: use v4, v6, shared_v4 or private_v6", kind)
	}
	region := deref(req.Body.Region)
	if region == "" {
		region = "global"
	}
	ip := &ipAssignment{
		ip:          addr,
		kind:        kind,
		region:      region,
		serviceName: deref(req.Body.ServiceName),
		shared:      kind == "shared_v4",
		createdAt:   now,
	}
	a.ips = append(a.ips, ip)
	return api.AppIPAssignmentsCreate200JSONResponse(ip.view()), nil
}

func (h handlers) AppIPAssignmentsList(_ context.Context, req api.AppIPAssignmentsListRequestObject) (api.AppIPAssignmentsListResponseObject, error) {
	h.lock()
	defer h.mu.Unlock()
	a, err := h.findApp(req.AppName)
	if err != nil {
		return nil, err
	}
	ips := []api.IPAssignment{}
	for _, ip := range a.ips {
		ips = append(ips, ip.view())
	}
	return api.AppIPAssignmentsList200JSONResponse{Ips: &ips}, nil
}

// AppIPAssignmentsDelete releases an address; the IP itself is its ID.
func (h handlers) AppIPAssignmentsDelete(_ context.Context, req api.AppIPAssignmentsDeleteRequestObject) (api.AppIPAssignmentsDeleteResponseObject, error) {
	h.lock()
	defer h.mu.Unlock()
	a, err := h.findApp(req.AppName)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(a.ips, func(ip *ipAssignment) bool { return ip.ip == req.Ip })
	if i < 0 {
		return nil, errorf(http.StatusNotFound, "ip assignment not found: %s", req.Ip)
	}
	a.ips = slices.Delete(a.ips, i, i+1)
	return api.AppIPAssignmentsDelete204Response{}, nil
}
