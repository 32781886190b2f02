package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/internal/testenv"
	"github.com/emothe/emothe/provider/flyfake"
	"github.com/emothe/emothe/tests/e2e/harness"
)

// refresh runs `pulumi refresh` and returns the Fly API calls it made.
func refresh(tb testing.TB, env *harness.Env, s *harness.Stack) flyfake.Calls {
	tb.Helper()
	env.Fake.ResetCalls()
	var out strings.Builder
	_, err := s.St.Refresh(context.Background(), optrefresh.ProgressStreams(&out), optrefresh.ErrorProgressStreams(&out))
	require.NoError(tb, err, out.String())
	return env.Fake.Calls()
}

// drift runs what `make drift` runs, a preview with a refresh first that
// expects no changes, and returns the Fly API calls it made.
func drift(tb testing.TB, env *harness.Env, s *harness.Stack) flyfake.Calls {
	tb.Helper()
	env.Fake.ResetCalls()
	var out strings.Builder
	_, err := s.St.Preview(context.Background(), optpreview.Refresh(), optpreview.ExpectNoChanges(),
		optpreview.ProgressStreams(&out), optpreview.ErrorProgressStreams(&out))
	require.NoError(tb, err, out.String())
	return env.Fake.Calls()
}

// The first up of prod exports the certificate's final DNS records (its
// addresses included), and refresh and drift only read: they write nothing
// and change no output.
func TestProdRefreshAndDriftOnlyRead(t *testing.T) {
	env, s, _ := open(t, "prod", newSecrets())
	s.Up(t)
	before := s.Outputs(t)
	records := fmt.Sprint(before["dnsRecords"])
	assert.Contains(t, records, " A ", "the first up lists the IPv4 address")
	assert.Contains(t, records, " AAAA ", "the first up lists the IPv6 address")

	calls := refresh(t, env, s)
	assert.Zero(t, calls.Writes, "refresh wrote: %v", writes(calls))
	assert.Equal(t, before, s.Outputs(t), "refresh changed the outputs")
	calls = drift(t, env, s)
	assert.Zero(t, calls.Writes, "drift wrote: %v", writes(calls))
}

// closedURL is the URL of a loopback port nothing listens on.
func closedURL(tb testing.TB) string {
	port, err := testenv.FreePort()
	require.NoError(tb, err)
	return fmt.Sprintf("http://127.0.0.1:%d", port)
}

// An up against an API nobody answers fails with the URL and the setting
// to fix, and does not claim a request may have succeeded.
func TestUpAgainstAClosedPortNamesTheSetting(t *testing.T) {
	_, s, _ := open(t, "dev", newSecrets())
	url := closedURL(t)
	s.SetConfig(t, auto.ConfigMap{"flyio:apiUrl": {Value: url}})
	_, err := s.TryUp(t)
	require.Error(t, err)
	for _, want := range []string{url, "flyio:apiUrl", "FLY_FLAPS_BASE_URL"} {
		assert.Contains(t, s.Transcript(), want)
	}
	assert.NotContains(t, s.Transcript(), "may have succeeded")
}

// BenchmarkReadOnly counts the Fly API calls of `pulumi refresh` and of
// `make drift` on prod (both must write nothing), and times how long `up`
// takes to fail against a closed port (the goal is at most 10 s, CLI
// start included).
func BenchmarkReadOnly(b *testing.B) {
	for name, run := range map[string]func(testing.TB, *harness.Env, *harness.Stack) flyfake.Calls{
		"prod/refresh": refresh, "prod/drift": drift,
	} {
		b.Run(name, func(b *testing.B) {
			var calls callMeter
			for range b.N {
				b.StopTimer()
				env, s := openBench(b, "prod")
				s.Up(b)
				b.StartTimer()
				c := run(b, env, s)
				b.StopTimer()
				calls.reads, calls.writes = calls.reads+c.Reads, calls.writes+c.Writes
			}
			calls.report(b)
		})
	}
	b.Run("dev/up-unreachable", func(b *testing.B) {
		var total time.Duration
		for range b.N {
			b.StopTimer()
			_, s := openBench(b, "dev")
			s.SetConfig(b, auto.ConfigMap{"flyio:apiUrl": {Value: closedURL(b)}})
			start := time.Now()
			b.StartTimer()
			_, err := s.TryUp(b)
			b.StopTimer()
			total += time.Since(start)
			require.Error(b, err)
		}
		b.ReportMetric(total.Seconds()/float64(b.N), "s-to-fail")
	})
}
