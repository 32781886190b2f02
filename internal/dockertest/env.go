package dockertest

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// EnvFile writes vars to a private file for `docker run --env-file`, so that
// values such as database passwords and secret keys stay off the docker
// command line, which errors and process listings show.
func EnvFile(tb testing.TB, vars map[string]string) string {
	tb.Helper()
	lines := make([]string, 0, len(vars))
	for k, v := range vars {
		// The format has no quoting: one variable a line, taken verbatim.
		if strings.ContainsAny(k, "=\n") || strings.Contains(v, "\n") {
			tb.Fatalf("env var %q: names may not hold '=' or newlines, values may not hold newlines", k)
		}
		lines = append(lines, k+"="+v)
	}
	sort.Strings(lines)
	path := filepath.Join(tb.TempDir(), "env")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		tb.Fatalf("write env file: %v", err)
	}
	return path
}
