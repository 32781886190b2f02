package fly

import (
	"context"
	"fmt"
)

type progressKey struct{}

// WithProgress returns a context whose long-running calls (waits, lease
// refreshes) report what they are doing to report, e.g. to the Pulumi engine
// as status messages. report must be safe for concurrent use.
func WithProgress(ctx context.Context, report func(msg string)) context.Context {
	return context.WithValue(ctx, progressKey{}, report)
}

// reporter sends progress messages for one operation, skipping repeats so a
// poll loop does not flood the engine with the same line every second.
type reporter struct {
	report func(string)
	last   string
}

func newReporter(ctx context.Context) *reporter {
	r, _ := ctx.Value(progressKey{}).(func(string))
	return &reporter{report: r}
}

func (r *reporter) printf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if r.report == nil || msg == r.last {
		return
	}
	r.last = msg
	r.report(msg)
}
