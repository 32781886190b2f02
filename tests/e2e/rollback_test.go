package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/internal/stackctl"
	"github.com/emothe/emothe/provider/flyfake"
	"github.com/emothe/emothe/tests/e2e/harness"
)

// up runs stackctl.Up, the `make up` path that records the release; the
// engine's output is logged when it fails.
func up(tb testing.TB, s *harness.Stack) error {
	tb.Helper()
	var out strings.Builder
	_, err := stackctl.Up(context.Background(), s.St, optup.ProgressStreams(&out), optup.ErrorProgressStreams(&out))
	if err != nil {
		tb.Log(out.String())
	}
	return err
}

// A release whose machines crash on boot fails its rollout; `make rollback`
// then puts back the image of the previous successful update through the
// normal rollout, and the app ends on the old digest. A digest given is put
// back the same way, release command first.
func TestRollbackAfterABadImage(t *testing.T) {
	env, s, img := open(t, "prod", newSecrets())
	env.SetFaults(t, flyfake.Faults{}) // the bad image is the fake's crash fault: skipped on real Fly
	ctx := context.Background()

	step(t, "with no release recorded, rollback refuses and changes nothing", func(t *testing.T) {
		var out strings.Builder
		_, err := stackctl.Rollback(ctx, s.St, "", &out)
		require.ErrorContains(t, err, "no release is recorded")
		assert.ErrorContains(t, err, "make rollback STACK=prod TO=")
		v, err := s.St.GetConfig(ctx, "emothe:image")
		require.NoError(t, err)
		assert.Equal(t, img[0], v.Value)
		assert.Empty(t, env.State(t).Apps, "nothing was deployed")
	})

	step(t, "the good image goes out", func(t *testing.T) { require.NoError(t, up(t, s)) })

	step(t, "the bad image fails its rollout", func(t *testing.T) {
		env.SetFaults(t, flyfake.Faults{CrashExitCode: 1})
		s.SetConfig(t, auto.ConfigMap{"emothe:image": {Value: img[1]}})
		require.Error(t, up(t, s))
		env.SetFaults(t, flyfake.Faults{}) // the old image boots
	})

	step(t, "rollback puts back the old digest", func(t *testing.T) {
		var out strings.Builder
		_, err := stackctl.Rollback(ctx, s.St, "", &out, optup.ProgressStreams(&out), optup.ErrorProgressStreams(&out))
		t.Log(out.String())
		require.NoError(t, err)
		assert.Contains(t, out.String(), "stack prod: rolling back from "+img[1]+" (failed) to "+img[0])
		assert.Contains(t, out.String(), "stack prod: rolled back; it runs "+img[0])

		app := appOf(t, env.State(t), s.App)
		ms := live(app, groupApp)
		require.NotEmpty(t, ms)
		for _, m := range ms {
			assert.Equal(t, img[0], *m.Config.Image, m.ID)
		}
		assert.Equal(t, img[0], s.Outputs(t)["image"])

		history, err := stackctl.Releases(ctx, s.St)
		require.NoError(t, err)
		require.Len(t, history, 3)
		assert.Equal(t, []string{img[0], img[1], img[0]}, []string{history[0].Image, history[1].Image, history[2].Image})
		assert.Equal(t, []bool{true, false, true}, []bool{history[0].OK, history[1].OK, history[2].OK})
	})

	step(t, "a digest given is put back as asked, release command first; a tag is refused", func(t *testing.T) {
		_, err := stackctl.Rollback(ctx, s.St, "registry.fly.io/emothe:latest", &strings.Builder{})
		require.ErrorContains(t, err, "not pinned by digest")
		before := appOf(t, env.State(t), s.App)
		env.Fake.ResetCalls()
		var out strings.Builder
		_, err = stackctl.Rollback(ctx, s.St, img[1], &out, optup.ProgressStreams(&out))
		require.NoError(t, err, out.String())
		app := appOf(t, env.State(t), s.App)
		for _, m := range live(app, groupApp) {
			assert.Equal(t, img[1], *m.Config.Image, m.ID)
		}
		releaseFirst(t, env.Fake.Calls(), before, app)
	})
}

// The pull request comment's summary, from a real preview's events: an image
// bump updates the app machines and nothing else; moving the database's
// region replaces its volume, and the warning says so first.
func TestPlanSummary(t *testing.T) {
	_, s, img := open(t, "dev", newSecrets())
	ctx := context.Background()
	s.Up(t)
	plan := func(t *testing.T) stackctl.Plan {
		var out strings.Builder
		_, evs, err := stackctl.Preview(ctx, s.St, optpreview.ProgressStreams(&out), optpreview.ErrorProgressStreams(&out))
		require.NoError(t, err, out.String())
		return stackctl.Summarize(evs)
	}

	step(t, "an image bump: only the machines update", func(t *testing.T) {
		s.SetConfig(t, auto.ConfigMap{"emothe:image": {Value: img[1]}})
		p := plan(t)
		assert.Empty(t, p.Risks)
		assert.Equal(t, map[apitype.OpType]int{apitype.OpUpdate: 1}, p.Counts)
		require.Len(t, p.Changes, 1)
		assert.Equal(t, "flyio:index:MachineGroup", p.Changes[0].Type)
		assert.NotContains(t, p.Markdown(), "WARNING")
	})

	step(t, "a new primary region: the database volume is replaced, and that comes first", func(t *testing.T) {
		s.SetConfig(t, auto.ConfigMap{"emothe:image": {Value: img[0]}, "emothe:primaryRegion": {Value: "cdg"}})
		p := plan(t)
		var volume *stackctl.Change
		for i, c := range p.Risks {
			if c.Type == "flyio:index:Volume" {
				volume = &p.Risks[i]
			}
		}
		require.NotNil(t, volume, "risks: %+v", p.Risks)
		assert.Equal(t, apitype.OpReplace, volume.Op)
		assert.Contains(t, volume.Because, "region")
		md := p.Markdown()
		assert.True(t, strings.HasPrefix(md, "> [!WARNING]"), md)
		assert.Contains(t, md, "**replace** volume `"+volume.Name+"`, forced by `region`")
	})
}

// BenchmarkRollback times `make rollback` on the prod stack against the
// realistic fake: from a release that went out back to the one before, the
// release command and a blue-green rollout included.
func BenchmarkRollback(b *testing.B) {
	var total time.Duration
	for range b.N {
		b.StopTimer()
		_, s := openBench(b, "prod")
		require.NoError(b, up(b, s))
		s.SetConfig(b, auto.ConfigMap{"emothe:image": {Value: image2}})
		require.NoError(b, up(b, s))
		start := time.Now()
		b.StartTimer()
		_, err := stackctl.Rollback(context.Background(), s.St, "", &strings.Builder{})
		b.StopTimer()
		total += time.Since(start)
		require.NoError(b, err)
	}
	b.ReportMetric(idealRollout.Seconds(), "ideal-s")
	b.ReportMetric(total.Seconds()/float64(b.N)/idealRollout.Seconds(), "x-ideal")
}
