package fly

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/emothe/emothe/provider/flyapi"
)

// Lease is a held machine lease. Pass Nonce to the calls that change the
// machine; Release it when done (a deferred Release with a fresh context
// works even when the operation's context was cancelled).
type Lease struct {
	c       *APIClient
	app, id string
	nonce   string
	stop    context.CancelFunc
	done    chan struct{}
}

// FixedLease is a lease that only carries nonce: Release does nothing. It is
// for mocks and fakes of Client, which cannot build a real one.
func FixedLease(nonce string) *Lease { return &Lease{nonce: nonce} }

// Nonce identifies the lease to Fly (the fly-machine-lease-nonce header).
func (l *Lease) Nonce() string { return l.nonce }

// AcquireLease waits (within the client's max elapsed retry time) while
// someone else holds the lease, then refreshes it every ttl/2 until Release
// or the end of ctx. Fly counts lease TTLs in whole seconds; ttl is rounded
// up, but refreshes follow ttl itself.
func (c *APIClient) AcquireLease(ctx context.Context, app, id string, ttl time.Duration) (*Lease, error) {
	if ttl <= 0 {
		return nil, fmt.Errorf("fly: lease on machine %s: ttl %s must be positive", id, ttl)
	}
	nonce, err := c.postLease(ctx, app, id, ttl, "", http.StatusConflict)
	if err != nil {
		return nil, fmt.Errorf("acquiring the lease on machine %s: %w", id, err)
	}
	rctx, stop := context.WithCancel(ctx)
	l := &Lease{c: c, app: app, id: id, nonce: nonce, stop: stop, done: make(chan struct{})}
	go l.refresh(rctx, ttl)
	return l, nil
}

func (l *Lease) refresh(ctx context.Context, ttl time.Duration) {
	defer close(l.done)
	rep := newReporter(ctx)
	t := time.NewTicker(ttl / 2)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// A refresh that takes longer than ttl/2 is late anyway; the next
		// tick tries again.
		actx, cancel := context.WithTimeout(ctx, ttl/2)
		_, err := l.c.postLease(actx, l.app, l.id, ttl, l.nonce)
		cancel()
		if err != nil && ctx.Err() == nil {
			rep.printf("machine %s: refreshing its lease failed, retrying: %v", l.id, err)
		}
	}
}

// Release stops the refreshes and gives the lease back. A lease that is
// already gone (expired, machine destroyed) is not an error.
func (l *Lease) Release(ctx context.Context) error {
	if l.c == nil { // a FixedLease
		return nil
	}
	l.stop()
	<-l.done
	return l.c.ReleaseLease(ctx, l.app, l.id, l.nonce)
}

// ReleaseLease gives back the lease nonce names. A lease that is already
// gone (expired, machine destroyed) is not an error.
func (c *APIClient) ReleaseLease(ctx context.Context, app, id, nonce string) error {
	err := c.do(ctx, call{
		send: func(ctx context.Context) (*http.Response, error) {
			return c.api.MachinesReleaseLease(ctx, app, id, &flyapi.MachinesReleaseLeaseParams{FlyMachineLeaseNonce: nonce})
		},
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("releasing the lease on machine %s: %w", id, err)
	}
	return nil
}

// postLease creates (nonce empty) or refreshes a lease. The TTL goes in the
// JSON body as the spec says, not as fly-go's ?ttl= query.
func (c *APIClient) postLease(ctx context.Context, app, id string, ttl time.Duration, nonce string, retryOn ...int) (string, error) {
	secs := int(math.Ceil(ttl.Seconds()))
	var params flyapi.MachinesCreateLeaseParams
	if nonce != "" {
		params.FlyMachineLeaseNonce = &nonce
	}
	var resp leaseAnswer
	err := c.do(ctx, call{
		send: func(ctx context.Context) (*http.Response, error) {
			return c.api.MachinesCreateLease(ctx, app, id, &params, flyapi.CreateLeaseRequest{Ttl: &secs})
		},
		out:     &resp,
		retryOn: retryOn,
	})
	if err != nil {
		return "", err
	}
	return resp.nonce(id)
}

// currentLeaseNonce reads the machine's current lease.
func (c *APIClient) currentLeaseNonce(ctx context.Context, app, id string) (string, error) {
	var resp leaseAnswer
	err := c.do(ctx, call{
		send: func(ctx context.Context) (*http.Response, error) { return c.api.MachinesShowLease(ctx, app, id) },
		out:  &resp,
	})
	if err != nil {
		return "", err
	}
	return resp.nonce(id)
}

// leaseAnswer reads a lease both as the spec has it (a bare Lease) and as Fly
// sends it ({"status": "success", "data": Lease}).
type leaseAnswer struct {
	flyapi.Lease
	Data *flyapi.Lease `json:"data"`
}

func (a leaseAnswer) nonce(id string) (string, error) {
	n := str(a.Nonce)
	if a.Data != nil {
		n = str(a.Data.Nonce)
	}
	if n == "" {
		return "", fmt.Errorf("fly: the lease answer for machine %s holds no nonce", id)
	}
	return n, nil
}
