package e2e

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/internal/stackctl"
	"github.com/emothe/emothe/tests/e2e/harness"
)

// A stack without its secrets stops before touching Fly and names the
// secret; `make secrets` (stackctl.EnsureSecrets) then generates strong
// values, stores them encrypted, never prints them, and leaves set ones be.
func TestMissingSecretsThenMakeSecrets(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: the Pulumi CLI and the provider against the Fly fake")
	}
	ctx := context.Background()
	env := harness.New(t, testFake)
	s := env.Stack(t, "dev", map[string]string{"emothe:image": image1}, nil)

	var out strings.Builder
	_, err := s.St.Preview(ctx, optpreview.ProgressStreams(&out), optpreview.ErrorProgressStreams(&out))
	require.Error(t, err)
	assert.Contains(t, out.String()+err.Error(), "pulumi config set --secret emothe:secretKeyBase <value> --stack dev")
	assert.Zero(t, env.Fake.Calls().Writes, "a stack missing secrets writes nothing to Fly")

	keys, err := stackctl.EnsureSecrets(ctx, s.St)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"emothe:secretKeyBase", "emothe:databasePassword"}, keys)

	stackFile, err := os.ReadFile(filepath.Join(s.Dir, "Pulumi.dev.yaml"))
	require.NoError(t, err)
	want := map[string]int{"emothe:secretKeyBase": 128, "emothe:databasePassword": 48}
	values := map[string]string{}
	for key, n := range want {
		v, err := s.St.GetConfig(ctx, key)
		require.NoError(t, err)
		assert.True(t, v.Secret, "%s is stored as a secret", key)
		assert.Regexp(t, regexp.MustCompile("^[0-9a-f]{"+strconv.Itoa(n)+"}$"), v.Value, "%s is %d random hex characters", key, n)
		assert.NotContains(t, string(stackFile), v.Value, "%s is encrypted in the stack file", key)
		values[key] = v.Value
	}

	again, err := stackctl.EnsureSecrets(ctx, s.St)
	require.NoError(t, err)
	assert.Empty(t, again, "secrets already set are kept")
	for key, v := range values {
		got, err := s.St.GetConfig(ctx, key)
		require.NoError(t, err)
		assert.Equal(t, v, got.Value)
	}
}
