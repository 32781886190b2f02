package compose

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/internal/dockertest"
	"github.com/emothe/emothe/internal/stackctl"
)

// TestRollbackUnderLoad is `make rollback` on the Compose backend: after
// two releases, the rollback puts the first one's image back through the
// normal rollout, release command included, while 50 requests a second go
// through the proxy, and not one fails. Its stack is then the source of
// `make move-data` (testMoveData).
func TestRollbackUnderLoad(t *testing.T) {
	t.Parallel()
	imgs := buildImages(t)
	p := newProject(t, imgs.appA)
	s := newStack(t, p.config, stackSecrets())
	s.up(t)
	first, _ := s.outputs(t)["image"].(string)
	require.NotEmpty(t, first)
	s.set(t, map[string]string{"image": imgs.appB})
	s.up(t)
	p.waitReady(t)
	require.NotEqual(t, first, s.outputs(t)["image"])

	var out strings.Builder
	l := startLoad(p.base+"/api/plays", loadRate)
	_, err := stackctl.Rollback(context.Background(), s.st, "", &out)
	load := l.finish()
	require.NoError(t, err, "rollback:\n%s", out.String())
	p.assertNoFailures(t, "during the rollback", load)
	assert.Contains(t, out.String(), first, "the rollback says which image it puts back")

	assert.Equal(t, first, s.outputs(t)["image"], "the stack is back on the first release")
	for _, id := range p.ids(t, "app") {
		assert.Equal(t, imgs.appA, dockertest.Inspect(t, id, "{{.Image}}"), "replica %.12s", id)
	}
	migrate, err := dockertest.Docker(context.Background(), "ps", "--all", "--quiet", "--no-trunc", "--filter", p.filter(),
		"--filter", "label=com.docker.compose.service=migrate")
	require.NoError(t, err)
	require.Len(t, strings.Fields(migrate), 1)
	assert.Equal(t, imgs.appA+" 0", dockertest.Inspect(t, migrate, "{{.Image}} {{.State.ExitCode}}"),
		"the release command ran the first release's migrations, and they passed")
	s.requireNoChanges(t)

	t.Run("make move-data to a second stack", func(t *testing.T) { testMoveData(t, imgs, s, p) })
}
