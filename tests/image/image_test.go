// Package image tests the service's container image as it ships: built from
// the repository's Dockerfile with the local base image, then run against a
// throwaway Postgres on the host network.
package image

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/emothe/emothe/internal/dockertest"
)

// tag is this suite's own, so a run never replaces a developer's emothe:latest.
const tag = "emothe:image-test"

// maxImageBytes is the image's size budget: 25 MB.
const maxImageBytes = 25_000_000

var build struct {
	once sync.Once
	id   string
}

// image builds the image once per test binary and returns its ID.
func image(tb testing.TB) string {
	tb.Helper()
	dockertest.RequireEngine(tb)
	build.once.Do(func() {
		build.id = dockertest.Build(tb, tag, "VERSION=v0.0.0-test", "REVISION=image-test")
	})
	if build.id == "" {
		tb.Fatal("the image did not build (see the first test that needed it)")
	}
	return build.id
}

func TestImageConfig(t *testing.T) {
	id := image(t)
	checks := []struct{ field, format, want string }{
		{"user", "{{.Config.User}}", "65532:65532"},
		{"entrypoint", "{{json .Config.Entrypoint}}", `["/emothe"]`},
		{"cmd", "{{json .Config.Cmd}}", `["serve"]`},
		{"exposed ports", "{{json .Config.ExposedPorts}}", `{"8080/tcp":{}}`},
		{"healthcheck", "{{json .Config.Healthcheck.Test}}", `["CMD","/emothe","healthcheck"]`},
		{"version label", `{{index .Config.Labels "org.opencontainers.image.version"}}`, "v0.0.0-test"},
		{"revision label", `{{index .Config.Labels "org.opencontainers.image.revision"}}`, "image-test"},
		{"title label", `{{index .Config.Labels "org.opencontainers.image.title"}}`, "emothe"},
	}
	for _, c := range checks {
		if got := dockertest.Inspect(t, id, c.format); got != c.want {
			t.Errorf("%s: got %s, want %s", c.field, got, c.want)
		}
	}
}

func TestImageSize(t *testing.T) {
	size := dockertest.ImageSize(t, image(t))
	t.Logf("image size: %.1f MB (%d bytes)", float64(size)/1e6, size)
	if size > maxImageBytes {
		t.Errorf("image is %d bytes, over the %d-byte budget", size, maxImageBytes)
	}
}

// A scratch image has no shell: nothing to exec into if the service is breached.
func TestImageHasNoShell(t *testing.T) {
	_, err := dockertest.Docker(context.Background(), "run", "--rm", "--entrypoint", "/bin/sh", image(t), "-c", "true")
	if err == nil {
		t.Fatal("/bin/sh ran in the image; want no shell")
	}
	if !strings.Contains(err.Error(), "no such file or directory") {
		t.Fatalf("want the run to fail for lack of /bin/sh, got: %v", err)
	}
}
