package stackctl

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
)

// projectLabel is the label every container, network and volume of a
// Compose stack carries (infra/compose), with the project (emothe:appName).
const projectLabel = "com.docker.compose.project"

// The pulumi-docker types of the objects a Compose stack owns on its host.
const (
	containerType = "docker:index/container:Container"
	networkType   = "docker:index/network:Network"
	volumeType    = "docker:index/volume:Volume"
)

// hostObject is a container, network or volume on a Docker host.
type hostObject struct {
	Kind    string // container, network or volume
	ID      string // the provider's ID: a container's or network's ID, a volume's name
	Name    string
	Project string // its projectLabel; "" when it has none
}

// typeOf is the pulumi-docker type of a kind of object.
var typeOf = map[string]string{"container": containerType, "network": networkType, "volume": volumeType}

// verdict is what recovery does with one object of the host.
type verdict struct {
	Object hostObject
	Remove bool
	Why    string
}

// judge decides, for the objects found on the host, which the recovery
// removes: those of project that the state does not hold. Containers and
// networks hold nothing that a new `up` does not recreate, so a leftover is
// removed (a container after a graceful stop, so its in-flight requests
// finish). A volume may hold data and is never removed: the next `up`
// adopts it by its fixed name (a Docker volume create returns the existing
// volume), data included. An object without the project's label, or with
// another project's, is never touched, whatever its name.
//
// creates are the interrupted creates, by name (state.pendingCreates), which
// the report ties objects to.
func judge(project string, objects []hostObject, s state, creates map[string]apitype.OperationV2) []verdict {
	held := map[string]map[string]bool{}
	for kind, typ := range typeOf {
		held[kind] = s.ids(typ)
	}
	var out []verdict
	for _, o := range objects {
		if project == "" || o.Project != project || held[o.Kind][o.ID] {
			continue
		}
		why := "not in the state: an earlier interrupted run left it"
		if op, ok := creates[o.Name]; ok {
			why = "left by the interrupted create of " + urnName(string(op.Resource.URN))
		}
		v := verdict{Object: o, Remove: o.Kind != "volume", Why: why}
		if !v.Remove {
			v.Why += "; volumes may hold data and are never removed: the next up adopts it by its name " +
				"(remove it by hand with `docker volume rm " + o.Name + "` if it is not wanted)"
		}
		out = append(out, v)
	}
	return out
}

// dockerHost runs the docker CLI against one Docker host, as the stack's
// pulumi-docker provider does (emothe:dockerHost: the local socket, or
// ssh://user@host).
type dockerHost string

func (h dockerHost) run(ctx context.Context, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	//nolint:gosec // the docker CLI, no shell: the stack's own host, and arguments this file builds
	cmd := exec.CommandContext(ctx, "docker", append([]string{"--host", string(h)}, args...)...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

// objects lists the host's containers, networks and volumes that carry
// project's label, containers first: the order they are removed in.
func (h dockerHost) objects(ctx context.Context, project string) ([]hostObject, error) {
	filter := "label=" + projectLabel + "=" + project
	label := `{{.Label "` + projectLabel + `"}}`
	lists := []struct {
		kind string
		args []string
	}{
		{"container", []string{"ps", "--all", "--no-trunc", "--filter", filter, "--format", "{{.ID}}\t{{.Names}}\t" + label}},
		{"network", []string{"network", "ls", "--no-trunc", "--filter", filter, "--format", "{{.ID}}\t{{.Name}}\t" + label}},
		{"volume", []string{"volume", "ls", "--filter", filter, "--format", "{{.Name}}\t{{.Name}}\t" + label}},
	}
	var out []hostObject
	for _, l := range lists {
		text, err := h.run(ctx, l.args...)
		if err != nil {
			return nil, err
		}
		for _, line := range strings.Split(text, "\n") {
			if f := strings.SplitN(line, "\t", 3); len(f) == 3 {
				out = append(out, hostObject{Kind: l.kind, ID: f[0], Name: f[1], Project: f[2]})
			}
		}
	}
	return out, nil
}

// remove removes o: a container after `docker stop`, which waits for the
// container's own stop timeout (the app's drain) before it kills.
func (h dockerHost) remove(ctx context.Context, o hostObject) error {
	if o.Kind == "container" {
		if _, err := h.run(ctx, "stop", o.ID); err != nil {
			return err
		}
		_, err := h.run(ctx, "rm", o.ID)
		return err
	}
	_, err := h.run(ctx, o.Kind, "rm", o.ID)
	return err
}

// sweep removes the host's objects of project that s does not hold, one
// line each on out (see judge).
func (h dockerHost) sweep(ctx context.Context, stack, project string, s state,
	creates map[string]apitype.OperationV2, out io.Writer,
) error {
	objects, err := h.objects(ctx, project)
	if err != nil {
		return fmt.Errorf("list the objects of project %s: %w", project, err)
	}
	for _, v := range judge(project, objects, s, creates) {
		o := v.Object
		if !v.Remove {
			fmt.Fprintf(out, "recover: stack %s: kept %s %s: %s\n", stack, o.Kind, o.Name, v.Why)
			continue
		}
		if err := h.remove(ctx, o); err != nil {
			return fmt.Errorf("remove %s %s of project %s (%s): %w", o.Kind, o.Name, project, v.Why, err)
		}
		fmt.Fprintf(out, "recover: stack %s: removed %s %s: %s\n", stack, o.Kind, o.Name, v.Why)
	}
	return nil
}
