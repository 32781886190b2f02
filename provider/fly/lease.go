package fly

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/emothe/emothe/provider/flyapi"
)

// leaseSlack is how long before its expiry a lease counts as expired (a
// quarter of shorter TTLs): a call sent with its nonce must reach Fly while
// the lease still holds.
const leaseSlack = time.Second

// Lease is a held machine lease, refreshed in the background until Release.
// Take its nonce with Nonce right before each call that changes the machine;
// Release it when done (a deferred Release with a fresh context works even
// when the operation's context was cancelled).
type Lease struct {
	c       *APIClient
	app, id string
	ttl     time.Duration
	stop    context.CancelFunc
	done    chan struct{}

	renew   sync.Mutex // one Nonce at a time takes an expired lease again
	mu      sync.Mutex
	now     func() time.Time // the clock expiries are kept on; tests move it
	nonce   string
	expires time.Time // when Fly drops the lease unless it is refreshed
}

// AcquireLease waits (within the client's max elapsed retry time) while
// someone else holds the lease, then refreshes it in the background until
// Release or the end of ctx. Fly counts lease TTLs in whole seconds; ttl is
// rounded up.
func (c *APIClient) AcquireLease(ctx context.Context, app, id string, ttl time.Duration) (*Lease, error) {
	if ttl <= 0 {
		return nil, fmt.Errorf("fly: lease on machine %s: ttl %s must be positive", id, ttl)
	}
	l := c.newLease(app, id, ttl)
	sent := l.clock()
	nonce, err := c.acquire(ctx, app, id, ttl)
	if err != nil {
		return nil, fmt.Errorf("acquiring the lease on machine %s: %w", id, err)
	}
	l.held(nonce, sent)
	l.start(ctx)
	return l, nil
}

// HoldLease adopts the lease a create or update with lease_ttl took (its
// nonce is in the answer) and refreshes it like AcquireLease's. since is
// when that request was sent: the lease runs ttl from no earlier than that.
func (c *APIClient) HoldLease(ctx context.Context, app, id, nonce string, ttl time.Duration, since time.Time) *Lease {
	l := c.newLease(app, id, ttl)
	l.held(nonce, since)
	l.start(ctx)
	return l
}

func (c *APIClient) newLease(app, id string, ttl time.Duration) *Lease {
	return &Lease{c: c, app: app, id: id, ttl: ttl, now: time.Now, done: make(chan struct{})}
}

func (l *Lease) clock() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.now()
}

// held records a granted or refreshed lease, requested at sent.
func (l *Lease) held(nonce string, sent time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.nonce, l.expires = nonce, sent.Add(wholeSeconds(l.ttl))
}

// refreshed records the answer to a refresh of lease old, unless Nonce took
// a new lease while the refresh was under way.
func (l *Lease) refreshed(old, granted string, sent time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.nonce == old {
		l.nonce, l.expires = granted, sent.Add(wholeSeconds(l.ttl))
	}
}

// current returns the nonce and whether the lease still holds.
func (l *Lease) current() (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	slack := min(leaseSlack, wholeSeconds(l.ttl)/4)
	return l.nonce, l.now().Before(l.expires.Add(-slack))
}

func (l *Lease) start(ctx context.Context) {
	rctx, stop := context.WithCancel(ctx)
	l.stop = stop
	go l.refresh(rctx)
}

// refreshEvery is flyctl's refresh period, (TTL − 1s)/3, so two refreshes
// can fail before the lease runs out; a TTL of a second or less is
// refreshed three times over.
func refreshEvery(ttl time.Duration) time.Duration {
	if every := (wholeSeconds(ttl) - time.Second) / 3; every > 0 {
		return every
	}
	return max(ttl/3, time.Millisecond)
}

