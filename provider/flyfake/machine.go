package flyfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/emothe/emothe/provider/flyfake/api"
)

// Machine states the fake moves through (Fly's machine-states doc).
const (
	stateCreated   = "created"
	stateStarting  = "starting"
	stateStarted   = "started"
	stateStopped   = "stopped"
	stateSuspended = "suspended"
	stateReplacing = "replacing"
	stateDestroyed = "destroyed"
	stateReplaced  = "replaced" // what a version is once an update supersedes it
)

// Transitions a machine makes on its own when its time comes.
const (
	pendingStarted = "started" // a boot (start or update) completes
	pendingExit    = "exit"    // a release command's process finishes
	pendingCrash   = "crash"   // a process exits on its own (the CrashExitCode fault)
)

type machine struct {
	id                string
	name              string
	region            string
	privateIP         string
	createdAt         time.Time
	updatedAt         time.Time
	state             string
	version           string // the instance_id
	config            api.FlyMachineConfig
	history           []machineVersion // oldest first, current last
	events            []machineEvent   // oldest first
	lease             *lease
	cordoned          bool
	minSecretsVersion int
	startedAt         time.Time
	pending           string
	pendingAt         time.Time
}

type machineVersion struct {
	version string
	config  api.FlyMachineConfig
}

type machineEvent struct {
	version string // the machine version the event belongs to
	api.MachineEvent
}

// runsToCompletion tells release-command style machines: nothing restarts
// them and they are destroyed once their process exits.
func runsToCompletion(c api.FlyMachineConfig) bool {
	return c.AutoDestroy != nil && *c.AutoDestroy &&
		c.Restart != nil && c.Restart.Policy != nil && *c.Restart.Policy == api.FlyMachineRestartPolicyNo
}

func (f *Fake) addEvent(m *machine, at time.Time, kind, status string, request map[string]any) {
	ev := api.MachineEvent{
		Id:        new(f.newULID()),
		Type:      new(kind),
		Status:    new(status),
		Source:    new("flyd"),
		Timestamp: new(int(at.UnixMilli())),
	}
	if request != nil {
		ev.Request = &request
	}
	m.events = append(m.events, machineEvent{version: m.version, MachineEvent: ev})
}

// boot puts m into a transient state (starting, or replacing after an
// update) that becomes started after the boot delay.
func (f *Fake) boot(a *app, m *machine, now time.Time, transient string) {
	m.state = transient
	m.updatedAt = now
	m.pending, m.pendingAt = pendingStarted, now.Add(f.opts.BootDelay)
	f.settle(a, m, now) // a zero boot delay starts it at once
}

// settle applies every transition of m that is due by now.
func (f *Fake) settle(a *app, m *machine, now time.Time) {
	for m.pending != "" && !now.Before(m.pendingAt) {
		kind, at := m.pending, m.pendingAt
		m.pending, m.pendingAt = "", time.Time{}
		switch kind {
		case pendingStarted:
			m.state, m.startedAt, m.updatedAt = stateStarted, at, at
			f.addEvent(m, at, "start", stateStarted, nil)
			if runsToCompletion(m.config) {
				m.pending, m.pendingAt = pendingExit, at.Add(f.opts.BootDelay)
			} else if f.faults.CrashExitCode != 0 {
				m.pending, m.pendingAt = pendingCrash, at
			}
		case pendingExit:
			m.state, m.updatedAt = stateStopped, at
			f.addEvent(m, at, "exit", stateStopped, f.exitRequest(f.faults.ReleaseExitCode, false))
			f.destroy(a, m, at)
		case pendingCrash:
			m.state, m.updatedAt = stateStopped, at
			f.addEvent(m, at, "exit", stateStopped, f.exitRequest(f.faults.CrashExitCode, false))
		}
	}
}

// stop halts m at once, as a requested stop.
func (f *Fake) stop(m *machine, now time.Time, state string) {
	m.state, m.updatedAt = state, now
	m.pending, m.pendingAt = "", time.Time{}
	f.addEvent(m, now, "exit", state, f.exitRequest(0, true))
}

