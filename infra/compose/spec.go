// Package compose is the Compose backend: Emothe as containers on one Docker
// host (the local engine, or ssh://user@host), with Postgres, migrations, a
// TLS reverse proxy and backups.
//
// Every decision lives in Plan, which turns the stack's configuration into a
// Spec: plain data, testable without Pulumi. The backend (backend.go) turns a
// Spec into pulumi-docker resources and nothing else, and the real-engine
// suite in tests/compose runs the same Spec through the docker CLI.
package compose

import "time"

// Spec is everything the backend runs on the Docker host.
type Spec struct {
	// Project is the Compose project name, shared by every object's name and
	// labels, so `docker compose -p <project> ps` and `logs` work.
	Project  string
	Networks []Network
	Volumes  []Volume
	// Containers are in start order: each comes after the services it
	// names in After.
	Containers []Container
	// URL is where the service answers, through the proxy.
	URL string
	// DatabaseHost names the database host, without credentials.
	DatabaseHost string
	// DNSRecords are the records the stack's domain needs; none without one.
	DNSRecords []string
}

// Network is a Docker network of the project.
type Network struct {
	Name string
	// Internal networks have no route off the host.
	Internal bool
	Labels   map[string]string
}

// Volume is a named volume of the project.
type Volume struct {
	Name string
	// Keep leaves the volume on the host when Pulumi deletes or replaces it
	// (retainOnDelete): it holds data that outlives the deployment.
	Keep   bool
	Labels map[string]string
}

// Run is how a container runs.
type Run int

const (
	// Service keeps running; it is ready once its healthcheck passes.
	Service Run = iota
	// Task runs to completion; it is done once it exits, and only exit code
	// 0 lets the services after it start.
	Task
)

// Rollout is how a change replaces a container.
type Rollout int

const (
	// Recreate stops the old container before the new one starts, under the
	// same name: for singletons that own state (the database) or a host port
	// (the proxy).
	Recreate Rollout = iota
	// StartFirst starts the new container, under a name unique to the
	// rollout, and stops the old one only once the new one is ready: the
	// app's zero-downtime update.
	StartFirst
)

// Container is one container of the project.
type Container struct {
	// Name is the container's name; with StartFirst, the prefix of a name
	// unique to each rollout.
	Name    string
	Service string
	Image   string
	// Release marks the containers that run the release image (migrate and
	// app): Image is then the image Plan was given.
	Release bool
	Command []string
	// Env holds plain variables; Secrets names the variables whose values
	// are secret and supplied at deploy time (by the backend from
	// stack.Secrets.Env; by tests/compose from its own).
	Env     map[string]string
	Secrets []string
	Health  *Health
	// Networks are joined in order; the first is the one the container is
	// created on.
	Networks []Attachment
	Mounts   []Mount
	Ports    []Port
	// Files are written into the container before it starts.
	Files    []File
	Restart  string
	MemoryMB int
	CPUs     int
	Labels   map[string]string
	Run      Run
	Rollout  Rollout
	// After names the services that must be ready (a Service healthy, a Task
	// exited 0) before this container starts.
	After []string
	// StopGrace is how long a stop waits for a clean exit before killing.
	StopGrace time.Duration
}

// Health is a Docker healthcheck.
type Health struct {
	// Test is in Docker's form: ["CMD", args...], ["CMD-SHELL", script], or
	// ["NONE"] to disable the image's own.
	Test        []string
	Interval    time.Duration
	Timeout     time.Duration
	StartPeriod time.Duration
	Retries     int
}

// Disabled reports whether h turns the image's healthcheck off.
func (h Health) Disabled() bool { return len(h.Test) == 1 && h.Test[0] == "NONE" }

// Attachment joins a container to a network under extra DNS names.
type Attachment struct {
	Network string
	Aliases []string
}

// Mount puts a named volume at Target.
type Mount struct {
	Volume string
	Target string
}

// Port publishes a container port on the host; an empty HostIP means every
// address of the host.
type Port struct {
	HostIP    string
	Host      int
	Container int
}

// File is a file written into a container before it starts.
type File struct {
	Path    string
	Content string
}

// Service returns the containers of one service, in order.
func (s Spec) Service(name string) []Container {
	var out []Container
	for _, c := range s.Containers {
		if c.Service == name {
			out = append(out, c)
		}
	}
	return out
}
