package stackctl

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/stretchr/testify/assert"
)

func step(op apitype.OpType, typ, name string, keys, diffs []string) events.EngineEvent {
	return events.EngineEvent{EngineEvent: apitype.EngineEvent{ResourcePreEvent: &apitype.ResourcePreEvent{
		Metadata: apitype.StepEventMetadata{Op: op, Type: typ, URN: "urn:pulumi:dev::emothe::" + typ + "::" + name, Keys: keys, Diffs: diffs},
	}}}
}

func TestSummarizeVolumeReplacement(t *testing.T) {
	const vol = "flyio:index:Volume"
	p := Summarize([]events.EngineEvent{
		step(apitype.OpSame, "pulumi:pulumi:Stack", "emothe-dev", nil, nil),
		step(apitype.OpCreateReplacement, vol, "emothe-dev-db-data", []string{"region"}, []string{"region"}),
		step(apitype.OpReplace, vol, "emothe-dev-db-data", []string{"region"}, []string{"region"}),
		step(apitype.OpUpdate, "flyio:index:MachineGroup", "emothe-dev-db", nil, []string{"region"}),
		step(apitype.OpDeleteReplaced, vol, "emothe-dev-db-data", []string{"region"}, nil),
		step(apitype.OpDelete, "flyio:index:IPAddress", "emothe-dev-v4", nil, nil),
	})
	assert.Equal(t, map[apitype.OpType]int{"replace": 1, "update": 1, "delete": 1}, p.Counts)
	assert.Equal(t, []Change{
		{Op: "replace", Type: vol, Name: "emothe-dev-db-data", Because: []string{"region"}},
		{Op: "delete", Type: "flyio:index:IPAddress", Name: "emothe-dev-v4"},
	}, p.Risks)
	md := p.Markdown()
	assert.True(t, strings.HasPrefix(md, "> [!WARNING]"), "the warning comes first:\n%s", md)
	assert.Contains(t, md, "> - **replace** volume `emothe-dev-db-data`, forced by `region`")
	assert.Contains(t, md, "> - **delete** IP address `emothe-dev-v4`, removed from the program")
	assert.Contains(t, md, "**Plan:** 0 to create, 1 to update, 1 to replace, 1 to delete.")
}

func TestSummarizeImageBump(t *testing.T) {
	p := Summarize([]events.EngineEvent{
		step(apitype.OpUpdate, "pulumi:providers:flyio", "default", nil, []string{"token"}),
		step(apitype.OpSame, "flyio:index:App", "emothe-dev", nil, nil),
		step(apitype.OpUpdate, "flyio:index:MachineGroup", "emothe-dev-app", nil, []string{"image"}),
	})
	assert.Empty(t, p.Risks)
	assert.Equal(t, map[apitype.OpType]int{"update": 1}, p.Counts)
	md := p.Markdown()
	assert.NotContains(t, md, "WARNING")
	assert.Equal(t, "**Plan:** 0 to create, 1 to update, 0 to replace, 0 to delete.\n\n"+
		"| change | resource | type | properties |\n|---|---|---|---|\n"+
		"| update | `emothe-dev-app` | `flyio:index:MachineGroup` | `image` |\n", md)
}