func (l *Lease) refresh(ctx context.Context) {
	defer close(l.done)
	rep := newReporter(ctx)
	every := refreshEvery(l.ttl)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		nonce, live := l.current()
		if !live {
			continue // Nonce takes a new lease when one is needed
		}
		// A refresh slower than the period is late anyway; the next tick
		// tries again.
		actx, cancel := context.WithTimeout(ctx, every)
		sent := l.clock()
		// Fly answers with the lease it holds now: keep that nonce.
		granted, err := l.c.postLease(actx, l.app, l.id, l.ttl, nonce)
		cancel()
		switch {
		case err == nil:
			l.refreshed(nonce, granted, sent)
		case ctx.Err() == nil:
			rep.printf("machine %s: refreshing its lease failed, retrying: %v", l.id, err)
		}
	}
}

// Nonce identifies the lease to Fly (the fly-machine-lease-nonce header). A
// lease that expired because its refreshes failed is never sent: Nonce
// acquires the machine's lease again, waiting while someone else holds it,
// and returns the new nonce.
func (l *Lease) Nonce(ctx context.Context) (string, error) {
	l.renew.Lock()
	defer l.renew.Unlock()
	nonce, live := l.current()
	if live {
		return nonce, nil
	}
	sent := l.clock()
	nonce, err := l.c.acquire(ctx, l.app, l.id, l.ttl)
	if err != nil {
		return "", fmt.Errorf("the lease on machine %s expired and taking it again failed: %w", l.id, err)
	}
	l.held(nonce, sent)
	return nonce, nil
}

// Gone records that the machine was destroyed, which ended its lease on
// Fly's side too: the refreshes stop asking, and Release sends nothing.
func (l *Lease) Gone() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.expires = time.Time{}
}

// Release stops the refreshes and gives the lease back. A lease that is
// already gone (expired, machine destroyed) is not an error, and an expired
// nonce is not sent.
func (l *Lease) Release(ctx context.Context) error {
	l.stop()
	<-l.done
	nonce, live := l.current()
	if !live {
		return nil
	}
	err := l.c.do(ctx, call{
		send: func(ctx context.Context) (*http.Response, error) {
			return l.c.api.MachinesReleaseLease(ctx, l.app, l.id, &flyapi.MachinesReleaseLeaseParams{FlyMachineLeaseNonce: nonce})
		},
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("releasing the lease on machine %s: %w", l.id, err)
	}
	return nil
}

// wholeSeconds rounds ttl up to the whole seconds Fly counts leases in.
func wholeSeconds(ttl time.Duration) time.Duration {
	return time.Duration(math.Ceil(ttl.Seconds())) * time.Second
}

// postLease creates (nonce empty) or refreshes a lease. The TTL goes in the
// JSON body as the spec says, not as fly-go's ?ttl= query; the description
// names this process (Holder).
func (c *APIClient) postLease(ctx context.Context, app, id string, ttl time.Duration, nonce string, retryOn ...int) (string, error) {
	secs := int(wholeSeconds(ttl) / time.Second)
	var params flyapi.MachinesCreateLeaseParams
	if nonce != "" {
		params.FlyMachineLeaseNonce = &nonce
	}
	var resp leaseAnswer
	err := c.do(ctx, call{
		send: func(ctx context.Context) (*http.Response, error) {
			return c.api.MachinesCreateLease(ctx, app, id, &params, flyapi.CreateLeaseRequest{Ttl: &secs, Description: new(Holder())})
		},
		out:     &resp,
		retryOn: retryOn,
	})
	if err != nil {
		return "", err
	}
	return resp.nonce(id)
}

// currentLeaseNonce reads the machine's current lease's nonce.
func (c *APIClient) currentLeaseNonce(ctx context.Context, app, id string) (string, error) {
	l, err := c.currentLease(ctx, app, id)
	if err != nil {
		return "", err
	}
	return leaseAnswer{Lease: l}.nonce(id)
}

// currentLease reads the machine's current lease.
func (c *APIClient) currentLease(ctx context.Context, app, id string) (flyapi.Lease, error) {
	var resp leaseAnswer
	err := c.do(ctx, call{
		send: func(ctx context.Context) (*http.Response, error) { return c.api.MachinesShowLease(ctx, app, id) },
		out:  &resp,
	})
	if resp.Data != nil {
		return *resp.Data, err
	}
	return resp.Lease, err
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
