// Package datamove copies one stack's Postgres database over another's with
// pg_dump and pg_restore (`make move-data`), whatever backend each runs on:
// a Compose stack's database is reached inside its own db container on the
// stack's Docker host, a Fly stack's through flyctl's proxy with the local
// client tools. The target's app is stopped during the restore, a target
// that holds data is refused unless forced, and the row counts of every
// table are compared afterwards.
//
// How to reach each database (an Endpoint) is decided in plain Go from the
// stack's configuration and state (Resolve); Move does the copy.
package datamove

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/emothe/emothe/infra/stack"
)

// Endpoint is how to reach one stack's database, and its app to stop. Its
// secrets never leave the process except as a client tool's PGPASSWORD.
type Endpoint struct {
	// Stack names the stack, for messages.
	Stack string
	// Backend is the stack's emothe:backend: "compose" or "fly".
	Backend string
	// App is the app whose writes stop during a restore: the Compose
	// project, or the Fly app.
	App     string
	Compose *ComposeDatabase
	Fly     *FlyDatabase
}

// ComposeDatabase is a Compose stack's own Postgres container, on the
// stack's Docker host. The client tools run inside it, over its local
// socket, as the database's owner: no password is needed.
type ComposeDatabase struct {
	// DockerHost is emothe:dockerHost, as the docker CLI's --host takes it.
	DockerHost string
}

// FlyDatabase is a Fly stack's database, reached through `fly proxy` (a
// Postgres machine, Machine set) or `fly mpg proxy` (Managed Postgres,
// Cluster set).
type FlyDatabase struct {
	// Machine is the Postgres machine's app (<app>-db); Host its private
	// name (<app>-db.internal).
	Machine, Host string
	// Cluster is the Managed Postgres cluster's ID.
	Cluster string
	// User, Password, Name and SSLMode are how to log in once connected;
	// the host and port are the proxy's.
	User     string
	Password stack.Secret
	Name     string
	SSLMode  string
	// API reaches the Machines API, to stop and start the app's machines.
	API FlyAPI
}

// FlyAPI is how to reach the Fly Machines API.
type FlyAPI struct {
	// BaseURL is the API's origin; empty means Fly's own.
	BaseURL string
	Token   stack.Secret
}

// Options tune Move.
type Options struct {
	// Force lets Move overwrite a target whose tables hold rows.
	Force bool
	// StopSource stops the source's app too, from before the dump until
	// the end, so that no write made after the dump is lost (a switch).
	StopSource bool
	// Out receives what Move does, one line at a time, and the counts.
	Out io.Writer
	// Fly is the flyctl binary; empty means `fly` on PATH.
	Fly string
}

// Report is what a move copied.
type Report struct {
	// Tables are the row counts of every table, in both databases, by
	// schema-qualified name.
	Tables []Table
	// Rows is the total of the target's counts.
	Rows int64
	// Bytes is the size of the dump as it streamed from source to target.
	Bytes int64
	// Duration is the wall time of the move, stops and starts included.
	Duration time.Duration
}

// Table is one table's row count in the source and the target; -1 where
// the table is missing.
type Table struct {
	Name           string
	Source, Target int64
}

// ErrNotEmpty marks a move refused because the target holds rows and
// Options.Force is not set.
var ErrNotEmpty = errors.New("the target database is not empty")

// Move copies from's database over to's: it checks both, refuses a target
// that holds rows unless o.Force, stops to's app (and from's, with
// o.StopSource), streams pg_dump's custom format into `pg_restore --clean
// --if-exists --no-owner --single-transaction`, compares the row counts of
// every table, and starts the apps again, whatever happened. An error says
// what state the target is in.
func Move(ctx context.Context, from, to Endpoint, o Options) (Report, error) {
	start := time.Now()
	if err := checkPair(from, to); err != nil {
		return Report{}, err
	}
	out := o.Out
	if out == nil {
		out = io.Discard
	}
	src, err := open(ctx, from, o)
	if err != nil {
		return Report{}, err
	}
	defer src.close()
	dst, err := open(ctx, to, o)
	if err != nil {
		return Report{}, err
	}
	defer dst.close()
	m := &move{from: from, to: to, src: src, dst: dst, out: out, o: o}
	rep, err := m.run(ctx)
	rep.Duration = time.Since(start)
	return rep, err
}

// checkPair refuses a move onto its own source.
func checkPair(from, to Endpoint) error {
	if from.Stack == to.Stack && from.Backend == to.Backend {
		return fmt.Errorf("move-data: FROM and TO are the same stack %q (%s); nothing was changed; fix: name two different stacks", from.Stack, from.Backend)
	}
	for _, e := range []Endpoint{from, to} {
		if (e.Compose == nil) == (e.Fly == nil) {
			return fmt.Errorf("move-data: stack %q: the endpoint names no database (or two); nothing was changed", e.Stack)
		}
	}
	if from.Fly != nil && to.Fly != nil && from.Fly.Cluster != "" && to.Fly.Cluster != "" {
		// flyctl's `fly mpg proxy` takes no port: both would bind 16380.
		return fmt.Errorf("move-data: stacks %s and %s are both on Fly Managed Postgres, whose `fly mpg proxy` always listens on port 16380, so the two cannot be open at once; "+
			"nothing was changed; fix: pg_dump to a file and pg_restore it, one `fly mpg proxy` at a time (docs/backups.md, Fly Managed Postgres), or move through a Compose stack", from.Stack, to.Stack)
	}
	return nil
}
