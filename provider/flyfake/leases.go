package flyfake

import (
	"context"
	"net/http"
	"time"

	"github.com/emothe/emothe/provider/flyfake/api"
)

// leaseOwner is who holds the fake's leases: it has a single user.
const leaseOwner = "flyfake@example.com"

type lease struct {
	nonce       string
	owner       string
	description string
	version     string
	expiresAt   time.Time
}

// activeLease is m's lease unless there is none or it has expired.
func (m *machine) activeLease(now time.Time) *lease {
	if m.lease == nil || !now.Before(m.lease.expiresAt) {
		return nil
	}
	return m.lease
}

func (f *Fake) newLease(m *machine, now time.Time, ttlSeconds int, description string) *lease {
	m.lease = &lease{
		nonce:       f.randString(12, lowerHex),
		owner:       leaseOwner,
		description: description,
		version:     m.version,
		expiresAt:   now.Add(time.Duration(ttlSeconds) * time.Second),
	}
	return m.lease
}

// leaseResponse is a lease as Fly answers it. The spec documents a bare
// Lease, but the API wraps it: {"status": "success", "data": Lease} (Fly's
// docs and fly-go).
type leaseResponse struct {
	code  int
	lease *lease
}

func (r leaseResponse) write(w http.ResponseWriter) error {
	writeJSON(w, r.code, map[string]any{
		"status": "success",
		"data": api.Lease{
			Nonce:       new(r.lease.nonce),
			Owner:       new(r.lease.owner),
			Description: new(r.lease.description),
			Version:     new(r.lease.version),
			ExpiresAt:   new(int(r.lease.expiresAt.Unix())),
		},
	})
	return nil
}

func (r leaseResponse) VisitMachinesCreateLeaseResponse(w http.ResponseWriter) error {
	return r.write(w)
}
func (r leaseResponse) VisitMachinesShowLeaseResponse(w http.ResponseWriter) error { return r.write(w) }

// MachinesCreateLease acquires a lease, or refreshes it when the request
// carries the current lease's nonce; someone else's lease answers 409.
func (h handlers) MachinesCreateLease(_ context.Context, req api.MachinesCreateLeaseRequestObject) (api.MachinesCreateLeaseResponseObject, error) {
	now := h.lock()
	defer h.mu.Unlock()
	_, m, err := h.liveMachine(req.AppName, req.MachineId)
	if err != nil {
		return nil, err
	}
	ttl := deref(req.Body.Ttl)
	if ttl < 1 {
		return nil, errorf(http.StatusBadRequest, "ttl %d is out of range: set the lease's lifetime in seconds (at least 1)", ttl)
	}
	desc := deref(req.Body.Description)
	l := m.activeLease(now)
	switch {
	case l == nil:
		l = h.newLease(m, now, ttl, desc)
	case l.nonce == deref(req.Params.FlyMachineLeaseNonce):
		l.expiresAt = now.Add(time.Duration(ttl) * time.Second)
		l.description = desc
	default:
		return nil, errorf(http.StatusConflict, "lease currently held by %s until %s", l.owner, timestamp(l.expiresAt))
	}
	return leaseResponse{code: http.StatusCreated, lease: l}, nil
}

func (h handlers) MachinesShowLease(_ context.Context, req api.MachinesShowLeaseRequestObject) (api.MachinesShowLeaseResponseObject, error) {
	now := h.lock()
	defer h.mu.Unlock()
	_, m, err := h.liveMachine(req.AppName, req.MachineId)
	if err != nil {
		return nil, err
	}
	l := m.activeLease(now)
	if l == nil {
		return nil, errorf(http.StatusNotFound, "no active lease on machine %s", m.id)
	}
	return leaseResponse{code: http.StatusOK, lease: l}, nil
}

func (h handlers) MachinesReleaseLease(_ context.Context, req api.MachinesReleaseLeaseRequestObject) (api.MachinesReleaseLeaseResponseObject, error) {
	now := h.lock()
	defer h.mu.Unlock()
	_, m, err := h.liveMachine(req.AppName, req.MachineId)
	if err != nil {
		return nil, err
	}
	l := m.activeLease(now)
	switch {
	case l == nil:
		return nil, errorf(http.StatusNotFound, "no active lease on machine %s", m.id)
	case l.nonce != req.Params.FlyMachineLeaseNonce:
		return nil, errorf(http.StatusConflict, "fly-machine-lease-nonce does not match the lease held by %s", l.owner)
	}
	m.lease = nil
	return api.MachinesReleaseLease200Response{}, nil
}
