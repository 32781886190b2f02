package machines

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"time"

	"github.com/emothe/emothe/provider/fly"
	"github.com/emothe/emothe/provider/flyapi"
	"github.com/emothe/emothe/provider/internal/opt"
)

// ReleaseCommandError is a release command that did not succeed. The rollout
// stops before any machine of the group changes.
type ReleaseCommandError struct {
	Command   []string
	MachineID string
	App       string
	// ExitCode is the command's exit code, -1 when Fly recorded none.
	ExitCode  int
	OOMKilled bool
}

func (e *ReleaseCommandError) Error() string {
	how := fmt.Sprintf("exited with code %d", e.ExitCode)
	if e.ExitCode < 0 {
		how = "exited without an exit code"
	}
	if e.OOMKilled {
		how += ", killed for running out of memory"
	}
	return fmt.Sprintf("release command %q %s in machine %s, so the rollout was aborted and no machine changed; "+
		"the Machines API has no logs endpoint, read its output with `fly logs -a %s -i %s`",
		e.Command, how, e.MachineID, e.App, e.MachineID)
}

// releaseCommand runs the release command the way flyctl does: in a
// throwaway machine of the new image and env in the primary region, which
// nothing restarts and which destroys itself once the command exits. The
// machine is launched by its create, as flyctl did before it streamed the
// command's logs (it now creates it stopped and starts it): with no logs to
// follow, a separate start is one more call on every rollout's critical path.
func (r *rollout) releaseCommand(ctx context.Context) error {
	timeout, err := time.ParseDuration(r.in.ReleaseCommandTimeout)
	if err != nil {
		return fmt.Errorf("releaseCommandTimeout %q: %w", r.in.ReleaseCommandTimeout, err)
	}
	if err := r.settleReleaseLeftovers(ctx, timeout); err != nil {
		return err
	}
	cfg := r.releaseConfig()
	m, err := r.client.CreateMachine(ctx, r.in.App, flyapi.CreateMachineRequest{
		Config:            &cfg,
		Region:            &r.in.PrimaryRegion,
		MinSecretsVersion: opt.NonZero(r.in.MinSecretsVersion),
	}, rand.Text())
	if err != nil {
		return fmt.Errorf("creating the release command's machine in %s: %w", r.in.PrimaryRegion, err)
	}
	id := opt.Val(m.Id)
	r.say("release command %q: running in machine %s (%s)", r.in.ReleaseCommand, id, r.in.PrimaryRegion)
	if err := r.client.WaitState(ctx, r.in.App, id, opt.Val(m.InstanceId), timeout, "destroyed"); err != nil {
		r.discard(ctx, m, nil)
		return fmt.Errorf("release command %q did not finish within releaseCommandTimeout %s, so it was stopped and the "+
			"rollout aborted; read its output with `fly logs -a %s -i %s`: %w", r.in.ReleaseCommand, timeout, r.in.App, id, err)
	}
	// WaitHealthy answers at once for a machine that no longer runs, with a
	// *fly.MachineExitedError carrying the exit code from its events.
	_, err = r.client.WaitHealthy(ctx, r.in.App, id, r.wait)
	var exited *fly.MachineExitedError
	if !errors.As(err, &exited) {
		return fmt.Errorf("reading the exit code of release command machine %s: %w", id, err)
	}
	if exited.ExitCode != 0 {
		return &ReleaseCommandError{
			Command: r.in.ReleaseCommand, MachineID: id, App: r.in.App,
			ExitCode: exited.ExitCode, OOMKilled: exited.OOMKilled,
		}
	}
	r.say("release command %q: succeeded", r.in.ReleaseCommand)
	return nil
}

// releaseConfig is the release command machine's config (flyctl's
// ToReleaseMachineConfig): the group's image and env, releaseGuest's size,
// the command, no restarts, self-destruction, no DNS registration, and the
// metadata flyctl sets on it.
func (r *rollout) releaseConfig() flyapi.FlyMachineConfig {
	c := r.in.Config
	env := maps.Clone(c.Env)
	if env == nil {
		env = map[string]string{}
	}
	env["RELEASE_COMMAND"] = "1"
	env[fly.EnvProcessGroup] = fly.ReleaseCommandGroup
	env[fly.EnvPrimaryRegion] = r.in.PrimaryRegion
	meta := map[string]string{
		fly.MetaPlatformVersion: fly.PlatformVersionV2,
		fly.MetaProcessGroup:    fly.ReleaseCommandGroup,
		fly.MetaReleaseID:       r.releaseID,
		fly.MetaReleaseVersion:  strconv.Itoa(r.releaseVersion),
		metaFlyctlVersion:       deployedBy,
	}
	return flyapi.FlyMachineConfig{
		Image:       new(c.Image),
		Env:         &env,
		Metadata:    &meta,
		Init:        &flyapi.FlyMachineInit{Cmd: &r.in.ReleaseCommand, Entrypoint: ptrIf(c.Entrypoint)},
		Guest:       r.releaseGuest().api(),
		Restart:     &flyapi.FlyMachineRestart{Policy: new(flyapi.FlyMachineRestartPolicyNo)},
		AutoDestroy: new(true),
		Dns:         &flyapi.FlyDNSConfig{SkipRegistration: new(true)},
	}
}

// sharedCPU2x is flyctl's release command size for apps of the smallest
// size (shared-cpu-1x), whose 256 MB migrations often outgrow.
var sharedCPU2x = MachineGuest{CPUKind: "shared", CPUs: 2, MemoryMB: 512}

// releaseGuest sizes the release command's machine as flyctl's
// inferReleaseCommandGuest does: releaseCommandGuest when set, else the
// largest (by memory) of the group's machines, else config.guest unless it
// is the smallest size, else shared-cpu-2x.
func (r *rollout) releaseGuest() MachineGuest {
	if g := r.in.ReleaseCommandGuest; g != nil {
		return *g
	}
	var largest *flyapi.FlyMachineGuest
	for _, m := range r.current {
		if g := opt.Val(m.Config).Guest; g != nil && opt.Val(g.MemoryMb) > opt.Val(opt.Val(largest).MemoryMb) {
			largest = g
		}
	}
	if largest != nil {
		return MachineGuest{CPUKind: opt.Val(largest.CpuKind), CPUs: opt.Val(largest.Cpus), MemoryMB: opt.Val(largest.MemoryMb)}
	}
	if g := *r.in.Config.Guest; g != (MachineGuest{}).normalize() {
		return g
	}
	return sharedCPU2x
}
