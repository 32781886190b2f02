package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag/colors"
)

// Drift statuses, as the report's "status" field spells them.
const (
	statusClean = "clean"
	statusDrift = "drift"
	statusError = "error"
)

// driftReport is what `stack drift` prints on stdout. `preview --refresh
// --expect-no-changes` fails the same way for drift and for errors; the
// report is how a caller (drift.yml) tells them apart.
type driftReport struct {
	Stack  string `json:"stack"`
	Status string `json:"status"`
	// Changes counts the proposed operations by kind, as the preview
	// summary does (creates, updates, deletes, replaces).
	Changes map[string]int `json:"changes,omitempty"`
	// Resources are the resources the refreshed stack would change.
	Resources []driftedResource `json:"resources,omitempty"`
	// Errors are the error diagnostics, or the failure, of an errored run.
	Errors []string `json:"errors,omitempty"`
}

type driftedResource struct {
	URN  string `json:"urn"`
	Type string `json:"type"`
	Op   string `json:"op"`
	// Diffs names the properties that differ, never their values.
	Diffs []string `json:"diffs,omitempty"`
}

// noChange are the operations that leave a resource as it is: those the
// engine's --expect-no-changes ignores, and the refresh steps of --refresh,
// which only read; what a refresh finds shows in the steps after it.
var noChange = []apitype.OpType{
	apitype.OpSame, apitype.OpRead, apitype.OpReadDiscard, apitype.OpReadReplacement, apitype.OpRefresh,
}

// drift previews st with a refresh first, expecting no changes, and prints
// the report as JSON on out (the human-readable preview goes to progress).
// It fails both when the stack drifted and when the preview failed.
func drift(ctx context.Context, st auto.Stack, out, progress io.Writer) error {
	stream := make(chan events.EngineEvent)
	collected := make(chan []events.EngineEvent, 1)
	go func() {
		var all []events.EngineEvent
		for e := range stream {
			all = append(all, e)
		}
		collected <- all
	}()
	_, err := st.Preview(ctx, optpreview.Refresh(), optpreview.ExpectNoChanges(), optpreview.Diff(),
		optpreview.EventStreams(stream), optpreview.ProgressStreams(progress), optpreview.ErrorProgressStreams(progress))

	// The stream closes once the CLI has sent its last event; a CLI that
	// failed before connecting never opens it.
	var evs []events.EngineEvent
	select {
	case evs = <-collected:
	case <-time.After(10 * time.Second):
	}
	report := classify(st.Name(), evs, err)
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	if encErr := enc.Encode(report); encErr != nil {
		return fmt.Errorf("write the drift report: %w", encErr)
	}
	switch report.Status {
	case statusDrift:
		return fmt.Errorf("stack %s has drifted: %d resources would change (see the report)", st.Name(), len(report.Resources))
	case statusError:
		if err == nil {
			err = errors.New(report.Errors[0])
		}
		return fmt.Errorf("drift check of stack %s failed: %w", st.Name(), err)
	}
	return nil
}

// classify turns a preview's events and error into a report. Error
// diagnostics win over proposed changes: a failed refresh or program can
// propose changes that are not drift at all.
func classify(stack string, evs []events.EngineEvent, previewErr error) driftReport {
	r := driftReport{Stack: stack, Status: statusClean}
	var summary *apitype.SummaryEvent
	for _, e := range evs {
		switch {
		case e.Error != nil:
			r.Errors = append(r.Errors, "event stream: "+e.Error.Error())
		case e.DiagnosticEvent != nil && e.DiagnosticEvent.Severity == "error":
			r.Errors = append(r.Errors, colors.Never.Colorize(e.DiagnosticEvent.Message))
		case e.ResourcePreEvent != nil:
			m := e.ResourcePreEvent.Metadata
			if !slices.Contains(noChange, m.Op) {
				r.Resources = append(r.Resources, driftedResource{URN: m.URN, Type: m.Type, Op: string(m.Op), Diffs: m.Diffs})
			}
		case e.SummaryEvent != nil:
			summary = e.SummaryEvent
		}
	}
	if summary != nil {
		for op, n := range summary.ResourceChanges {
			if n > 0 && !slices.Contains(noChange, op) {
				if r.Changes == nil {
					r.Changes = map[string]int{}
				}
				r.Changes[string(op)] = n
			}
		}
	}
	switch {
	case len(r.Errors) > 0:
		r.Status = statusError
	case summary == nil && previewErr != nil:
		// No summary: the preview never got as far as proposing anything.
		r.Status = statusError
		r.Errors = errorLines(previewErr)
	case len(r.Changes) > 0 || len(r.Resources) > 0:
		r.Status = statusDrift
	case previewErr != nil:
		r.Status = statusError
		r.Errors = errorLines(previewErr)
	}
	return r
}

// errorLines keeps what matters of a failed CLI run, whose error carries its
// whole output ("…\nstdout: …\nstderr: …"): the "error:" lines, else the
// first line.
func errorLines(err error) []string {
	var out []string
	for _, line := range strings.Split(err.Error(), "\n") {
		line = strings.TrimPrefix(strings.TrimSpace(line), "stderr: ")
		if strings.HasPrefix(line, "error:") && !slices.Contains(out, line) {
			out = append(out, line)
		}
	}
	if len(out) == 0 {
		first, _, _ := strings.Cut(err.Error(), "\n")
		out = []string{first}
	}
	return out
}
