package datamove

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"

	flyinfra "github.com/emothe/emothe/infra/fly"
	"github.com/emothe/emothe/provider/fly"
	"github.com/emothe/emothe/provider/flyapi"
)

// flyDB is a Fly stack's database, reached through flyctl's proxy (Fly's
// private network over WireGuard) on a local port, with the local client
// tools. The password goes to them as PGPASSWORD, never on a command line.
type flyDB struct {
	e     Endpoint
	port  int
	proxy *exec.Cmd
	done  chan struct{} // closed when the proxy has exited
	log   *tail         // what the proxy printed
}

// proxyWait bounds how long flyctl may take to open its tunnel.
const proxyWait = time.Minute

// proxyReady is the line flyctl prints once it listens:
// "Proxying local port 15432 to remote [host]:5432".
var proxyReady = regexp.MustCompile(`Proxying local port (\d+)`)

func openFly(ctx context.Context, e Endpoint, o Options) (*flyDB, error) {
	bin, err := exec.LookPath(cmp.Or(o.Fly, "fly"))
	if err != nil {
		return nil, fmt.Errorf("stack %s runs on Fly, whose database move-data reaches through `fly proxy`, but flyctl is not on PATH (%v); "+
			"nothing was changed; fix: install flyctl (https://fly.io/docs/flyctl/install/) so that `fly` is on PATH", e.Stack, err)
	}
	for _, t := range []string{"pg_dump", "pg_restore", "psql"} {
		if _, err := exec.LookPath(t); err != nil {
			return nil, fmt.Errorf("stack %s runs on Fly, whose database move-data reaches with the local PostgreSQL client tools, but %s is not on PATH; "+
				"nothing was changed; fix: install the PostgreSQL client (e.g. apt-get install postgresql-client), at least as new as emothe:postgresVersion", e.Stack, t)
		}
	}
	f := e.Fly
	// Either way flyctl picks the port (given 0, `fly proxy` binds a free
	// one) and says which.
	args := []string{"proxy", "0:5432", f.Host, "--app", f.Machine}
	if f.Cluster != "" {
		args = []string{"mpg", "proxy", f.Cluster}
	}
	d := &flyDB{e: e, done: make(chan struct{}), log: &tail{}}
	d.proxy = exec.Command(bin, args...)
	d.proxy.Env = os.Environ()
	if f.API.Token.Set() {
		d.proxy.Env = append(d.proxy.Env, flyinfra.EnvToken+"="+f.API.Token.Value())
	}
	if f.API.BaseURL != "" {
		d.proxy.Env = append(d.proxy.Env, fly.EnvBaseURL+"="+f.API.BaseURL)
	}
	stdout, err := d.proxy.StdoutPipe()
	if err != nil {
		return nil, err
	}
	d.proxy.Stderr = d.log
	if err := d.proxy.Start(); err != nil {
		return nil, fmt.Errorf("stack %s: start `fly %s`: %w; nothing was changed", e.Stack, strings.Join(args, " "), err)
	}
	ready := make(chan int, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			fmt.Fprintln(d.log, sc.Text())
			if m := proxyReady.FindStringSubmatch(sc.Text()); m != nil {
				port, _ := strconv.Atoi(m[1])
				select {
				case ready <- port:
				default:
				}
			}
		}
		_ = d.proxy.Wait()
		close(d.done)
	}()
	select {
	case d.port = <-ready:
		return d, nil
	case <-d.done:
		return nil, fmt.Errorf("stack %s: `fly %s` exited before it listened: %s; nothing was changed", e.Stack, strings.Join(args, " "), d.log)
	case <-time.After(proxyWait):
		err = fmt.Errorf("stack %s: `fly %s` did not listen within %s: %s; nothing was changed", e.Stack, strings.Join(args, " "), proxyWait, d.log)
	case <-ctx.Done():
		err = ctx.Err()
	}
	d.close()
	return nil, err
}

func (d *flyDB) tool(ctx context.Context, name string, args []string, stdin io.Reader, stdout io.Writer) error {
	f := d.e.Fly
	// pg_restore restores into a database only when told its name.
	cmd := exec.CommandContext(ctx, name, append([]string{"--dbname=" + f.Name}, args...)...)
	cmd.Env = append(os.Environ(),
		"PGHOST=127.0.0.1", "PGPORT="+strconv.Itoa(d.port),
		"PGUSER="+f.User, "PGPASSWORD="+f.Password.Value(),
		"PGSSLMODE="+cmp.Or(f.SSLMode, "prefer"), "PGCONNECT_TIMEOUT=30")
	cmd.Stdin, cmd.Stdout = stdin, stdout
	var stderr tail
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w: %s", name, err, stderr.String())
	}
	return nil
}

// stopApp cordons and stops the app's started machines: cordoned, Fly's
// proxy neither routes to them nor starts them on a request.
func (d *flyDB) stopApp(ctx context.Context) (func(context.Context) error, error) {
	api := d.e.Fly.API
	client, err := fly.New(fly.Config{Token: api.Token.Value(), BaseURL: api.BaseURL, UserAgent: "emothe-move-data"})
	if err != nil {
		return nil, err
	}
	machines, err := client.ListMachines(ctx, d.e.App)
	if errors.Is(err, fly.ErrNotFound) {
		return nil, nil // no app (a switch has released it): nothing writes
	}
	if err != nil {
		return nil, fmt.Errorf("list the machines of Fly app %s: %w", d.e.App, err)
	}
	var stopped []string
	restart := func(ctx context.Context) error {
		var errs []error
		for _, id := range stopped {
			if err := client.StartMachine(ctx, d.e.App, id, ""); err != nil {
				errs = append(errs, fmt.Errorf("start machine %s: %w", id, err))
				continue
			}
			if err := client.Uncordon(ctx, d.e.App, id, ""); err != nil {
				errs = append(errs, fmt.Errorf("uncordon machine %s: %w", id, err))
			}
		}
		return errors.Join(errs...)
	}
	for _, m := range machines {
		if m.Id == nil || m.State == nil || *m.State != "started" {
			continue
		}
		id := *m.Id
		stopped = append(stopped, id)
		if err := client.Cordon(ctx, d.e.App, id, ""); err != nil {
			return restart, fmt.Errorf("cordon machine %s of Fly app %s: %w", id, d.e.App, err)
		}
		if err := client.StopMachine(ctx, d.e.App, id, "", flyapi.StopRequest{}); err != nil {
			return restart, fmt.Errorf("stop machine %s of Fly app %s: %w", id, d.e.App, err)
		}
	}
	return restart, nil
}

// close ends the proxy.
func (d *flyDB) close() {
	if d.proxy.Process == nil {
		return
	}
	_ = d.proxy.Process.Signal(os.Interrupt)
	select {
	case <-d.done:
	case <-time.After(5 * time.Second):
		_ = d.proxy.Process.Kill()
		<-d.done
	}
}
