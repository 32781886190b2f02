package main

import (
	"context"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"

	"github.com/emothe/emothe/internal/stackctl"
)

// preview runs `pulumi preview --diff`, its text streamed, and writes the
// plan's Markdown summary, built from the engine's events, to summary (when
// not empty): the pull request comment opens with it.
func preview(ctx context.Context, st auto.Stack, summary string) error {
	_, evs, err := stackctl.Preview(ctx, st, optpreview.Diff(),
		optpreview.ProgressStreams(os.Stdout), optpreview.ErrorProgressStreams(os.Stderr))
	if summary == "" || err != nil {
		return err
	}
	return os.WriteFile(summary, []byte(stackctl.Summarize(evs).Markdown()), 0o644)
}
