package stackctl

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// plugin is a provider plugin process (pulumi-resource-<name>), as /proc
// shows it.
type plugin struct {
	Pid  int
	Name string
	// Engine is the address of the engine that started it, its first
	// argument: the plugin calls back there, and a dead engine's is closed.
	Engine  string
	Dir     string // its working directory: the project's
	Project string // its PULUMI_PROJECT
}

// orphaned reports whether p was started by a dead engine of the project
// in dir. A killed `pulumi` leaves its plugins running: they finish the
// call in flight, unrecorded, and then wait forever for an engine that is
// gone. Plugins of live engines, or of other checkouts or projects, are
// not.
func (p plugin) orphaned(dir, project string, listening func(addr string) bool) bool {
	return p.Dir == dir && p.Project == project && p.Engine != "" && !listening(p.Engine)
}

// listening reports whether something accepts connections at addr.
func listening(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

// plugins lists this user's provider plugin processes; none where there is
// no /proc (the recovery then relies on the lock alone).
func plugins() []plugin {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var out []plugin
	for _, d := range dirs {
		cmdline, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
		if !strings.HasPrefix(filepath.Base(args[0]), "pulumi-resource-") || len(args) < 2 {
			continue
		}
		environ, err := os.ReadFile(filepath.Join(d, "environ")) // only this user's are readable
		if err != nil {
			continue
		}
		p := plugin{Name: filepath.Base(args[0]), Engine: args[1]}
		p.Pid, _ = strconv.Atoi(filepath.Base(d))
		p.Dir, _ = os.Readlink(filepath.Join(d, "cwd"))
		for _, kv := range bytes.Split(environ, []byte{0}) {
			if v, ok := bytes.CutPrefix(kv, []byte("PULUMI_PROJECT=")); ok {
				p.Project = string(v)
			}
		}
		out = append(out, p)
	}
	return out
}

// stopOrphanedPlugins ends the plugins a killed engine of this project
// left running, so that none of them still changes the host while the
// recovery reads and repairs it.
func stopOrphanedPlugins(ctx context.Context, stack, dir, project string, out io.Writer) error {
	for _, p := range plugins() {
		if !p.orphaned(dir, project, listening) {
			continue
		}
		proc, err := os.FindProcess(p.Pid)
		if err != nil {
			continue
		}
		_ = proc.Signal(syscall.SIGTERM)
		gone := waitGone(ctx, p.Pid, 10*time.Second)
		if !gone {
			_ = proc.Signal(syscall.SIGKILL)
			gone = waitGone(ctx, p.Pid, 5*time.Second)
		}
		if !gone {
			return fmt.Errorf("%s (pid %d), left running by an interrupted run, does not stop; end it, then rerun", p.Name, p.Pid)
		}
		fmt.Fprintf(out, "recover: stack %s: stopped %s (pid %d), left running by the interrupted run (its engine at %s is gone)\n",
			stack, p.Name, p.Pid, p.Engine)
	}
	return nil
}

func waitGone(ctx context.Context, pid int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for running(pid) && !zombie(pid) {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
	return true
}

// zombie reports whether pid has exited and waits for its parent to reap
// it: an orphan's new parent may never do so.
func zombie(pid int) bool {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	_, after, ok := strings.Cut(string(stat), ") ")
	return ok && strings.HasPrefix(after, "Z")
}
