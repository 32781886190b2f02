package fly

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/provider/flyapi"
	"github.com/emothe/emothe/provider/flyfake"
)

// deadHolder names a provider process of this host that has exited.
func deadHolder(t *testing.T) string {
	t.Helper()
	cmd := exec.Command("true")
	require.NoError(t, cmd.Run())
	host, err := os.Hostname()
	require.NoError(t, err)
	return fmt.Sprintf("pulumi-resource-flyio (pid %d on %s)", cmd.Process.Pid, host)
}

// A machine a killed deploy launched keeps the lease its create took for
// the whole wait timeout (5 minutes by default). The next deploy takes it
// over at once, since the process that held it is gone; a live holder's,
// or another host's, is waited for and, past the retry budget, refused.
func TestLeaseOfAGoneProcessIsTakenOver(t *testing.T) {
	t.Parallel()
	fake := flyfake.New(flyfake.Options{})
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { assert.Empty(t, fake.Violations(), "requests that break Fly's API spec") })
	cl, err := New(Config{Token: fake.Token(), BaseURL: srv.URL, RetryInitialInterval: time.Millisecond,
		RetryMaxElapsed: 200 * time.Millisecond, PollInterval: time.Millisecond})
	require.NoError(t, err)
	c := cl.(*APIClient)
	ctx := context.Background()
	_, err = c.CreateApp(ctx, flyapi.CreateAppRequest{Name: new("a"), OrgSlug: new("personal")})
	require.NoError(t, err)

	launch := func(by string) string {
		t.Helper()
		var m flyapi.Machine
		err := c.do(ctx, call{
			send: func(ctx context.Context) (*http.Response, error) {
				return c.api.MachinesCreate(ctx, "a", flyapi.CreateMachineRequest{
					Region: new("ams"), LeaseTtl: new(300),
					Config: &flyapi.FlyMachineConfig{Image: new("nginx"), Metadata: &map[string]string{MetaLaunchedBy: by}},
				})
			},
			out: &m,
		})
		require.NoError(t, err)
		return *m.Id
	}
	host, _ := os.Hostname()
	for name, tc := range map[string]struct {
		by       string
		takeOver bool
	}{
		"gone process of this host": {deadHolder(t), true},
		"live process":              {Holder(), false},
		"another host":              {"pulumi-resource-flyio (pid 1 on not-" + host + ")", false},
		"not ours":                  {"flyctl", false},
	} {
		id := launch(tc.by)
		l, err := c.AcquireLease(ctx, "a", id, 13*time.Second)
		if !tc.takeOver {
			assert.ErrorContains(t, err, "409", name)
			continue
		}
		require.NoError(t, err, name)
		nonce, err := l.Nonce(ctx)
		require.NoError(t, err)
		require.NoError(t, c.Cordon(ctx, "a", id, nonce), "the nonce is the lease's")
		require.NoError(t, l.Release(ctx))
	}
}
