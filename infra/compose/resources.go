package compose

import (
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/pulumi/pulumi-docker/sdk/v4/go/docker"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// containerArgs is c as pulumi-docker's container inputs. Networks and
// volumes are referred to by the outputs of their resources, so a container
// depends on what it joins and mounts. A deployment waits for a Service to
// pass its healthcheck and for a Task to exit.
func containerArgs(c Container, image pulumi.StringInput, env pulumi.StringArrayInput,
	networks, volumes map[string]pulumi.StringOutput,
) *docker.ContainerArgs {
	a := &docker.ContainerArgs{
		Image:   image,
		Envs:    env,
		Restart: pulumi.String(c.Restart),
	}
	if c.Rollout == Recreate {
		a.Name = pulumi.String(c.Name)
	}
	if len(c.Command) > 0 {
		a.Command = pulumi.ToStringArray(c.Command)
	}
	labels := docker.ContainerLabelArray{}
	for _, k := range slices.Sorted(maps.Keys(c.Labels)) {
		labels = append(labels, docker.ContainerLabelArgs{Label: pulumi.String(k), Value: pulumi.String(c.Labels[k])})
	}
	a.Labels = labels
	nets := docker.ContainerNetworksAdvancedArray{}
	for _, n := range c.Networks {
		nets = append(nets, docker.ContainerNetworksAdvancedArgs{Name: networks[n.Network], Aliases: pulumi.ToStringArray(n.Aliases)})
	}
	a.NetworksAdvanced = nets
	vols := docker.ContainerVolumeArray{}
	for _, m := range c.Mounts {
		vols = append(vols, docker.ContainerVolumeArgs{VolumeName: volumes[m.Volume], ContainerPath: pulumi.String(m.Target)})
	}
	a.Volumes = vols
	ports := docker.ContainerPortArray{}
	for _, p := range c.Ports {
		port := docker.ContainerPortArgs{Internal: pulumi.Int(p.Container), External: pulumi.Int(p.Host), Protocol: pulumi.String("tcp")}
		if p.HostIP != "" {
			port.Ip = pulumi.String(p.HostIP)
		}
		ports = append(ports, port)
	}
	a.Ports = ports
	uploads := docker.ContainerUploadArray{}
	for _, f := range c.Files {
		uploads = append(uploads, docker.ContainerUploadArgs{File: pulumi.String(f.Path), Content: pulumi.String(f.Content)})
	}
	a.Uploads = uploads
	if h := c.Health; h != nil {
		if h.Disabled() {
			h = &disabledHealth
		}
		a.Healthcheck = &docker.ContainerHealthcheckArgs{
			Tests:       pulumi.ToStringArray(h.Test),
			Interval:    pulumi.String(h.Interval.String()),
			Timeout:     pulumi.String(h.Timeout.String()),
			StartPeriod: pulumi.String(h.StartPeriod.String()),
			Retries:     pulumi.Int(h.Retries),
		}
		if c.Run == Service {
			a.Wait = pulumi.Bool(true)
			a.WaitTimeout = pulumi.Int(int(waitTimeout(*h).Seconds()))
		}
	}
	if c.MemoryMB > 0 {
		a.Memory = pulumi.Int(c.MemoryMB)
		// No swap, as on a Fly machine of that size. Said explicitly, since
		// Docker's default (as much swap as memory) reads back as a change.
		a.MemorySwap = pulumi.Int(c.MemoryMB)
	}
	if c.CPUs > 0 {
		// The provider reads the CPU quota back with one decimal.
		a.Cpus = pulumi.String(strconv.FormatFloat(float64(c.CPUs), 'f', 1, 64))
	}
	if c.StopGrace > 0 {
		secs := int(c.StopGrace.Seconds())
		a.StopTimeout = pulumi.Int(secs)         // docker stop, by hand or on the host's shutdown
		a.DestroyGraceSeconds = pulumi.Int(secs) // the stop before Pulumi removes it
	}
	if c.Run == Task {
		// Wait for the exit and keep the container, so its exit code and
		// logs stay readable; a Task is not meant to keep running.
		a.Attach = pulumi.Bool(true)
		a.MustRun = pulumi.Bool(false)
	}
	return a
}

// disabledHealth turns an image's healthcheck off. Docker fills a check's
// zero durations and retries from the image's HEALTHCHECK, even for a
// disabled check, and the provider reads those back as a change on every
// preview: so a disabled check carries values of its own, never used.
var disabledHealth = Health{Test: []string{"NONE"}, Interval: time.Hour, Timeout: time.Second, StartPeriod: time.Second, Retries: 1}

// waitTimeout is the longest a healthy start can take under h: the start
// period, then every retry failing but the last, plus a margin for pulling
// and starting.
func waitTimeout(h Health) time.Duration {
	return h.StartPeriod + time.Duration(h.Retries+1)*(h.Interval+h.Timeout) + 30*time.Second
}
