package compose

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/emothe/emothe/internal/dockertest"
)

// The stand-ins for the official postgres and caddy images, built from
// Debian packages (images/), since no image can be pulled here.
const (
	postgresImage = "emothe-local/postgres:15"
	proxyImage    = "emothe-local/caddy:2.6"
)

// images are the IDs of everything the suite runs, built once per binary.
type images struct {
	// appA and appB are two builds of the service that differ only in a
	// label: an image update.
	appA, appB string
}

var built struct {
	once sync.Once
	imgs images
	ok   bool
}

func buildImages(tb testing.TB) images {
	tb.Helper()
	dockertest.RequireEngine(tb)
	built.once.Do(func() {
		base := dockertest.BuilderImage(tb)
		for tag, dir := range map[string]string{postgresImage: "postgres", proxyImage: "caddy"} {
			buildStandIn(tb, tag, dir, base)
		}
		built.imgs.appA = dockertest.Build(tb, "emothe:compose-test-a", "VERSION=compose-a", "REVISION=compose-test")
		built.imgs.appB = dockertest.Build(tb, "emothe:compose-test-b", "VERSION=compose-b", "REVISION=compose-test")
		built.ok = true
	})
	if !built.ok {
		tb.Fatal("the images did not build (see the first test that needed them)")
	}
	return built.imgs
}

// buildStandIn builds images/<dir> on base, the Debian the builder stage
// uses, so the packages come from the same release.
func buildStandIn(tb testing.TB, tag, dir, base string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if _, err := dockertest.Docker(ctx, "build", "--quiet", "--tag", tag, "--build-arg", "BASE="+base,
		filepath.Join("images", dir)); err != nil {
		tb.Fatalf("build %s: %v", tag, err)
	}
}
