// Package dockertest holds the small helpers that tests use to drive a Docker
// engine through the docker CLI: build the repository's image, run containers
// that are removed when the test ends, wait for their health, read sizes.
package dockertest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emothe/emothe/internal/testenv"
)

// Docker runs the docker CLI and returns its trimmed standard output. A failure
// carries the command and what docker printed on standard error.
func Docker(ctx context.Context, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

// combined runs the docker CLI with both output streams interleaved, for
// commands whose stderr is part of their answer (builds, container logs).
func combined(ctx context.Context, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("docker %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// RequireEngine fails the test, rather than skipping it, when no Docker engine
// answers: a suite that silently skips would pass without testing anything.
// Only `go test -short`, which asks to leave out such tests, skips it.
func RequireEngine(tb testing.TB) {
	tb.Helper()
	if testing.Short() {
		tb.Skip("needs a Docker engine; -short leaves such tests out")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := Docker(ctx, "version", "--format", "{{.Server.Version}}"); err != nil {
		tb.Fatalf("no Docker engine answers; run `make tools` (%v)", err)
	}
}

// The local stack's Postgres and Caddy images, which `make tools` builds from
// Debian's packages (images/, scripts/localimages.sh) since no image can be
// pulled here: what a Compose stack under test names in emothe:postgresImage
// and emothe:proxyImage.
const (
	LocalPostgres = "emothe-local/postgres:15"
	LocalCaddy    = "emothe-local/caddy:2.6"
)

// RequireLocalImages fails the test when the engine lacks LocalPostgres or
// LocalCaddy, saying how to build them.
func RequireLocalImages(tb testing.TB) {
	tb.Helper()
	RequireEngine(tb)
	for _, ref := range []string{LocalPostgres, LocalCaddy} {
		if _, err := Docker(context.Background(), "image", "inspect", "--format", "{{.Id}}", ref); err != nil {
			tb.Fatalf("image %s is missing: run `make tools` (%v)", ref, err)
		}
	}
}

// BuilderImage is the first base image of the repository's Dockerfile, a
// Debian bookworm with a shell that `make tools` guarantees locally, for
// tests that need some image without pulling one.
func BuilderImage(tb testing.TB) string {
	tb.Helper()
	dockerfile, err := os.ReadFile(filepath.Join(testenv.RepoRoot(tb), "Dockerfile"))
	if err != nil {
		tb.Fatal(err)
	}
	for line := range strings.Lines(string(dockerfile)) {
		if fields := strings.Fields(line); len(fields) > 1 && strings.EqualFold(fields[0], "FROM") {
			return fields[1]
		}
	}
	tb.Fatal("no FROM line in the Dockerfile")
	return ""
}

// Build builds the repository's Dockerfile under tag, with build args given
// as NAME=value, and returns the image ID. The build's output is shown only
// when it fails.
func Build(tb testing.TB, tag string, buildArgs ...string) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	args := []string{"build", "--tag", tag}
	for _, a := range buildArgs {
		args = append(args, "--build-arg", a)
	}
	if _, err := combined(ctx, append(args, testenv.RepoRoot(tb))...); err != nil {
		tb.Fatal(err)
	}
	return Inspect(tb, tag, "{{.Id}}")
}

// Inspect returns one Go-template field of an image or container, as
// `docker inspect --format` prints it; `{{json .Config}}` gives JSON to decode.
func Inspect(tb testing.TB, object, format string) string {
	tb.Helper()
	out, err := Docker(context.Background(), "inspect", "--format", format, object)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// ImageSize is the image's size in bytes.
func ImageSize(tb testing.TB, image string) int64 {
	tb.Helper()
	size, err := strconv.ParseInt(Inspect(tb, image, "{{.Size}}"), 10, 64)
	if err != nil {
		tb.Fatalf("size of %s: %v", image, err)
	}
	return size
}
