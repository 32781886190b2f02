package compose

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/internal/datamove"
	"github.com/emothe/emothe/internal/stackctl"
)

// BenchmarkNoopUp times a second `pulumi up` of an unchanged local stack
// with the real docker plugin, and reports the resources it changed (the
// goal is zero).
func BenchmarkNoopUp(b *testing.B) {
	imgs := buildImages(b)
	p := newProject(b, imgs.appA)
	s := newStack(b, p.config, stackSecrets())
	s.up(b)
	var changed int
	var took time.Duration
	for b.Loop() {
		start := time.Now()
		changed += len(s.up(b))
		took += time.Since(start)
	}
	b.ReportMetric(float64(changed)/float64(b.N), "changes")
	b.ReportMetric(took.Seconds()/float64(b.N), "up-s")
}

// BenchmarkImageUpdateUnderLoad rolls the app between two images through
// a real `pulumi up`, with a steady load through the proxy, and reports the
// requests that failed per update (the goal is zero), the update's wall
// time, and the requests' latency: the mean of each update's p99 and the
// slowest request of all.
func BenchmarkImageUpdateUnderLoad(b *testing.B) {
	imgs, p, s := deployed(b)
	next := []string{imgs.appB, imgs.appA}
	var updates, sent, failed int64
	var took, p99s, slowest time.Duration
	for b.Loop() {
		s.set(b, map[string]string{"image": next[updates%2]})
		l := startLoad(p.base+"/api/plays", loadRate)
		start := time.Now()
		s.up(b)
		took += time.Since(start)
		load := l.finish()
		if load.failed > 0 {
			b.Logf("update %d: %s; first failure: %s", updates+1, load, load.first)
		}
		updates++
		sent += load.sent
		failed += load.failed
		p99s += load.p99
		slowest = max(slowest, load.max)
	}
	b.ReportMetric(float64(failed)/float64(updates), "failed")
	b.ReportMetric(took.Seconds()/float64(updates), "update-s")
	b.ReportMetric(float64(sent)/float64(updates), "requests")
	b.ReportMetric(float64(p99s.Milliseconds())/float64(updates), "p99-ms")
	b.ReportMetric(float64(slowest.Milliseconds()), "max-ms")
}

// BenchmarkMoveData moves 100,000 plays (and the seeded catalogue) from
// one Compose stack to another through `make move-data`'s code, the
// target's app stopped and started again, and reports a move's wall time,
// the part of it after both stacks were read through the Pulumi CLI (the
// copy, from the first count to the app serving again), rows per second
// of the wall time, and the dump's size.
func BenchmarkMoveData(b *testing.B) {
	p := newPair(b)
	p.pa.seed(b, 100_000)
	var rows, bytes int64
	var wall, copied time.Duration
	for b.Loop() {
		start := time.Now()
		rep, err := stackctl.MoveData(context.Background(), p.a.root, p.a.name, p.b.name, datamove.Options{Force: true})
		wall += time.Since(start)
		require.NoError(b, err)
		rows += rep.Rows
		bytes += rep.Bytes
		copied += rep.Duration
	}
	b.ReportMetric(wall.Seconds()/float64(b.N), "wall-s")
	b.ReportMetric(copied.Seconds()/float64(b.N), "copy-s")
	b.ReportMetric(float64(rows)/wall.Seconds(), "rows/s")
	b.ReportMetric(float64(rows)/float64(b.N), "rows")
	b.ReportMetric(float64(bytes)/1e6/float64(b.N), "dump-MB")
}

// BenchmarkRecoveryAfterKill times the `make up` that follows a SIGKILL of
// `pulumi` during an app replacement (stackctl.Recover, then the up, which
// redoes the image change), against a normal image update of the same
// stack, and reports both.
func BenchmarkRecoveryAfterKill(b *testing.B) {
	imgs, p, s := deployed(b)
	image := imgs.appA
	flip := func() {
		image = map[string]string{imgs.appA: imgs.appB, imgs.appB: imgs.appA}[image]
		s.set(b, map[string]string{"image": image})
	}
	var n int
	var update, recovery time.Duration
	for b.Loop() {
		flip()
		start := time.Now()
		s.up(b)
		update += time.Since(start)

		flip()
		old := p.ids(b, "app")
		s.killedUp(b, func() bool { return len(p.ids(b, "app")) > len(old) })
		start = time.Now()
		require.NoError(b, stackctl.Recover(context.Background(), s.st, io.Discard))
		s.up(b)
		recovery += time.Since(start)
		p.requireMatchesState(b, s)
		n++
	}
	b.ReportMetric(update.Seconds()/float64(n), "update-s")
	b.ReportMetric(recovery.Seconds()/float64(n), "recovery-s")
}
