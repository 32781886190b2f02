package e2e

import (
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/tests/e2e/harness"
)

// Through the plain CLI (main.go under the Go language host) a program
// error is reported as itself: an error diagnostic naming the setting, not
// opened by "an unhandled error occurred", and `pulumi up` still fails,
// having created nothing.
func TestCLIReportsAProgramErrorAsItself(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: the Pulumi CLI and the Go language host")
	}
	env := harness.New(t, testFake)
	s := env.RootStack(t, "dev", map[string]string{"emothe:image": image1, "emothe:dedicatedIpv4": "yes"}, newSecrets().config())

	cmd := exec.Command("pulumi", "up", "--yes", "--skip-preview", "--stack", s.Name, "--non-interactive")
	cmd.Dir = s.Dir
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "pulumi up must fail:\n%s", out)
	assert.Contains(t, string(out), `error: invalid stack configuration`)
	assert.Contains(t, string(out), `emothe:dedicatedIpv4 = "yes"`)
	assert.NotContains(t, string(out), "an unhandled error occurred")
	assert.NotContains(t, string(out), "error occurred:", "no multierror list")
	assert.Empty(t, env.Fake.State().Apps)
}
