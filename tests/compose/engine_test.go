package compose

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	deploy "github.com/emothe/emothe/infra/compose"
	"github.com/emothe/emothe/internal/dockertest"
)

// engine is the Docker Engine API on the local socket. Containers are
// created through it because the docker CLI cannot express an exec-form
// healthcheck (the app image has no shell); everything else goes through
// the CLI.
type engine struct{ http *http.Client }

func newEngine() engine {
	sock := "/var/run/docker.sock"
	if h := os.Getenv("DOCKER_HOST"); strings.HasPrefix(h, "unix://") {
		sock = strings.TrimPrefix(h, "unix://")
	}
	return engine{http: &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		},
	}}}
}

func (e engine) do(ctx context.Context, method, path, contentType string, body io.Reader, want int) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, "http://docker"+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := e.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode != want {
		return nil, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(out))
	}
	return out, nil
}

// deployment is a Spec running on the engine, as the backend would run it.
type deployment struct {
	spec    deploy.Spec
	secrets map[string]string
	// ids are the running containers' IDs by their Spec name.
	ids map[string]string
	eng engine
}

// up creates the Spec's networks and volumes, then starts its containers in
// order, each once what it comes After is ready, as the Pulumi graph orders
// them. Everything is removed when the test ends.
func up(tb testing.TB, spec deploy.Spec, secrets map[string]string) *deployment {
	tb.Helper()
	d := &deployment{spec: spec, secrets: secrets, ids: map[string]string{}, eng: newEngine()}
	tb.Cleanup(func() { d.remove(tb) })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for _, n := range spec.Networks {
		args := []string{"network", "create"}
		if n.Internal {
			args = append(args, "--internal")
		}
		if _, err := dockertest.Docker(ctx, append(append(args, labelFlags(n.Labels)...), n.Name)...); err != nil {
			tb.Fatal(err)
		}
	}
	for _, v := range spec.Volumes {
		if _, err := dockertest.Docker(ctx, append(append([]string{"volume", "create"}, labelFlags(v.Labels)...), v.Name)...); err != nil {
			tb.Fatal(err)
		}
	}
	for _, c := range spec.Containers {
		for _, dep := range c.After {
			if len(spec.Service(dep)) == 0 {
				continue
			}
			if !d.ready(ctx, dep) {
				tb.Fatalf("%s comes after %s, which is not ready", c.Name, dep)
			}
		}
		id, err := d.start(ctx, c)
		if err != nil {
			tb.Fatal(err)
		}
		d.ids[c.Name] = id
		if err := d.await(ctx, c, id); err != nil {
			tb.Fatal(err)
		}
	}
	return d
}

// start creates c the way pulumi-docker does: created on its first network,
// joined to the others, its files written in, then started.
func (d *deployment) start(ctx context.Context, c deploy.Container) (string, error) {
	name := c.Name
	if c.Rollout == deploy.StartFirst {
		name += "-" + randomHex(4)[:7] // as Pulumi's autonaming does
	}
	body, err := json.Marshal(d.createBody(c))
	if err != nil {
		return "", err
	}
	out, err := d.eng.do(ctx, http.MethodPost, "/containers/create?name="+url.QueryEscape(name), "application/json", bytes.NewReader(body), http.StatusCreated)
	if err != nil {
		return "", fmt.Errorf("create %s: %w", name, err)
	}
	var created struct{ ID string }
	if err := json.Unmarshal(out, &created); err != nil {
		return "", fmt.Errorf("create %s: %w", name, err)
	}
	for _, n := range c.Networks[1:] {
		args := []string{"network", "connect"}
		for _, a := range n.Aliases {
			args = append(args, "--alias", a)
		}
		if _, err := dockertest.Docker(ctx, append(args, n.Network, created.ID)...); err != nil {
			return "", err
		}
	}
	for _, f := range c.Files {
		if _, err := d.eng.do(ctx, http.MethodPut, "/containers/"+created.ID+"/archive?path=/", "application/x-tar", tarOf(f), http.StatusOK); err != nil {
			return "", fmt.Errorf("write %s into %s: %w", f.Path, name, err)
		}
	}
	if _, err := dockertest.Docker(ctx, "start", created.ID); err != nil {
		return "", err
	}
	return created.ID, nil
}

