package compose

import (
	"sync"
	"testing"

	"github.com/emothe/emothe/internal/dockertest"
)

// The Postgres and Caddy images of the local stack.
const (
	postgresImage = dockertest.LocalPostgres
	proxyImage    = dockertest.LocalCaddy
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
	dockertest.RequireLocalImages(tb)
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
