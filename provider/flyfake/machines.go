package flyfake

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/emothe/emothe/provider/flyfake/api"
)

// handlers implements the generated strict server over the fake's state.
// It is a separate type so the 70-odd operations stay off Fake's API.
type handlers struct{ *Fake }

var _ api.StrictServerInterface = handlers{}

// leaseNonce is the fly-machine-lease-nonce header of the request in ctx.
// The spec declares it only on the lease endpoints, so the generated request
// objects of the other operations do not carry it.
func leaseNonce(ctx context.Context) string {
	rt, _ := ctx.Value(routeKey{}).(*route)
	if rt == nil {
		return ""
	}
	return rt.nonce
}

// requireConfig checks what the API needs of every create and update: the
// entire config (updates are not partial), with an image.
func requireConfig(c *api.FlyMachineConfig) (api.FlyMachineConfig, error) {
	if c == nil {
		return api.FlyMachineConfig{}, errorf(http.StatusBadRequest, "config is required: send the machine's entire config")
	}
	if deref(c.Image) == "" {
		return api.FlyMachineConfig{}, errorf(http.StatusBadRequest, "config.image is required: set the image the machine runs")
	}
	return cloneConfig(*c), nil
}

// checkMinSecretsVersion refuses a machine that asks for secrets newer than
// the app has: they could never be injected at boot.
func checkMinSecretsVersion(a *app, v *int) (int, error) {
	if v == nil {
		return 0, nil
	}
	if *v < 0 || uint64(*v) > a.secretsVersion {
		return 0, errorf(http.StatusBadRequest,
			"min_secrets_version %d is ahead of app %s's secrets version %d: pass the version a secrets write returned",
			*v, a.name, a.secretsVersion)
	}
	return *v, nil
}

func (h handlers) MachinesList(_ context.Context, req api.MachinesListRequestObject) (api.MachinesListResponseObject, error) {
	now := h.lock()
	defer h.mu.Unlock()
	a, err := h.findApp(req.AppName)
	if err != nil {
		return nil, err
	}
	p := req.Params
	var states []string
	if s := deref(p.State); s != "" {
		states = strings.Split(s, ",")
	}
	out := []api.Machine{}
	for _, m := range a.machines {
		switch {
		case m.state == stateDestroyed && !deref(p.IncludeDeleted):
		case deref(p.Region) != "" && m.region != *p.Region:
		case states != nil && !slices.Contains(states, m.state):
		default:
			out = append(out, h.machineView(m, now, deref(p.Summary)))
		}
	}
	return api.MachinesList200JSONResponse(out), nil
}

func (h handlers) MachinesCreate(_ context.Context, req api.MachinesCreateRequestObject) (api.MachinesCreateResponseObject, error) {
	now := h.lock()
	defer h.mu.Unlock()
	a, err := h.findApp(req.AppName)
	if err != nil {
		return nil, err
	}
	body := req.Body
	cfg, err := requireConfig(body.Config)
	if err != nil {
		return nil, err
	}
	region := deref(body.Region)
	if region == "" {
		region = defaultRegion
	}
	if slices.Contains(h.faults.NoCapacityRegions, region) {
		// The status code is not documented; clients key on the body's status.
		return nil, &apiError{
			code:   http.StatusPreconditionFailed,
			msg:    fmt.Sprintf("insufficient resources available to fulfill request in region %s (flyfake: injected fault)", region),
			status: "insufficient_capacity",
		}
	}
	minSecrets, err := checkMinSecretsVersion(a, body.MinSecretsVersion)
	if err != nil {
		return nil, err
	}
	h.serial++
	m := &machine{
		id:                h.randString(14, lowerHex),
		region:            region,
		privateIP:         fmt.Sprintf("fdaa:0:1:a7b:%x::%x", h.serial%0xffff, h.serial),
		createdAt:         now,
		updatedAt:         now,
		state:             stateCreated,
		version:           h.newULID(),
		config:            cfg,
		minSecretsVersion: minSecrets,
		// Machines kept out of service registration take no traffic until
		// uncordoned, which is how bluegreen deploys bring them in.
		cordoned: deref(body.SkipServiceRegistration),
	}
	m.name = deref(body.Name)
	if m.name == "" {
		m.name = "machine-" + m.id[:6]
	}
	if err := a.attachVolumes(m, cfg, region); err != nil {
		return nil, err
	}
	m.history = []machineVersion{{version: m.version, config: cloneConfig(cfg)}}
	a.machines = append(a.machines, m)
	h.addEvent(m, now, "launch", stateCreated, nil)
	if !deref(body.SkipLaunch) {
		h.boot(a, m, now, stateStarting)
	}
	view := h.machineView(m, now, false)
	if ttl := deref(body.LeaseTtl); ttl > 0 {
		view.Nonce = new(h.newLease(m, now, ttl, "").nonce)
	}
	h.notify()
	return api.MachinesCreate200JSONResponse(view), nil
}