// await waits until c is ready: a Task exited 0, a Service healthy.
func (d *deployment) await(ctx context.Context, c deploy.Container, id string) error {
	if c.Run == deploy.Task {
		code, err := dockertest.Docker(ctx, "wait", id)
		if err != nil {
			return err
		}
		if code != "0" {
			return fmt.Errorf("%s exited with code %s:\n%s", c.Name, code, (&dockertest.Container{ID: id}).Logs())
		}
		return nil
	}
	if c.Health == nil || c.Health.Disabled() {
		return nil
	}
	if err := (&dockertest.Container{ID: id}).WaitHealthy(ctx); err != nil {
		return fmt.Errorf("%s: %w\n%s", c.Name, err, (&dockertest.Container{ID: id}).Logs())
	}
	return nil
}

// ready reports whether every container of service is ready now.
func (d *deployment) ready(ctx context.Context, service string) bool {
	for _, c := range d.spec.Service(service) {
		format, want := "{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}", "running healthy"
		if c.Run == deploy.Task {
			format, want = "{{.State.Status}} {{.State.ExitCode}}", "exited 0"
		}
		state, err := dockertest.Docker(ctx, "inspect", "--format", format, d.ids[c.Name])
		if err != nil || state != want {
			return false
		}
	}
	return true
}

// rollout moves d onto next as `pulumi up` would: a changed StartFirst
// container is created, and is ready, before the one it replaces stops (all
// replicas at once, as the engine runs them in parallel); a changed
// Recreate container is stopped first; containers next no longer has go
// last. It returns the names that changed.
func (d *deployment) rollout(tb testing.TB, next deploy.Spec) []string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	old := map[string]deploy.Container{}
	for _, c := range d.spec.Containers {
		old[c.Name] = c
	}
	var changed []string
	var retired []deploy.Container
	fresh := map[string]string{}
	// Containers of one service start together; the next service waits.
	for _, group := range byService(next.Containers) {
		var todo []deploy.Container
		for _, c := range group {
			prev, existed := old[c.Name]
			delete(old, c.Name)
			if existed && reflect.DeepEqual(prev, c) {
				continue
			}
			changed = append(changed, c.Name)
			switch {
			case existed && c.Rollout == deploy.Recreate:
				if err := d.stop(ctx, prev); err != nil {
					tb.Fatal(err)
				}
			case existed:
				retired = append(retired, prev)
			}
			todo = append(todo, c)
		}
		ids := make([]string, len(todo))
		errs := make([]error, len(todo))
		var wg sync.WaitGroup
		for i, c := range todo {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if ids[i], errs[i] = d.start(ctx, c); errs[i] == nil {
					errs[i] = d.await(ctx, c, ids[i])
				}
			}()
		}
		wg.Wait()
		for i, c := range todo {
			if errs[i] != nil {
				tb.Fatal(errs[i])
			}
			fresh[c.Name] = ids[i]
		}
	}
	for _, c := range old {
		retired = append(retired, c)
	}
	// Only now, with every replacement ready, do the old ones go.
	var wg sync.WaitGroup
	for _, c := range retired {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := d.stop(ctx, c); err != nil {
				tb.Error(err)
			}
		}()
	}
	wg.Wait()
	for name, id := range fresh {
		d.ids[name] = id
	}
	d.spec = next
	return changed
}

// byService groups containers by service, in the Spec's order.
func byService(cs []deploy.Container) [][]deploy.Container {
	var groups [][]deploy.Container
	for i, c := range cs {
		if i == 0 || cs[i-1].Service != c.Service {
			groups = append(groups, nil)
		}
		groups[len(groups)-1] = append(groups[len(groups)-1], c)
	}
	return groups
}

// stop stops c within its grace period, as pulumi-docker's destroy does,
// then removes it.
func (d *deployment) stop(ctx context.Context, c deploy.Container) error {
	id := d.ids[c.Name]
	if c.StopGrace > 0 {
		if _, err := dockertest.Docker(ctx, "stop", "--time", strconv.Itoa(int(c.StopGrace.Seconds())), id); err != nil {
			return err
		}
	}
	_, err := dockertest.Docker(ctx, "rm", "--force", id)
	return err
}

