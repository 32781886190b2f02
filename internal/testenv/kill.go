package testenv

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// KillChildren sends SIGKILL to this process's children named name (the
// command name, as /proc/<pid>/stat shows it) that have arg among their
// arguments, as a crash or a cancelled CI runner would, and returns their
// pids. Tests of interrupted runs kill the `pulumi` that the Automation API
// started for one stack (arg: its name; other tests' stacks run beside it),
// and nothing it started: its plugins live on, as they do after a real kill.
func KillChildren(name, arg string) []int {
	var killed []int
	for _, pid := range Children(os.Getpid(), name) {
		cmdline, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
		if err != nil || !slices.Contains(strings.Split(string(cmdline), "\x00"), arg) {
			continue
		}
		if syscall.Kill(pid, syscall.SIGKILL) == nil {
			killed = append(killed, pid)
		}
	}
	return killed
}

// Children are the pids of ppid's running children whose command name is
// comm (as /proc/<pid>/stat has it: cut at 15 characters).
func Children(ppid int, comm string) []int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var out []int
	for _, f := range stats {
		name, state, parent, ok := stat(f)
		if ok && name == comm && state != "Z" && parent == ppid {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(f)))
			out = append(out, pid)
		}
	}
	return out
}

// Running reports whether pid runs: it exists and is no zombie (an
// orphan's new parent may never reap it).
func Running(pid int) bool {
	_, state, _, ok := stat(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	return ok && state != "Z"
}

// stat reads a /proc/<pid>/stat file: the command name, the state and the
// parent's pid.
func stat(path string) (comm, state string, ppid int, ok bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", "", 0, false
	}
	s := string(b)
	open, closing := strings.Index(s, "("), strings.LastIndex(s, ")")
	if open < 0 || closing < open {
		return "", "", 0, false
	}
	fields := strings.Fields(s[closing+1:]) // state, ppid, …
	if len(fields) < 2 {
		return "", "", 0, false
	}
	ppid, err = strconv.Atoi(fields[1])
	return s[open+1 : closing], fields[0], ppid, err == nil
}