func (h handlers) MachinesShow(_ context.Context, req api.MachinesShowRequestObject) (api.MachinesShowResponseObject, error) {
	now := h.lock()
	defer h.mu.Unlock()
	_, m, err := h.findMachine(req.AppName, req.MachineId)
	if err != nil {
		return nil, err
	}
	return api.MachinesShow200JSONResponse(h.machineView(m, now, false)), nil
}

func (h handlers) MachinesUpdate(ctx context.Context, req api.MachinesUpdateRequestObject) (api.MachinesUpdateResponseObject, error) {
	now := h.lock()
	defer h.mu.Unlock()
	a, m, err := h.mutableMachine(leaseNonce(ctx), req.AppName, req.MachineId, now)
	if err != nil {
		return nil, err
	}
	body := req.Body
	cfg, err := requireConfig(body.Config)
	if err != nil {
		return nil, err
	}
	if cv := deref(body.CurrentVersion); cv != "" && cv != m.version {
		return nil, errorf(http.StatusPreconditionFailed,
			"current_version %s is not machine %s's version %s: read the machine again", cv, m.id, m.version)
	}
	if r := deref(body.Region); r != "" && r != m.region {
		return nil, errorf(http.StatusBadRequest,
			"region cannot change from %s to %s on update: create a machine in the new region", m.region, r)
	}
	if !slices.Equal(mountedVolumes(m.config), mountedVolumes(cfg)) {
		return nil, errorf(http.StatusBadRequest,
			"config.mounts: the mounted volume cannot change on update: destroy the machine and create one with the new volume")
	}
	if err := a.attachVolumes(m, cfg, m.region); err != nil {
		return nil, err
	}
	minSecrets, err := checkMinSecretsVersion(a, body.MinSecretsVersion)
	if err != nil {
		return nil, err
	}
	running := m.state == stateStarted || m.state == stateStarting || m.state == stateReplacing
	m.version, m.config, m.minSecretsVersion, m.updatedAt = h.newULID(), cfg, minSecrets, now
	m.history = append(m.history, machineVersion{version: m.version, config: cloneConfig(cfg)})
	if n := deref(body.Name); n != "" {
		m.name = n
	}
	if deref(body.SkipServiceRegistration) {
		m.cordoned = true
	}
	h.addEvent(m, now, "update", m.state, nil)
	switch {
	case running && deref(body.SkipLaunch):
		h.stop(m, now, stateStopped)
	case running:
		h.boot(a, m, now, stateReplacing)
	case m.state == stateSuspended:
		// Fly leaves a machine that was not started stopped after an update.
		m.state = stateStopped
	}
	view := h.machineView(m, now, false)
	if ttl := deref(body.LeaseTtl); ttl > 0 && m.activeLease(now) == nil {
		view.Nonce = new(h.newLease(m, now, ttl, "").nonce)
	}
	h.notify()
	return api.MachinesUpdate200JSONResponse(view), nil
}

func (h handlers) MachinesDelete(ctx context.Context, req api.MachinesDeleteRequestObject) (api.MachinesDeleteResponseObject, error) {
	now := h.lock()
	defer h.mu.Unlock()
	a, m, err := h.mutableMachine(leaseNonce(ctx), req.AppName, req.MachineId, now)
	if err != nil {
		return nil, err
	}
	running := m.state == stateStarted || m.state == stateStarting || m.state == stateReplacing
	if running && !deref(req.Params.Force) { // flyctl's kill=true arrives here as force (lenient.go)
		return nil, errorf(http.StatusPreconditionFailed,
			"unable to destroy machine %s: it is %s; stop it first or pass force=true", m.id, m.state)
	}
	h.destroy(a, m, now)
	h.notify()
	return api.MachinesDelete200Response{}, nil
}

func (h handlers) MachinesStart(ctx context.Context, req api.MachinesStartRequestObject) (api.MachinesStartResponseObject, error) {
	now := h.lock()
	defer h.mu.Unlock()
	a, m, err := h.mutableMachine(leaseNonce(ctx), req.AppName, req.MachineId, now)
	if err != nil {
		return nil, err
	}
	previous := m.state
	switch m.state {
	case stateReplacing:
		// As Fly answers a start that races an update's reboot.
		return nil, errorf(http.StatusPreconditionFailed, "unable to start machine from current state %s", m.state)
	case stateCreated, stateStopped, stateSuspended:
		h.boot(a, m, now, stateStarting)
		h.notify()
	}
	return machineStarted{previous}, nil
}

// machineStarted answers a start with a JSON body, as Fly does: fly-go
// decodes {message, status, previous_state} and fails on an empty body. The
// spec documents the 200 without one.
type machineStarted struct{ previousState string }

