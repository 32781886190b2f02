package pgtest

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// findBinDir returns the newest directory matching glob that holds both
// initdb and postgres. Versions compare numerically, so 16 beats 9.6.
func findBinDir(glob string) (string, error) {
	matches, err := filepath.Glob(glob)
	if err != nil {
		return "", fmt.Errorf("bad PostgreSQL binaries pattern %q: %w", glob, err)
	}
	var found []string
	for _, dir := range matches {
		if isExecutable(filepath.Join(dir, "initdb")) && isExecutable(filepath.Join(dir, "postgres")) {
			found = append(found, dir)
		}
	}
	if len(found) == 0 {
		return "", fmt.Errorf("PostgreSQL server binaries not found (looked in %s); run `make tools`", glob)
	}
	return slices.MaxFunc(found, func(a, b string) int {
		return slices.Compare(version(a), version(b))
	}), nil
}

// version reads "/usr/lib/postgresql/15/bin" as [15] and ".../9.6/bin" as [9 6].
func version(binDir string) []int {
	var v []int
	for _, part := range strings.Split(filepath.Base(filepath.Dir(binDir)), ".") {
		n, err := strconv.Atoi(part)
		if err != nil {
			return nil
		}
		v = append(v, n)
	}
	return v
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// serverCredential is who initdb and postgres run as: nil (this process's user)
// unless we are root, which PostgreSQL refuses, and then the user "postgres".
func serverCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup(superuser)
	if errors.As(err, new(user.UnknownUserError)) {
		return nil, errors.New("running as root, PostgreSQL must run as the OS user postgres, which does not exist; " +
			"install the postgresql package (run `make tools`) or run the tests as a non-root user")
	}
	if err != nil {
		return nil, fmt.Errorf("look up OS user postgres: %w", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("OS user postgres has non-numeric uid %q: %w", u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("OS user postgres has non-numeric gid %q: %w", u.Gid, err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}