// exitRequest is an exit event's request. Fly may leave out a zero
// exit_code (fly-go declares it omitempty and reads it as 0); the
// OmitZeroExitCode fault does the same.
func (f *Fake) exitRequest(code int, requested bool) map[string]any {
	exit := map[string]any{"exit_code": code, "oom_killed": false, "requested_stop": requested}
	if code == 0 && f.faults.OmitZeroExitCode {
		delete(exit, "exit_code")
	}
	return map[string]any{"exit_event": exit, "restart_count": 0}
}

func (f *Fake) destroy(a *app, m *machine, now time.Time) {
	m.state, m.updatedAt = stateDestroyed, now
	m.pending, m.pendingAt = "", time.Time{}
	m.lease = nil
	a.detachVolumes(m)
	f.addEvent(m, now, "destroy", stateDestroyed, nil)
}

// checks reports every service check and top-level check of m: critical
// until m has been started for the health delay, then passing.
func (f *Fake) checks(m *machine, now time.Time) []api.CheckStatus {
	var names []string
	for _, svc := range deref(m.config.Services) {
		for i, c := range deref(svc.Checks) {
			names = append(names, fmt.Sprintf("servicecheck-%02d-%s-%d", i, deref(c.Type), deref(svc.InternalPort)))
		}
	}
	var top []string
	for name := range deref(m.config.Checks) {
		top = append(top, name)
	}
	sort.Strings(top)
	names = append(names, top...)

	status, output := "critical", "machine is not started"
	switch {
	case m.state != stateStarted:
	case f.faults.UnhealthyChecks:
		output = "flyfake: injected fault: check never passes"
	case now.Sub(m.startedAt) < f.opts.HealthDelay:
		output = "waiting for the machine to become healthy"
	default:
		status, output = "passing", "OK"
	}
	out := make([]api.CheckStatus, 0, len(names))
	for _, name := range names {
		out = append(out, api.CheckStatus{Name: new(name), Status: new(status), Output: new(output), UpdatedAt: new(timestamp(now))})
	}
	return out
}

// view renders m as the API's Machine object; summary leaves out config,
// checks and events as the list endpoint's summary=true does.
func (f *Fake) machineView(m *machine, now time.Time, summary bool) api.Machine {
	v := api.Machine{
		Id:         new(m.id),
		Name:       new(m.name),
		Region:     new(m.region),
		State:      new(m.state),
		InstanceId: new(m.version),
		PrivateIp:  new(m.privateIP),
		CreatedAt:  new(timestamp(m.createdAt)),
		UpdatedAt:  new(timestamp(m.updatedAt)),
		HostStatus: new(api.MachineHostStatusOk),
		ImageRef:   imageRef(deref(m.config.Image)),
	}
	if summary {
		return v
	}
	v.Config = new(cloneConfig(m.config))
	v.Checks = new(f.checks(m, now))
	v.Events = new(recentEvents(m, 20))
	return v
}

// recentEvents returns up to limit events, newest first, as Fly lists them.
func recentEvents(m *machine, limit int) []api.MachineEvent {
	out := []api.MachineEvent{}
	for _, ev := range slices.Backward(m.events) {
		if len(out) == limit {
			break
		}
		out = append(out, ev.MachineEvent)
	}
	return out
}

// imageRef splits an image reference the way Fly reports it back.
func imageRef(image string) *api.ImageRef {
	ref := api.ImageRef{Registry: new("docker.io")}
	rest := image
	if name, digest, ok := strings.Cut(rest, "@"); ok {
		rest, ref.Digest = name, new(digest)
	}
	if first, after, ok := strings.Cut(rest, "/"); ok && strings.ContainsAny(first, ".:") {
		ref.Registry, rest = new(first), after
	}
	repo, tag := rest, "latest"
	if i := strings.LastIndex(rest, ":"); i >= 0 {
		repo, tag = rest[:i], rest[i+1:]
	}
	ref.Repository, ref.Tag = new(repo), new(tag)
	return &ref
}