func (r machineStarted) VisitMachinesStartResponse(w http.ResponseWriter) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "success", "previous_state": r.previousState})
	return nil
}

func (h handlers) MachinesStop(ctx context.Context, req api.MachinesStopRequestObject) (api.MachinesStopResponseObject, error) {
	now := h.lock()
	defer h.mu.Unlock()
	_, m, err := h.mutableMachine(leaseNonce(ctx), req.AppName, req.MachineId, now)
	if err != nil {
		return nil, err
	}
	if m.state == stateStarted || m.state == stateStarting || m.state == stateReplacing {
		h.stop(m, now, stateStopped)
		h.notify()
	}
	return api.MachinesStop200Response{}, nil
}

func (h handlers) MachinesSuspend(ctx context.Context, req api.MachinesSuspendRequestObject) (api.MachinesSuspendResponseObject, error) {
	now := h.lock()
	defer h.mu.Unlock()
	_, m, err := h.mutableMachine(leaseNonce(ctx), req.AppName, req.MachineId, now)
	if err != nil {
		return nil, err
	}
	if m.state != stateStarted {
		return nil, errorf(http.StatusPreconditionFailed, "unable to suspend machine from current state %s", m.state)
	}
	h.stop(m, now, stateSuspended)
	h.notify()
	return api.MachinesSuspend200Response{}, nil
}

func (h handlers) MachinesRestart(ctx context.Context, req api.MachinesRestartRequestObject) (api.MachinesRestartResponseObject, error) {
	now := h.lock()
	defer h.mu.Unlock()
	a, m, err := h.mutableMachine(leaseNonce(ctx), req.AppName, req.MachineId, now)
	if err != nil {
		return nil, err
	}
	if m.state != stateStarted {
		return nil, errorf(http.StatusPreconditionFailed, "unable to restart machine from current state %s", m.state)
	}
	h.stop(m, now, stateStopped)
	h.boot(a, m, now, stateStarting)
	h.notify()
	return api.MachinesRestart200Response{}, nil
}

func (h handlers) MachinesSignal(ctx context.Context, req api.MachinesSignalRequestObject) (api.MachinesSignalResponseObject, error) {
	now := h.lock()
	defer h.mu.Unlock()
	if _, _, err := h.mutableMachine(leaseNonce(ctx), req.AppName, req.MachineId, now); err != nil {
		return nil, err
	}
	return api.MachinesSignal200Response{}, nil // the fake's processes ignore signals
}

func (h handlers) MachinesCordon(ctx context.Context, req api.MachinesCordonRequestObject) (api.MachinesCordonResponseObject, error) {
	if err := h.setCordon(ctx, req.AppName, req.MachineId, true); err != nil {
		return nil, err
	}
	return api.MachinesCordon200Response{}, nil
}

func (h handlers) MachinesUncordon(ctx context.Context, req api.MachinesUncordonRequestObject) (api.MachinesUncordonResponseObject, error) {
	if err := h.setCordon(ctx, req.AppName, req.MachineId, false); err != nil {
		return nil, err
	}
	return api.MachinesUncordon200Response{}, nil
}

// setCordon takes a machine out of (or back into) the proxy's routing. The
// spec's Machine object has no field for it; State shows it.
func (h handlers) setCordon(ctx context.Context, appName, id string, cordoned bool) error {
	now := h.lock()
	defer h.mu.Unlock()
	_, m, err := h.mutableMachine(leaseNonce(ctx), appName, id, now)
	if err != nil {
		return err
	}
	m.cordoned = cordoned
	return nil
}

func (h handlers) MachinesListEvents(_ context.Context, req api.MachinesListEventsRequestObject) (api.MachinesListEventsResponseObject, error) {
	h.lock()
	defer h.mu.Unlock()
	_, m, err := h.findMachine(req.AppName, req.MachineId)
	if err != nil {
		return nil, err
	}
	limit := 20
	if l := req.Params.Limit; l != nil {
		if *l < 1 {
			return nil, errorf(http.StatusBadRequest, "limit %d is out of range: use 1 to 50", *l)
		}
		limit = min(*l, 50)
	}
	return api.MachinesListEvents200JSONResponse(recentEvents(m, limit)), nil
}

func (h handlers) MachinesListVersions(_ context.Context, req api.MachinesListVersionsRequestObject) (api.MachinesListVersionsResponseObject, error) {
	h.lock()
	defer h.mu.Unlock()
	_, m, err := h.findMachine(req.AppName, req.MachineId)
	if err != nil {
		return nil, err
	}
	out := []api.MachineVersion{}
	for _, v := range slices.Backward(m.history) {
		out = append(out, api.MachineVersion{Version: new(v.version), UserConfig: new(cloneConfig(v.config))})
	}
	return api.MachinesListVersions200JSONResponse(out), nil
}
