package fly

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/emothe/emothe/provider/flyapi"
)

// capacityRetries is how often CreateMachine tries again after Fly found no
// capacity for the machine, waiting 4, 8, then 16 times the client's first
// backoff (2 s, 4 s, 8 s by default): capacity a deploy frees comes back
// within seconds.
const capacityRetries = 3

// CreateMachine retries a create that Fly refused for lack of capacity
// (InsufficientCapacity): no machine was launched, so it is safe to repeat.
func (c *APIClient) CreateMachine(ctx context.Context, app string, req flyapi.CreateMachineRequest, idempotencyKey string) (flyapi.Machine, error) {
	wait := 4 * c.retryInitial
	for try := 0; ; try++ {
		m, err := c.createMachine(ctx, app, req, idempotencyKey)
		if try == capacityRetries || !InsufficientCapacity(err) {
			return m, err
		}
		newReporter(ctx).printf("no capacity for a machine in %s, trying again in %s: %v", str(req.Region), wait, err)
		if cause := sleep(ctx, wait); cause != nil {
			return m, fmt.Errorf("%w; stopped waiting for capacity: %w", err, cause)
		}
		wait *= 2
	}
}

// InsufficientCapacity reports whether err is Fly refusing a machine for lack
// of room: the insufficient_capacity status, or flyd's "could not reserve
// resource" and "insufficient resources" texts, which flyctl matches too.
func InsufficientCapacity(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	msg := strings.ToLower(ae.Message)
	return ae.Code == "insufficient_capacity" || strings.Contains(msg, "could not reserve resource") ||
		strings.Contains(msg, "insufficient resources")
}

func (c *APIClient) createMachine(ctx context.Context, app string, req flyapi.CreateMachineRequest, idempotencyKey string) (flyapi.Machine, error) {
	if idempotencyKey != "" {
		req = withMetadata(req, MetaIdempotencyKey, idempotencyKey)
	}
	req = withMetadata(req, MetaLaunchedBy, Holder())
	var m flyapi.Machine
	cl := call{
		send: func(ctx context.Context) (*http.Response, error) { return c.api.MachinesCreate(ctx, app, req) },
		out:  &m,
	}
	if idempotencyKey == "" {
		// Without a key a launched machine cannot be told from others, and a
		// blind retry could launch a second one.
		cl.recover = func(context.Context) (bool, error) {
			return false, errors.New("CreateMachine got no idempotency key to find the machine it may have launched")
		}
	} else {
		cl.recover = func(ctx context.Context) (bool, error) {
			found, err := c.machineByKey(ctx, app, idempotencyKey)
			if err != nil || found == nil {
				return false, err
			}
			m = *found
			if req.LeaseTtl != nil {
				// The create took a lease whose nonce only its lost answer held.
				nonce, err := c.currentLeaseNonce(ctx, app, str(m.Id))
				if err != nil {
					return false, fmt.Errorf("reading the lease of machine %s, created by an earlier attempt: %w", str(m.Id), err)
				}
				m.Nonce = &nonce
			}
			return true, nil
		}
	}
	err := c.do(ctx, cl)
	return m, err
}

// withMetadata sets one metadata key on a copy of req, leaving the caller's
// config and map untouched.
func withMetadata(req flyapi.CreateMachineRequest, key, value string) flyapi.CreateMachineRequest {
	var cfg flyapi.FlyMachineConfig
	if req.Config != nil {
		cfg = *req.Config
	}
	meta := map[string]string{}
	if cfg.Metadata != nil {
		meta = maps.Clone(*cfg.Metadata)
	}
	meta[key] = value
	cfg.Metadata = &meta
	req.Config = &cfg
	return req
}

// machineByKey finds the app's machine that carries an idempotency key.
func (c *APIClient) machineByKey(ctx context.Context, app, key string) (*flyapi.Machine, error) {
	ms, err := c.ListMachines(ctx, app)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		if m.Config != nil && m.Config.Metadata != nil && (*m.Config.Metadata)[MetaIdempotencyKey] == key {
			return &m, nil
		}
	}
	return nil, nil
}

func (c *APIClient) GetMachine(ctx context.Context, app, id string) (flyapi.Machine, error) {
	m, err := c.getMachine(ctx, app, id)
	if err == nil && str(m.State) == "destroyed" {
		return m, fmt.Errorf("machine %s of app %s is destroyed: %w", id, app, ErrNotFound)
	}
	return m, err
}

// getMachine returns the machine in whatever state, destroyed included.
func (c *APIClient) getMachine(ctx context.Context, app, id string) (flyapi.Machine, error) {
	var m flyapi.Machine
	err := c.do(ctx, call{
		send: func(ctx context.Context) (*http.Response, error) { return c.api.MachinesShow(ctx, app, id) },
		out:  &m,
	})
	return m, err
}

func (c *APIClient) ListMachines(ctx context.Context, app string) ([]flyapi.Machine, error) {
	var ms []flyapi.Machine
	err := c.do(ctx, call{
		send: func(ctx context.Context) (*http.Response, error) { return c.api.MachinesList(ctx, app, nil) },
		out:  &ms,
	})
	return slices.DeleteFunc(ms, func(m flyapi.Machine) bool { return str(m.State) == "destroyed" }), err
}

func (c *APIClient) UpdateMachine(ctx context.Context, app, id, nonce string, req flyapi.UpdateMachineRequest) (flyapi.Machine, error) {
	var m flyapi.Machine
	err := c.do(ctx, call{
		send: func(ctx context.Context) (*http.Response, error) {
			return c.api.MachinesUpdate(ctx, app, id, req, withNonce(nonce))
		},
		out: &m,
	})
	return m, err
}

func (c *APIClient) DestroyMachine(ctx context.Context, app, id, nonce string, force bool) error {
	var params flyapi.MachinesDeleteParams
	if force {
		params.Force = &force
	}
	err := c.do(ctx, call{
		send: func(ctx context.Context) (*http.Response, error) {
			return c.api.MachinesDelete(ctx, app, id, &params, withNonce(nonce))
		},
	})
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// StartMachine also retries 412, which Fly answers while a just-updated
// machine is still being replaced.
func (c *APIClient) StartMachine(ctx context.Context, app, id, nonce string) error {
	return c.do(ctx, call{
		send: func(ctx context.Context) (*http.Response, error) {
			return c.api.MachinesStart(ctx, app, id, withNonce(nonce))
		},
		retryOn: []int{http.StatusPreconditionFailed},
	})
}

func (c *APIClient) StopMachine(ctx context.Context, app, id, nonce string, req flyapi.StopRequest) error {
	return c.do(ctx, call{
		send: func(ctx context.Context) (*http.Response, error) {
			return c.api.MachinesStop(ctx, app, id, req, withNonce(nonce))
		},
	})
}

func (c *APIClient) Cordon(ctx context.Context, app, id, nonce string) error {
	return c.do(ctx, call{
		send: func(ctx context.Context) (*http.Response, error) {
			return c.api.MachinesCordon(ctx, app, id, withNonce(nonce))
		},
	})
}

func (c *APIClient) Uncordon(ctx context.Context, app, id, nonce string) error {
	return c.do(ctx, call{
		send: func(ctx context.Context) (*http.Response, error) {
			return c.api.MachinesUncordon(ctx, app, id, withNonce(nonce))
		},
	})
}
