package e2e

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/emothe/emothe/infra/fly"
	"github.com/emothe/emothe/infra/stack"
	"github.com/emothe/emothe/provider/flyfake"
	"github.com/emothe/emothe/sdk/go/flyio"
	"github.com/emothe/emothe/tests/e2e/harness"
)

// task is one thing an `up` from empty must do on Fly: its own time, and
// the tasks whose result it needs before it can begin.
type task struct {
	name  string
	took  time.Duration
	after []*task
}

// done is when s ends at the earliest: its own time after the last of the
// tasks it needs.
func (s *task) done() time.Duration {
	if last := s.slowest(); last != nil {
		return last.done() + s.took
	}
	return s.took
}

// slowest is the task s waits for longest, nil when it waits for none.
func (s *task) slowest() *task {
	var last *task
	for _, a := range s.after {
		if last == nil || a.done() > last.done() {
			last = a
		}
	}
	return last
}

// chain names the tasks of the longest path to s, first to last.
func (s *task) chain() []string {
	var names []string
	for at := s; at != nil; at = at.slowest() {
		names = append(names, at.name)
	}
	slices.Reverse(names)
	return names
}

// criticalPath is the least time an `up` from empty of plan can take
// against a fake with opts' pace: the longest chain of tasks that must
// wait on each other, each one API round trip (opts.Latency) plus the
// fake's delays it must sit out. It models what Fly's API and the
// service require, not what the provider happens to do: a read the
// provider makes for safety (is a half-made resource there already?) or
// a read-back is not a task, an answer the next task needs is (the
// Managed Postgres credentials). The Pulumi engine's own time is left
// out too: the no-op `up` benchmark shows it.
//
// The chain, for the two kinds of database:
//
//	machine:  database app → its volume (and secrets) → Postgres machine
//	          boots and passes its checks → release command → app machines
//	managed:  app → cluster ready → its credentials → app secrets
//	          (DATABASE_URL) → release command → app machines
//
// The release command's machine boots, then runs for BootDelay (the fake's
// pace for a command), and the app machines start only after it succeeded;
// machines with checks then pass them HealthDelay after they start. The
// IPs and the certificate hang off the app and are never on the path, so
// they are left out.
func criticalPath(p fly.Plan, opts flyfake.Options) *task {
	call := func(name string, after ...*task) *task { return &task{name: name, took: opts.Latency, after: after} }
	boot := func(name string, g fly.Group, after ...*task) *task {
		s := call(name, after...)
		s.took += opts.BootDelay
		if hasChecks(g) {
			s.took += opts.HealthDelay
		}
		return s
	}
	app := call("create the app")
	var db, secrets *task
	switch {
	case p.Database.Machine != nil:
		m := p.Database.Machine
		dbApp := call("create the database app")
		volume := call("create its volume", dbApp)
		dbSecrets := call("set its secrets", dbApp)
		db = boot("start the Postgres machine", m.Machines, volume, dbSecrets)
		secrets = call("set the app's secrets", app) // the database URL is known from the config
	default:
		cluster := call("create the Managed Postgres cluster", app) // it is attached to the app
		cluster.took += opts.PostgresReadyDelay
		db = call("read its credentials", cluster)
		secrets = call("set the app's secrets", app, db) // DATABASE_URL is the cluster's
	}
	release := secrets
	if len(p.Machines.ReleaseCommand) > 0 {
		release = call("run the release command", secrets, db)
		release.took += 2 * opts.BootDelay
	}
	return boot("start the app machines", p.Machines, release, db)
}

func hasChecks(g fly.Group) bool {
	if len(g.Config.Checks) > 0 {
		return true
	}
	return slices.ContainsFunc(g.Config.Services, func(s flyio.MachineService) bool { return len(s.Checks) > 0 })
}

// planOf is the Fly plan of a harness stack, from its configuration.
func planOf(tb testing.TB, s *harness.Stack) fly.Plan {
	tb.Helper()
	cfg, err := s.St.GetAllConfig(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	c, err := fly.Load(stack.RawFromConfig(s.Name, cfg))
	if err != nil {
		tb.Fatal(err)
	}
	return fly.NewPlan(c)
}

// The model's chain and length for each kind of database, with and
// without a release command.
func TestCriticalPath(t *testing.T) {
	opts := flyfake.Options{Latency: time.Second, BootDelay: 10 * time.Second, HealthDelay: 100 * time.Second,
		PostgresReadyDelay: 1000 * time.Second}
	checked := flyio.MachineConfig{Checks: map[string]flyio.HealthCheck{"tcp": {Type: "tcp"}}}
	app := fly.Group{Config: checked, ReleaseCommand: []string{"migrate"}}
	onMachine := fly.Database{Machine: &fly.MachinePostgres{Machines: fly.Group{Config: checked}}}
	managed := fly.Database{Managed: &fly.ManagedPostgres{}}
	for _, c := range []struct {
		name  string
		plan  fly.Plan
		chain []string
		took  time.Duration
	}{
		{"machine", fly.Plan{Machines: app, Database: onMachine}, []string{"create the database app", "create its volume",
			"start the Postgres machine", "run the release command", "start the app machines"}, 5*time.Second + 4*10*time.Second + 2*100*time.Second},
		{"managed", fly.Plan{Machines: app, Database: managed},
			[]string{"create the app", "create the Managed Postgres cluster", "read its credentials", "set the app's secrets",
				"run the release command", "start the app machines"}, 6*time.Second + 1000*time.Second + 3*10*time.Second + 100*time.Second},
		{"no release command, no checks", fly.Plan{Database: managed}, []string{"create the app",
			"create the Managed Postgres cluster", "read its credentials", "set the app's secrets", "start the app machines"},
			5*time.Second + 1000*time.Second + 10*time.Second},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := criticalPath(c.plan, opts)
			assert.Equal(t, c.chain, path.chain(), strings.Join(path.chain(), " → "))
			assert.Equal(t, c.took, path.done())
		})
	}
}
