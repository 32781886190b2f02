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
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var killed []int
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		s := string(b)
		open, closing := strings.Index(s, "("), strings.LastIndex(s, ")")
		if open < 0 || closing < open {
			continue
		}
		fields := strings.Fields(s[closing+1:]) // state, ppid, …
		if s[open+1:closing] != name || len(fields) < 2 || fields[1] != strconv.Itoa(os.Getpid()) {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(f)))
		cmdline, err := os.ReadFile(filepath.Join(filepath.Dir(f), "cmdline"))
		if err != nil || !slices.Contains(strings.Split(string(cmdline), "\x00"), arg) {
			continue
		}
		if syscall.Kill(pid, syscall.SIGKILL) == nil {
			killed = append(killed, pid)
		}
	}
	return killed
}
