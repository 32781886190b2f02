package datamove

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emothe/emothe/infra/postgres"
)

// composeDB is a Compose stack's database, reached with the docker CLI: the
// client tools run inside the db container (whose image matches the
// server's version) over its local socket, which the image trusts, so no
// password is handled at all. The containers are found by the labels the
// backend gives them (com.docker.compose.project and .service).
type composeDB struct {
	e  Endpoint
	db string // the db container's ID
}

func openCompose(ctx context.Context, e Endpoint) (*composeDB, error) {
	c := &composeDB{e: e}
	ids, err := c.containers(ctx, "db")
	if err != nil {
		return nil, fmt.Errorf("stack %s: find its database container on %s: %w; nothing was changed", e.Stack, e.Compose.DockerHost, err)
	}
	if len(ids) != 1 {
		return nil, fmt.Errorf("stack %s has no database yet: no running container of project %s, service db, on %s "+
			"(found %d); nothing was changed; fix: bring it up first with `make up STACK=%s`",
			e.Stack, e.App, e.Compose.DockerHost, len(ids), e.Stack)
	}
	c.db = ids[0]
	return c, nil
}

// owner are the client tools' connection flags: the stack's own Postgres,
// whose owner and database postgres.User and postgres.Database are.
var owner = []string{"--username=" + postgres.User, "--dbname=" + postgres.Database}

func (c *composeDB) tool(ctx context.Context, name string, args []string, stdin io.Reader, stdout io.Writer) error {
	argv := append([]string{"exec", "-i", c.db, name}, owner...)
	return c.docker(ctx, stdin, stdout, append(argv, args...)...)
}

// stopApp stops the running app containers, if any; the proxy stays up
// and answers 502 meanwhile. Docker's stop waits the container's own grace,
// so the app drains its requests.
func (c *composeDB) stopApp(ctx context.Context) (func(context.Context) error, error) {
	ids, err := c.containers(ctx, "app")
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	restart := func(ctx context.Context) error {
		if err := c.docker(ctx, nil, nil, append([]string{"start"}, ids...)...); err != nil {
			return err
		}
		return c.waitHealthy(ctx, ids)
	}
	if err := c.docker(ctx, nil, nil, append([]string{"stop"}, ids...)...); err != nil {
		// Some may have stopped: start them all again.
		return restart, err
	}
	return restart, nil
}

// waitHealthy waits until every container reports healthy (the app's
// image has a HEALTHCHECK), for at most two minutes.
func (c *composeDB) waitHealthy(ctx context.Context, ids []string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for {
		var out bytes.Buffer
		err := c.docker(ctx, nil, &out, append([]string{"inspect", "--format", "{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}"}, ids...)...)
		if err != nil {
			return err
		}
		states := strings.Fields(out.String())
		if !slices.ContainsFunc(states, func(s string) bool { return s != "healthy" && s != "running" }) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("containers %s are %s, not healthy, after two minutes", strings.Join(ids, " "), strings.Join(states, " "))
		case <-time.After(time.Second):
		}
	}
}

func (c *composeDB) close() {}

// containers lists the IDs of the project's running containers of service.
func (c *composeDB) containers(ctx context.Context, service string) ([]string, error) {
	args := []string{"ps", "--quiet", "--no-trunc",
		"--filter", "label=com.docker.compose.project=" + c.e.App,
		"--filter", "label=com.docker.compose.service=" + service}
	var out bytes.Buffer
	if err := c.docker(ctx, nil, &out, args...); err != nil {
		return nil, err
	}
	return strings.Fields(out.String()), nil
}

// docker runs the docker CLI against the stack's host. A failure carries
// the end of what it printed on stderr.
func (c *composeDB) docker(ctx context.Context, stdin io.Reader, stdout io.Writer, args ...string) error {
	cmd := exec.CommandContext(ctx, "docker", append([]string{"--host", c.e.Compose.DockerHost}, args...)...)
	cmd.Stdin, cmd.Stdout = stdin, stdout
	var stderr tail
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return fmt.Errorf("the docker CLI is not on PATH: install Docker's client (see README, prerequisites)")
		}
		return fmt.Errorf("docker %s: %w: %s", strings.Join(short(args), " "), err, stderr.String())
	}
	return nil
}

// short is a command line for a message: a long argument (the count
// query) is cut.
func short(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if len(a) > 60 {
			a = a[:57] + "..."
		}
		out[i] = a
	}
	return out
}

// tail keeps the last 4 KiB written to it: the end of a tool's stderr is
// where it says why it failed. It may be written from several goroutines.
type tail struct {
	mu sync.Mutex
	b  []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > 4096 {
		t.b = t.b[len(t.b)-4096:]
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.b))
}
