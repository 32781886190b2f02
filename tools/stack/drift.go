package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag/colors"

	"github.com/emothe/emothe/internal/stackctl"
)

// Drift statuses, as the report's "status" field spells them.
const (
	statusClean = "clean"
	statusDrift = "drift"
	statusError = "error"
)

// driftReport is what `stack drift` prints on stdout; the command fails
// alike for drift and for errors, and the report is how a caller (drift.yml)
// tells them apart.
type driftReport struct {
	Stack  string `json:"stack"`
	Status string `json:"status"`
	// Changes counts the proposed operations by kind, as the preview
	// summary does (creates, updates, deletes, replaces).
	Changes map[string]int `json:"changes,omitempty"`
	// Resources are the resources the refreshed stack would change.
	Resources []driftedResource `json:"resources,omitempty"`
	// Providers are provider resources whose own configuration differs
	// (a rotated token, another API URL). That is not drift: no resource
	// changes, and the next `up` records the new configuration.
	Providers []driftedResource `json:"providers,omitempty"`
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

// noChange are the operations that leave a resource as it is: "same", and
// the refresh steps of --refresh, which only read; what a refresh finds
// shows in the steps after it.
var noChange = []apitype.OpType{
	apitype.OpSame, apitype.OpRead, apitype.OpReadDiscard, apitype.OpReadReplacement, apitype.OpRefresh,
}

// replaceSteps are the steps of a replacement besides the "replace" step,
// which alone stands for it.
var replaceSteps = []apitype.OpType{apitype.OpCreateReplacement, apitype.OpDeleteReplaced, apitype.OpDiscardReplaced}

// drift previews st with a refresh first and prints the report as JSON on
// out (the human-readable preview goes to progress). It fails both when the
// stack drifted and when the preview failed. The preview does not use
// --expect-no-changes: that fails on a provider's new token as on drift.
func drift(ctx context.Context, st auto.Stack, out, progress io.Writer) error {
	var report driftReport
	err := stackctl.Check(ctx, st, nil)
	if err != nil {
		report = driftReport{Stack: st.Name(), Status: statusError, Errors: []string{err.Error()}}
	} else {
		var evs []events.EngineEvent
		_, evs, err = stackctl.Preview(ctx, st, optpreview.Refresh(), optpreview.Diff(),
			optpreview.ProgressStreams(progress), optpreview.ErrorProgressStreams(progress))
		report = classify(st.Name(), evs, err)
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // commands in errors keep their <placeholders>
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
	summarized := false
	for _, e := range evs {
		switch {
		case e.Error != nil:
			r.Errors = append(r.Errors, "event stream: "+e.Error.Error())
		case e.DiagnosticEvent != nil && e.DiagnosticEvent.Severity == "error":
			r.Errors = append(r.Errors, colors.Never.Colorize(e.DiagnosticEvent.Message))
		case e.ResourcePreEvent != nil:
			m := e.ResourcePreEvent.Metadata
			if slices.Contains(noChange, m.Op) || slices.Contains(replaceSteps, m.Op) {
				continue
			}
			d := driftedResource{URN: m.URN, Type: m.Type, Op: string(m.Op), Diffs: m.Diffs}
			if strings.HasPrefix(m.Type, "pulumi:providers:") {
				r.Providers = append(r.Providers, d)
				continue
			}
			r.Resources = append(r.Resources, d)
			if r.Changes == nil {
				r.Changes = map[string]int{}
			}
			r.Changes[d.Op]++
		case e.SummaryEvent != nil:
			summarized = true
		}
	}
	switch {
	case len(r.Errors) > 0:
		r.Status = statusError
	case !summarized && previewErr != nil:
		// No summary: the preview never got as far as proposing anything.
		r.Status = statusError
		r.Errors = errorLines(previewErr)
	case len(r.Resources) > 0:
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
