package compose

import (
	"context"
	"sync"
	"testing"

	"github.com/emothe/emothe/internal/dockertest"
)

// The Postgres and Caddy images of the local stack, which `make tools`
// builds from Debian's packages (images/, scripts/localimages.sh) since no
// image can be pulled here.
const (
	postgresImage = "emothe-local/postgres:15"
	proxyImage    = "emothe-local/caddy:2.6"
)

// images are the IDs of the app images the suite runs, built once per binary.
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
	for _, ref := range []string{postgresImage, proxyImage} {
		if _, err := dockertest.Docker(context.Background(), "image", "inspect", "--format", "{{.Id}}", ref); err != nil {
			tb.Fatalf("image %s is missing: run `make tools` (%v)", ref, err)
		}
	}
	built.once.Do(func() {
		built.imgs.appA = dockertest.Build(tb, "emothe:compose-test-a", "VERSION=compose-a", "REVISION=compose-test")
		built.imgs.appB = dockertest.Build(tb, "emothe:compose-test-b", "VERSION=compose-b", "REVISION=compose-test")
		built.ok = true
	})
	if !built.ok {
		tb.Fatal("the images did not build (see the first test that needed them)")
	}
	return built.imgs
}
