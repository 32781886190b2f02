package stackctl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
)

// lock is one lock file of a stack in a file (DIY) backend. Pulumi writes
// it when an update starts, as <backend>/.pulumi/locks/organization/
// <project>/<stack>/<id>.json (<backend>/.pulumi/locks/<stack>/ in the
// backend's older, project-less layout), and deletes it when the update
// ends; a killed `pulumi` leaves it behind. The fields are Pulumi's own
// (pkg/backend/diy/lock.go, unexported there).
type lock struct {
	Path      string    `json:"-"`
	Pid       int       `json:"pid"`
	Username  string    `json:"username"`
	Hostname  string    `json:"hostname"`
	Timestamp time.Time `json:"timestamp"`
}

// stale reports whether l was left by a process that no longer runs: one
// on this host (host) whose pid is gone. A lock from another host is never
// stale to us: its processes cannot be seen from here.
func (l lock) stale(host string, running func(pid int) bool) bool {
	return l.Hostname == host && !running(l.Pid)
}

func (l lock) String() string {
	return fmt.Sprintf("%s@%s (pid %d) since %s", l.Username, l.Hostname, l.Pid, l.Timestamp.UTC().Format(time.RFC3339))
}

// running reports whether a process with pid runs on this host. A process
// of another user answers EPERM, and runs.
func running(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// lockDirs are where a file backend at dir keeps the locks of a stack of
// project, in the current layout and in the older, project-less one.
func lockDirs(dir, project, stack string) []string {
	locks := filepath.Join(dir, ".pulumi", "locks")
	return []string{filepath.Join(locks, "organization", project, stack), filepath.Join(locks, stack)}
}

// readLocks reads the lock files in dirs. Pulumi's storage writes a
// <file>.attrs beside each, which is no lock.
func readLocks(dirs []string) ([]lock, error) {
	var locks []lock
	for _, dir := range dirs {
		files, err := filepath.Glob(filepath.Join(dir, "*.json"))
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if errors.Is(err, fs.ErrNotExist) {
				continue // released meanwhile
			}
			if err != nil {
				return nil, fmt.Errorf("read lock %s: %w", f, err)
			}
			l := lock{Path: f}
			if err := json.Unmarshal(b, &l); err != nil {
				return nil, fmt.Errorf("read lock %s: %w", f, err)
			}
			locks = append(locks, l)
		}
	}
	return locks, nil
}

// backendURL is the stack's state backend, as the CLI resolves it.
func backendURL(ctx context.Context, st auto.Stack) (string, error) {
	if u := os.Getenv("PULUMI_BACKEND_URL"); u != "" {
		return u, nil
	}
	who, err := st.Workspace().WhoAmIDetails(ctx)
	if err != nil {
		return "", fmt.Errorf("which backend holds stack %s: %w", st.Name(), err)
	}
	return who.URL, nil
}

// LockedError is Recover's refusal: the stack is locked by an update that
// may still run, so nothing was recovered, and nothing must be. The engine
// refuses an update of a locked stack too; a preview, which takes no lock,
// may go on.
type LockedError struct {
	Stack string
	// Holder says who holds the lock and since when, and Why why it is not
	// known to be stale.
	Holder, Why string
	// Clear is the command that clears the lock, once its holder is known
	// to be gone.
	Clear string
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("stack %s is locked by %s: %s; nothing was changed; if that update still runs (a colleague, a CI job), wait for it; "+
		"if it is gone (a killed CI runner, a laptop that slept), clear the lock with %s and rerun (see docs/interrupted.md)",
		e.Stack, e.Holder, e.Why, e.Clear)
}

// locksReadable reports whether this tool sees the locks of the backend at
// url: a file backend's lock files, Pulumi Cloud's update in progress. A
// bucket's (S3, GCS, Azure) only the engine sees.
func locksReadable(url string) bool {
	return strings.HasPrefix(url, "file://") || strings.HasPrefix(url, "https://")
}

// engineLock reads the engine's refusal of a locked stack ("the stack is
// currently locked by 1 lock(s) … <lock>: created by user@host (pid N) at
// <time>") into the holder, when err is one.
func engineLock(err error) (string, bool) {
	msg := err.Error()
	if !strings.Contains(msg, "the stack is currently locked") {
		return "", false
	}
	for _, line := range strings.Split(msg, "\n") {
		if strings.Contains(line, ": created by ") {
			return strings.TrimSpace(line), true
		}
	}
	return "another process", true
}

// clearStaleLocks removes the locks of st in the backend at url that a
// process of this host left when it died, saying so on out, and returns a
// LockedError when a lock is held by a live process or by another host.
// Only a file backend's locks can be read beforehand; on Pulumi Cloud an
// update in progress is reported the same way. A bucket's are left to the
// engine (see Recover).
func clearStaleLocks(ctx context.Context, st auto.Stack, url, project string, out io.Writer) error {
	name := st.Name()[strings.LastIndex(st.Name(), "/")+1:]
	cancel := fmt.Sprintf("pulumi cancel --stack %s --yes", name)
	dir, file := strings.CutPrefix(url, "file://")
	if !file {
		if !locksReadable(url) {
			return nil
		}
		summary, err := st.Workspace().Stack(ctx)
		if err != nil || summary == nil || !summary.UpdateInProgress {
			return nil // the engine's own refusal covers what this misses
		}
		return &LockedError{Stack: st.Name(), Holder: "an update on " + url, Why: "Pulumi Cloud shows it in progress (" + summary.URL + ")",
			Clear: "`" + cancel + "`"}
	}
	locks, err := readLocks(lockDirs(dir, project, name))
	if err != nil {
		return err
	}
	host, err := os.Hostname()
	if err != nil {
		return err
	}
	for _, l := range locks {
		if !l.stale(host, running) {
			why := fmt.Sprintf("process %d still runs on this host", l.Pid)
			if l.Hostname != host {
				why = "it was taken on host " + l.Hostname + ", whose processes this host cannot see"
			}
			return &LockedError{Stack: st.Name(), Holder: l.String() + " (lock file " + l.Path + ")", Why: why,
				Clear: fmt.Sprintf("`PULUMI_BACKEND_URL=%s %s` (or by removing %s)", url, cancel, l.Path)}
		}
	}
	for _, l := range locks {
		for _, f := range []string{l.Path, l.Path + ".attrs"} {
			if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("remove the stale lock %s: %w", l.Path, err)
			}
		}
		fmt.Fprintf(out, "recover: stack %s: removed the stale lock of %s: no process %d runs on this host, so its update was interrupted\n",
			st.Name(), l, l.Pid)
	}
	return repairAttrs(dir, project, name, out)
}