// remove deletes everything of the project, logging the containers' output
// first if the test failed.
func (d *deployment) remove(tb testing.TB) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := dockertest.Docker(ctx, "ps", "--all", "--quiet", "--filter", "label=com.docker.compose.project="+d.spec.Project)
	if err != nil {
		tb.Error(err)
	}
	ids := strings.Fields(out)
	if tb.Failed() {
		for _, id := range ids {
			tb.Logf("logs of %.12s:\n%s", id, (&dockertest.Container{ID: id}).Logs())
		}
	}
	if len(ids) > 0 {
		if _, err := dockertest.Docker(ctx, append([]string{"rm", "--force", "--volumes"}, ids...)...); err != nil {
			tb.Error(err)
		}
	}
	for _, n := range d.spec.Networks {
		_, _ = dockertest.Docker(ctx, "network", "rm", n.Name) // absent when up failed early
	}
	for _, v := range d.spec.Volumes {
		_, _ = dockertest.Docker(ctx, "volume", "rm", v.Name)
	}
}

// createBody is c as the Engine API's container create request.
func (d *deployment) createBody(c deploy.Container) map[string]any {
	env := make([]string, 0, len(c.Env)+len(c.Secrets))
	for k, v := range c.Env {
		env = append(env, k+"="+v)
	}
	for _, k := range c.Secrets {
		env = append(env, k+"="+d.secrets[k])
	}
	sort.Strings(env)
	host := map[string]any{
		"NetworkMode":   c.Networks[0].Network,
		"RestartPolicy": map[string]string{"Name": c.Restart},
	}
	if c.MemoryMB > 0 {
		host["Memory"] = int64(c.MemoryMB) << 20
	}
	if c.CPUs > 0 {
		host["NanoCpus"] = int64(c.CPUs) * 1e9
	}
	var mounts []map[string]string
	for _, m := range c.Mounts {
		mounts = append(mounts, map[string]string{"Type": "volume", "Source": m.Volume, "Target": m.Target})
	}
	host["Mounts"] = mounts
	exposed := map[string]struct{}{}
	bindings := map[string][]map[string]string{}
	for _, p := range c.Ports {
		key := strconv.Itoa(p.Container) + "/tcp"
		exposed[key] = struct{}{}
		bindings[key] = append(bindings[key], map[string]string{"HostIp": p.HostIP, "HostPort": strconv.Itoa(p.Host)})
	}
	host["PortBindings"] = bindings
	body := map[string]any{
		"Image":        c.Image,
		"Env":          env,
		"Labels":       c.Labels,
		"ExposedPorts": exposed,
		"HostConfig":   host,
		"NetworkingConfig": map[string]any{"EndpointsConfig": map[string]any{
			c.Networks[0].Network: map[string]any{"Aliases": c.Networks[0].Aliases},
		}},
	}
	if len(c.Command) > 0 {
		body["Cmd"] = c.Command
	}
	if h := c.Health; h != nil {
		body["Healthcheck"] = map[string]any{
			"Test": h.Test, "Interval": h.Interval, "Timeout": h.Timeout, "StartPeriod": h.StartPeriod, "Retries": h.Retries,
		}
	}
	if c.StopGrace > 0 {
		body["StopTimeout"] = int(c.StopGrace.Seconds())
	}
	return body
}

// tarOf is f as the one-file archive the Engine API unpacks at /.
func tarOf(f deploy.File) io.Reader {
	var b bytes.Buffer
	w := tar.NewWriter(&b)
	_ = w.WriteHeader(&tar.Header{Name: strings.TrimPrefix(f.Path, "/"), Mode: 0o644, Size: int64(len(f.Content))})
	_, _ = w.Write([]byte(f.Content))
	_ = w.Close() // writes to memory cannot fail
	return &b
}

func labelFlags(labels map[string]string) []string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var out []string
	for _, k := range keys {
		out = append(out, "--label", k+"="+labels[k])
	}
	return out
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails
	return hex.EncodeToString(b)
}
