package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/internal/dockertest"
	"github.com/emothe/emothe/tests/e2e/harness"
)

// localRegistry is the registry `make tools` serves on loopback; it stands
// in for registry.fly.io through emothe:flyRegistry.
const localRegistry = "127.0.0.1:5000"

// TestFlyBuildsAndPushesTheImage runs a Fly stack without emothe:image:
// the real pulumi-docker plugin builds the repository's Dockerfile and
// pushes it, and the machines on the fake run the pushed repo digest. A
// second up with the same source builds nothing and rolls nothing.
func TestFlyBuildsAndPushesTheImage(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: builds the image with the real docker plugin and pushes it to the local registry")
	}
	dockertest.RequireEngine(t)
	env := harness.New(t, testFake)
	name := "emothe-img-" + randomHex(3)
	s := env.RootStack(t, "dev", map[string]string{"emothe:appName": name, "emothe:flyRegistry": localRegistry},
		newSecrets().config())
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(s.Transcript())
		}
		_, _ = dockertest.Docker(context.Background(), "image", "rm", "--force", localRegistry+"/"+name+":"+s.Name)
	})

	s.Up(t)
	image, _ := s.Outputs(t)["image"].(string)
	require.True(t, strings.HasPrefix(image, localRegistry+"/"+name+"@sha256:"), "the image output is the pushed repo digest, got %q", image)
	_, digest, _ := strings.Cut(image, "@")
	resp, err := http.Head("http://" + localRegistry + "/v2/" + name + "/manifests/" + digest)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the registry holds the pushed manifest")

	app := appOf(t, env.Fake.State(), name)
	ms := live(app, groupApp)
	require.NotEmpty(t, ms)
	for _, m := range append(ms, releases(app)...) {
		assert.Equal(t, image, *m.Config.Image, "machine %s (%s) runs the pushed digest", m.ID, group(m))
	}

	assert.Empty(t, s.Preview(t).Changed(), "a preview with the same source proposes changes")
	env.Fake.ResetCalls()
	res := s.Up(t)
	assert.Empty(t, harness.Changes(res), "a second up with the same source changed something")
	assert.Empty(t, writes(env.Fake.Calls()), "a second up with the same source wrote to Fly")
}
