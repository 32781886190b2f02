package runbooks

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const sample = "# A page\n" +
	"\n" +
	"<!-- runbook: setup\n" +
	"make up\n" +
	"-->\n" +
	"\n" +
	"<!-- runbook: run; expect: \"created stack dev\"; exit: 2; expect: \"a \\\"quoted\\\" word\" -->\n" +
	"```sh\n" +
	"make stack STACK=dev\n" +
	"```\n" +
	"\n" +
	"1. In a list:\n" +
	"\n" +
	"   <!-- runbook: skip: needs flyctl -->\n" +
	"   ```sh\n" +
	"   fly status\n" +
	"   ```\n" +
	"\n" +
	"```yaml\n" +
	"config: {}\n" +
	"```\n"

func TestParseReadsEveryKind(t *testing.T) {
	blocks, enrolled, err := Parse(sample)
	require.NoError(t, err)
	assert.True(t, enrolled)
	assert.Equal(t, []Block{
		{Line: 3, Kind: Setup, Code: "make up\n"},
		{Line: 8, Kind: Run, Expect: []string{"created stack dev", `a "quoted" word`}, Exit: 2, Code: "make stack STACK=dev\n"},
		{Line: 15, Kind: Skip, Reason: "needs flyctl", Code: "fly status\n"},
	}, blocks)
}

func TestParseLeavesPagesWithoutMarkers(t *testing.T) {
	blocks, enrolled, err := Parse("# Plain\n\n```sh\nmake up\n```\n")
	require.NoError(t, err)
	assert.False(t, enrolled)
	assert.Empty(t, blocks)
}

// Each mistake is refused with the line to fix.
func TestParseRefusesMistakes(t *testing.T) {
	for name, tc := range map[string]struct{ text, want string }{
		"an unmarked block on an enrolled page": {
			"<!-- runbook: run -->\n```sh\nmake up\n```\n\n```bash\nmake test\n```\n",
			"line 6: this shell block has no marker"},
		"a skip without a reason": {"<!-- runbook: skip: -->\n```sh\nfly status\n```\n", "skip needs a reason"},
		"an unknown setting":      {"<!-- runbook: run; expct: \"x\" -->\n```sh\nls\n```\n", `unknown setting "expct"`},
		"an unquoted expectation": {"<!-- runbook: run; expect: done -->\n```sh\nls\n```\n", "quoted string"},
		"a marker before prose":   {"<!-- runbook: run -->\nSome text.\n```sh\nls\n```\n", "line 2: the marker of line 1 must be followed by its shell block"},
		"a marker before yaml":    {"<!-- runbook: run -->\n```yaml\na: 1\n```\n", "not a shell block"},
		"a marker at the end":     {"text\n<!-- runbook: run -->\n", "line 2: the marker has no shell block after it"},
		"an unclosed setup":       {"<!-- runbook: setup\nmake up\n", "no closing -->"},
		"an unclosed fence":       {"<!-- runbook: run -->\n```sh\nls\n", "never closed"},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := Parse(tc.text)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
