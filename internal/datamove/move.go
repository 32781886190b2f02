package datamove

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
)

// database is one side of a move: it runs the Postgres client tools
// connected to the database, and stops and starts the app that writes to
// it.
type database interface {
	// tool runs pg_dump, pg_restore or psql with args, connected to the
	// database as its owner.
	tool(ctx context.Context, name string, args []string, stdin io.Reader, stdout io.Writer) error
	// stopApp stops the app's running instances; restart starts those
	// again and waits until they serve.
	stopApp(ctx context.Context) (restart func(context.Context) error, err error)
	close()
}

// open reaches e's database, or says why it cannot, before anything is
// stopped.
func open(ctx context.Context, e Endpoint, o Options) (database, error) {
	if e.Compose != nil {
		return openCompose(ctx, e)
	}
	return openFly(ctx, e, o)
}

// restoreArgs replace the target's objects by the dump's in one
// transaction, so a failed restore leaves the target as it was. Owners and
// grants are left out: the roles differ between backends (Fly Managed
// Postgres's user is not emothe), and the restoring user owns everything.
var restoreArgs = []string{"--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error"}

type move struct {
	from, to Endpoint
	src, dst database
	out      io.Writer
	o        Options
}

func (m *move) run(ctx context.Context) (rep Report, err error) {
	target, err := countRows(ctx, m.dst)
	if err != nil {
		return rep, fmt.Errorf("count the rows of stack %s's database: %w; nothing was changed", m.to.Stack, err)
	}
	if err := refuseNonEmpty(m.to.Stack, target, m.o.Force); err != nil {
		return rep, err
	}
	source, err := countRows(ctx, m.src)
	if err != nil {
		return rep, fmt.Errorf("count the rows of stack %s's database: %w; nothing was changed", m.from.Stack, err)
	}
	if len(source) == 0 {
		return rep, fmt.Errorf("stack %s's database has no tables: nothing to move (has `make up STACK=%s` run?); nothing was changed", m.from.Stack, m.from.Stack)
	}
	var restarts []func() error
	defer func() {
		// Whatever happened, what was stopped runs again.
		for _, restart := range restarts {
			err = errors.Join(err, restart())
		}
	}()
	stop := func(e Endpoint, db database) error {
		fmt.Fprintf(m.out, "move-data: stopping the app of stack %s (%s %s)\n", e.Stack, e.Backend, e.App)
		restart, err := db.stopApp(ctx)
		if restart != nil {
			restarts = append(restarts, func() error {
				fmt.Fprintf(m.out, "move-data: starting the app of stack %s again\n", e.Stack)
				if err := restart(context.WithoutCancel(ctx)); err != nil {
					return fmt.Errorf("the app of stack %s could not be started again: %w; start it by hand (see docs/backups.md#moving-data-between-stacks)", e.Stack, err)
				}
				return nil
			})
		}
		return err
	}
	if m.o.StopSource {
		if err := stop(m.from, m.src); err != nil {
			return rep, fmt.Errorf("stop the app of stack %s: %w; its database was not touched", m.from.Stack, err)
		}
	}
	if err := stop(m.to, m.dst); err != nil {
		return rep, fmt.Errorf("stop the app of stack %s: %w; its database was not touched", m.to.Stack, err)
	}
	fmt.Fprintf(m.out, "move-data: copying stack %s's database over stack %s's (pg_dump | pg_restore, one transaction)\n", m.from.Stack, m.to.Stack)
	rep.Bytes, err = m.copy(ctx)
	if err != nil {
		return rep, fmt.Errorf("copy stack %s's database to stack %s: %w; the restore is one transaction, so stack %s's database is as it was",
			m.from.Stack, m.to.Stack, err, m.to.Stack)
	}
	if source, err = countRows(ctx, m.src); err != nil {
		return rep, fmt.Errorf("count the rows of stack %s's database after the copy: %w; stack %s holds the copy, unverified", m.from.Stack, err, m.to.Stack)
	}
	if target, err = countRows(ctx, m.dst); err != nil {
		return rep, fmt.Errorf("count the rows of stack %s's database after the copy: %w; it holds the copy, unverified", m.to.Stack, err)
	}
	rep.Tables, rep.Rows = compare(source, target)
	printCounts(m.out, m.from.Stack, m.to.Stack, rep)
	if bad := mismatches(rep.Tables); len(bad) > 0 {
		hint := ""
		if !m.o.StopSource {
			hint = fmt.Sprintf(" (stack %s's app kept running during the move: rows written after the dump are not in the copy)", m.from.Stack)
		}
		return rep, fmt.Errorf("row counts differ after the copy in %s%s; stack %s holds the copy as restored: run move-data again (FORCE=1) once the source is quiet",
			strings.Join(bad, ", "), hint, m.to.Stack)
	}
	return rep, nil
}

// copy streams pg_dump's custom format from the source into pg_restore on
// the target and returns the bytes that went through.
func (m *move) copy(ctx context.Context) (int64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r, w := io.Pipe()
	n := &counter{w: w}
	dumped := make(chan error, 1)
	go func() {
		err := m.src.tool(ctx, "pg_dump", []string{"--format=custom"}, nil, n)
		if err != nil {
			err = fmt.Errorf("pg_dump of stack %s: %w", m.from.Stack, err)
		}
		w.CloseWithError(err)
		dumped <- err
	}()
	err := m.dst.tool(ctx, "pg_restore", restoreArgs, r, nil)
	if err != nil {
		err = fmt.Errorf("pg_restore into stack %s: %w", m.to.Stack, err)
		cancel() // a dump no one reads any more
	}
	r.Close()
	if derr := <-dumped; derr != nil && !errors.Is(derr, io.ErrClosedPipe) && ctx.Err() == nil {
		// The dump's own failure explains the restore's.
		return n.n.Load(), derr
	}
	return n.n.Load(), err
}

// counter counts what passes through to w.
type counter struct {
	w io.Writer
	n atomic.Int64
}

func (c *counter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}
