package compose

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/internal/dockertest"
)

// `docker stop` must reach the server. Pulumi stops the db container on every
// replacement and destroy; a server that misses the stop signal is killed
// when the grace period (a minute) ends, and recovers from a crash on its
// next start.
func TestPostgresImageShutsDownOnStop(t *testing.T) {
	t.Parallel()
	dockertest.RequireEngine(t)
	c := dockertest.Run(t, "--env", "POSTGRES_PASSWORD=test-only", postgresImage)
	ctx := context.Background()
	// Over TCP: the socket-only server of the first start's setup does not count.
	require.Eventually(t, func() bool {
		_, err := dockertest.Docker(ctx, "exec", c.ID, "pg_isready", "--host=127.0.0.1", "--username=postgres")
		return err == nil
	}, 2*time.Minute, 250*time.Millisecond, "postgres never accepted connections:\n%s", c.Logs())

	_, err := dockertest.Docker(ctx, "stop", "--time", "120", c.ID)
	require.NoError(t, err)
	assert.Equal(t, "0", dockertest.Inspect(t, c.ID, "{{.State.ExitCode}}"),
		"the server did not shut down on docker stop (137 is the SIGKILL at the end of the grace period):\n%s", c.Logs())
	assert.Contains(t, c.Logs(), "database system is shut down")
}
