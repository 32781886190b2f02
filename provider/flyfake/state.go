package flyfake

import (
	"net/http"
	"time"

	"github.com/emothe/emothe/provider/flyfake/api"
)

// defaultRegion stands in for "near the caller" when a create names none.
const defaultRegion = "iad"

// app is one Fly app and everything that belongs to it.
type app struct {
	id             string
	numericID      int
	name           string
	org            string
	network        string
	machines       []*machine // creation order; destroyed ones stay for include_deleted
	volumes        []*api.Volume
	secrets        map[string]*secret
	secretKeys     map[string]*secretKey
	secretsVersion uint64
	ips            []*ipAssignment
	certs          []*certificate
}

func (f *Fake) findApp(name string) (*app, error) {
	for _, a := range f.apps {
		if a.name == name {
			return a, nil
		}
	}
	return nil, errorf(http.StatusNotFound, "app not found: %s", name)
}

// liveMachines counts the machines that are not destroyed.
func (a *app) liveMachines() int {
	n := 0
	for _, m := range a.machines {
		if m.state != stateDestroyed {
			n++
		}
	}
	return n
}

func (a *app) view() api.App {
	status := "pending"
	if a.liveMachines() > 0 {
		status = "deployed"
	}
	return api.App{
		Id:                new(a.id),
		InternalNumericId: new(a.numericID),
		Name:              new(a.name),
		Network:           new(a.network),
		Status:            new(status),
		MachineCount:      new(a.liveMachines()),
		VolumeCount:       new(len(a.volumes)),
		Organization:      &api.AppOrganizationInfo{Name: new(a.org), Slug: new(a.org)},
	}
}

// lock takes the fake's lock and brings every machine up to the clock's
// present, so handlers only ever see settled state. It returns the present.
func (f *Fake) lock() time.Time {
	f.mu.Lock()
	now := f.clock.Now()
	for _, a := range f.apps {
		for _, m := range a.machines {
			f.settle(a, m, now)
		}
	}
	return now
}

// notify wakes every wait request so it looks at the machines again. Call it
// with the lock held after changing a machine.
func (f *Fake) notify() {
	close(f.changed)
	f.changed = make(chan struct{})
}

const (
	lowerHex   = "0123456789abcdef"
	lowerAlnum = "0123456789abcdefghijklmnopqrstuvwxyz"
	crockford  = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
)

// randString draws n characters of alphabet from the seeded ID generator.
// Call it with the lock held.
func (f *Fake) randString(n int, alphabet string) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[f.idRNG.IntN(len(alphabet))]
	}
	return string(b)
}

// newULID makes a 26-character ID shaped like Fly's machine versions and
// event IDs.
func (f *Fake) newULID() string { return "01" + f.randString(24, crockford) }

func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// State is a snapshot of everything the fake holds, for tests and for
// GET /__fake/state. Secret values never appear in it, only digests.
type State struct {
	Apps     []AppState      `json:"apps"`
	Postgres []PostgresState `json:"postgres"`
}

// AppState is one app in a State.
type AppState struct {
	Name         string             `json:"name"`
	Org          string             `json:"org"`
	Network      string             `json:"network,omitempty"`
	Machines     []MachineState     `json:"machines"` // destroyed ones included
	Volumes      []api.Volume       `json:"volumes"`
	Secrets      SecretsState       `json:"secrets"`
	IPs          []IPState          `json:"ips"`
	Certificates []CertificateState `json:"certificates"`
}

// MachineState is one machine in a State, with what the API's Machine
// object does not show (cordon, lease holder, version history).
type MachineState struct {
	ID                string               `json:"id"`
	Name              string               `json:"name"`
	Region            string               `json:"region"`
	State             string               `json:"state"`
	Version           string               `json:"version"`  // the instance_id
	Versions          []string             `json:"versions"` // oldest first, current last
	Config            api.FlyMachineConfig `json:"config"`
	Cordoned          bool                 `json:"cordoned"`
	MinSecretsVersion int                  `json:"min_secrets_version,omitempty"`
	// LeaseOwner is set while a lease is held; the nonce stays private.
	LeaseOwner string `json:"lease_owner,omitempty"`
}

// SecretsState is an app's secrets: the version counter and a digest per name.
type SecretsState struct {
	Version uint64            `json:"version"`
	Digests map[string]string `json:"digests"`
}

// IPState is one IP assignment.
type IPState struct {
	IP     string `json:"ip"`
	Type   string `json:"type"`
	Region string `json:"region"`
	Shared bool   `json:"shared"`
}

// CertificateState is one certificate's hostname and status.
type CertificateState struct {
	Hostname string `json:"hostname"`
	Status   string `json:"status"`
}

// State returns a snapshot of the fake's apps and Postgres clusters.
func (f *Fake) State() State {
	now := f.lock()
	defer f.mu.Unlock()
	st := State{Apps: []AppState{}, Postgres: []PostgresState{}}
	for _, a := range f.apps {
		as := AppState{
			Name:         a.name,
			Org:          a.org,
			Network:      a.network,
			Machines:     []MachineState{},
			Volumes:      []api.Volume{},
			Secrets:      SecretsState{Version: a.secretsVersion, Digests: map[string]string{}},
			IPs:          []IPState{},
			Certificates: []CertificateState{},
		}
		for _, m := range a.machines {
			ms := MachineState{
				ID:                m.id,
				Name:              m.name,
				Region:            m.region,
				State:             m.state,
				Version:           m.version,
				Config:            m.config,
				Cordoned:          m.cordoned,
				MinSecretsVersion: m.minSecretsVersion,
			}
			for _, v := range m.history {
				ms.Versions = append(ms.Versions, v.version)
			}
			if l := m.activeLease(now); l != nil {
				ms.LeaseOwner = l.owner
			}
			as.Machines = append(as.Machines, ms)
		}
		for _, v := range a.volumes {
			as.Volumes = append(as.Volumes, *v)
		}
		for name, s := range a.secrets {
			as.Secrets.Digests[name] = s.digest
		}
		for _, ip := range a.ips {
			as.IPs = append(as.IPs, IPState{IP: ip.ip, Type: ip.kind, Region: ip.region, Shared: ip.shared})
		}
		for _, c := range a.certs {
			as.Certificates = append(as.Certificates, CertificateState{Hostname: c.hostname, Status: c.status()})
		}
		st.Apps = append(st.Apps, as)
	}
	for _, c := range f.postgres {
		st.Postgres = append(st.Postgres, c.state(now, f.opts.PostgresReadyDelay))
	}
	return st
}
