package stackctl

import (
	"context"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
)

// Preview runs `pulumi preview` and returns, with its result, the engine's
// structured events: what the plan and the drift report are built from,
// rather than from the preview's text.
func Preview(ctx context.Context, st auto.Stack, opts ...optpreview.Option) (auto.PreviewResult, []events.EngineEvent, error) {
	stream := make(chan events.EngineEvent)
	collected := make(chan []events.EngineEvent, 1)
	go func() {
		var all []events.EngineEvent
		for e := range stream {
			all = append(all, e)
		}
		collected <- all
	}()
	var given optpreview.Options // EventStreams replaces the caller's streams: keep them
	for _, o := range opts {
		o.ApplyOption(&given)
	}
	res, err := st.Preview(ctx, append(opts, optpreview.EventStreams(append(given.EventStreams, stream)...))...)
	return res, await(collected), err
}

// await returns what a stream's reader collected. The Automation API closes
// the stream once the CLI has sent its last event; a CLI that failed before
// connecting never opens it, so the wait is bounded.
func await[T any](collected <-chan T) T {
	var v T
	select {
	case v = <-collected:
	case <-time.After(10 * time.Second):
	}
	return v
}
