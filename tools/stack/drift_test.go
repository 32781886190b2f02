package main

import (
	"errors"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/stretchr/testify/assert"
)

func pre(op apitype.OpType, urn string, diffs ...string) events.EngineEvent {
	return preOf("flyio:index:App", op, urn, diffs...)
}

func preOf(typ string, op apitype.OpType, urn string, diffs ...string) events.EngineEvent {
	return events.EngineEvent{EngineEvent: apitype.EngineEvent{ResourcePreEvent: &apitype.ResourcePreEvent{
		Metadata: apitype.StepEventMetadata{Op: op, URN: urn, Type: typ, Diffs: diffs},
	}}}
}

func summary(changes map[apitype.OpType]int) events.EngineEvent {
	return events.EngineEvent{EngineEvent: apitype.EngineEvent{SummaryEvent: &apitype.SummaryEvent{ResourceChanges: changes, IsPreview: true}}}
}

func diagnostic(severity, msg string) events.EngineEvent {
	return events.EngineEvent{EngineEvent: apitype.EngineEvent{DiagnosticEvent: &apitype.DiagnosticEvent{Severity: severity, Message: msg}}}
}

// failedPreview is how the CLI's failure reaches the Automation API: one
// error carrying the whole output.
var failedPreview = errors.New("failed to run preview: exit status 1\ncode: 1\nstdout: ...\nstderr: error: preview failed\n")

func TestClassify(t *testing.T) {
	const (
		app      = "urn:pulumi:dev::emothe::flyio:index:App::emothe-dev"
		provider = "urn:pulumi:dev::emothe::pulumi:providers:flyio::default"
		volume   = "urn:pulumi:dev::emothe::flyio:index:Volume::emothe-dev-db-data"
	)
	tests := []struct {
		name   string
		events []events.EngineEvent
		err    error
		want   driftReport
	}{{
		name: "refreshed, unchanged and read resources are clean",
		events: []events.EngineEvent{
			pre(apitype.OpRefresh, app), pre(apitype.OpSame, app), pre(apitype.OpRead, app),
			summary(map[apitype.OpType]int{"same": 4, "read": 1}),
		},
		want: driftReport{Stack: "dev", Status: statusClean},
	}, {
		name: "a proposed update is drift, even though the preview failed",
		events: []events.EngineEvent{
			diagnostic("warning", "refresh found changes"),
			pre(apitype.OpSame, app+"x"), pre(apitype.OpUpdate, app, "autostop", "machineCount"),
			summary(map[apitype.OpType]int{"same": 4, "update": 1}),
		},
		err: failedPreview,
		want: driftReport{Stack: "dev", Status: statusDrift, Changes: map[string]int{"update": 1},
			Resources: []driftedResource{{URN: app, Type: "flyio:index:App", Op: "update", Diffs: []string{"autostop", "machineCount"}}}},
	}, {
		name: "a provider whose token or API URL changed is not drift, and is reported apart",
		events: []events.EngineEvent{
			preOf("pulumi:providers:flyio", apitype.OpUpdate, provider, "token"), pre(apitype.OpSame, app),
			summary(map[apitype.OpType]int{"same": 4, "update": 1}),
		},
		want: driftReport{Stack: "dev", Status: statusClean,
			Providers: []driftedResource{{URN: provider, Type: "pulumi:providers:flyio", Op: "update", Diffs: []string{"token"}}}},
	}, {
		name: "a replacement is one change, not its three steps",
		events: []events.EngineEvent{
			preOf("flyio:index:Volume", apitype.OpCreateReplacement, volume), preOf("flyio:index:Volume", apitype.OpReplace, volume, "region"),
			preOf("flyio:index:Volume", apitype.OpDeleteReplaced, volume),
			summary(map[apitype.OpType]int{"same": 4, "replace": 1}),
		},
		want: driftReport{Stack: "dev", Status: statusDrift, Changes: map[string]int{"replace": 1},
			Resources: []driftedResource{{URN: volume, Type: "flyio:index:Volume", Op: "replace", Diffs: []string{"region"}}}},
	}, {
		name: "an error diagnostic is an error, whatever else was proposed",
		events: []events.EngineEvent{
			pre(apitype.OpCreate, app), diagnostic("error", "<{%fg 1%}>flyio:token is not set<{%reset%}>"),
			summary(map[apitype.OpType]int{"create": 1}),
		},
		err: errors.New("failed to run preview: exit status 1"),
		want: driftReport{Stack: "dev", Status: statusError, Changes: map[string]int{"create": 1},
			Resources: []driftedResource{{URN: app, Type: "flyio:index:App", Op: "create"}},
			Errors:    []string{"flyio:token is not set"}},
	}, {
		name: "a run that never reached a summary is an error with the CLI's error lines",
		err:  errors.New("failed to run preview: exit status 255\ncode: 255\nstdout: \nstderr: error: PULUMI_ACCESS_TOKEN must be set for login during non-interactive CLI sessions\n"),
		want: driftReport{Stack: "dev", Status: statusError,
			Errors: []string{"error: PULUMI_ACCESS_TOKEN must be set for login during non-interactive CLI sessions"}},
	}, {
		name:   "a failure with nothing proposed is an error, not clean",
		events: []events.EngineEvent{summary(map[apitype.OpType]int{"same": 2})},
		err:    errors.New("failed to run preview: context canceled"),
		want:   driftReport{Stack: "dev", Status: statusError, Errors: []string{"failed to run preview: context canceled"}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, classify("dev", tt.events, tt.err))
		})
	}
}