// findMachine finds a machine of an app, destroyed ones included.
func (f *Fake) findMachine(appName, id string) (*app, *machine, error) {
	a, err := f.findApp(appName)
	if err != nil {
		return nil, nil, err
	}
	for _, m := range a.machines {
		if m.id == id {
			return a, m, nil
		}
	}
	return nil, nil, errorf(http.StatusNotFound, "not_found: machine not found: %s", id)
}

// liveMachine finds a machine that is not destroyed.
func (f *Fake) liveMachine(appName, id string) (*app, *machine, error) {
	a, m, err := f.findMachine(appName, id)
	if err != nil {
		return nil, nil, err
	}
	if m.state == stateDestroyed {
		return nil, nil, errorf(http.StatusNotFound, "not_found: machine not found: %s is destroyed", id)
	}
	return a, m, nil
}

// mutableMachine finds a live machine that the caller may change: when it
// is leased, the request must carry the lease's nonce.
func (f *Fake) mutableMachine(nonce, appName, id string, now time.Time) (*app, *machine, error) {
	a, m, err := f.liveMachine(appName, id)
	if err != nil {
		return nil, nil, err
	}
	if l := m.activeLease(now); l != nil && l.nonce != nonce {
		return nil, nil, errorf(http.StatusConflict,
			"machine %s is leased by %s until %s: send the lease's nonce in the fly-machine-lease-nonce header",
			id, l.owner, timestamp(l.expiresAt))
	}
	return a, m, nil
}

// mountedVolumes lists the volume IDs a config mounts.
func mountedVolumes(c api.FlyMachineConfig) []string {
	var ids []string
	for _, mt := range deref(c.Mounts) {
		ids = append(ids, deref(mt.Volume))
	}
	return ids
}

// attachVolumes checks that the volumes cfg mounts can back machine m in
// region, then attaches them.
func (a *app) attachVolumes(m *machine, cfg api.FlyMachineConfig, region string) error {
	ids := mountedVolumes(cfg)
	if len(ids) > 1 {
		return errorf(http.StatusBadRequest, "config.mounts has %d volumes: a machine mounts at most one", len(ids))
	}
	var vols []*api.Volume
	for i, id := range ids {
		if deref(cfg.Mounts)[i].Path == nil {
			return errorf(http.StatusBadRequest, "config.mounts[%d].path is required: set where the volume is mounted", i)
		}
		v := a.volume(id)
		switch {
		case v == nil:
			return errorf(http.StatusBadRequest, "config.mounts[%d].volume %q does not exist in app %s", i, id, a.name)
		case deref(v.Region) != region:
			return errorf(http.StatusBadRequest, "config.mounts[%d].volume %q is in region %s, not the machine's region %s", i, id, deref(v.Region), region)
		case v.AttachedMachineId != nil && *v.AttachedMachineId != m.id:
			return errorf(http.StatusBadRequest, "config.mounts[%d].volume %q is attached to machine %s", i, id, *v.AttachedMachineId)
		}
		vols = append(vols, v)
	}
	for _, v := range vols {
		v.AttachedMachineId = new(m.id)
	}
	return nil
}

func (a *app) detachVolumes(m *machine) {
	for _, v := range a.volumes {
		if deref(v.AttachedMachineId) == m.id {
			v.AttachedMachineId = nil
		}
	}
}

// cloneConfig deep-copies a machine config, so stored versions never alias
// what a handler later changes.
func cloneConfig(c api.FlyMachineConfig) api.FlyMachineConfig {
	b, err := json.Marshal(c)
	if err != nil {
		panic(fmt.Sprintf("flyfake: encode machine config: %v", err)) // generated types always encode
	}
	var out api.FlyMachineConfig
	if err := json.Unmarshal(b, &out); err != nil {
		panic(fmt.Sprintf("flyfake: decode machine config: %v", err))
	}
	return out
}

// deref reads an optional field, zero when absent.
func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}
