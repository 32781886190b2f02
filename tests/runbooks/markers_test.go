package runbooks

import (
	"os"
	"path/filepath"
	"strings"
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

// The shell fails a block on its exit status and on a missing text, naming
// the page, the line and the command, and carries exports to the next block.
func TestShellFailsAndCarriesExports(t *testing.T) {
	sh := shell{dir: t.TempDir(), env: os.Environ(), exports: filepath.Join(t.TempDir(), "exports"),
		subst: strings.NewReplacer("<org-slug>", "personal")}

	_, err := sh.run("docs/x.md", Block{Line: 7, Kind: Run, Code: "export ORG=<org-slug>\necho one\nfalse\necho never\n"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "docs/x.md:7: exit status 1, want 0")
	assert.Contains(t, err.Error(), "runbook: failed: false")
	assert.True(t, strings.HasSuffix(err.Error(), "its output:\none\nrunbook: failed: false\n"), "it stops at the failure: %v", err)

	out, err := sh.run("docs/x.md", Block{Line: 9, Kind: Run, Code: "echo org=$ORG\n", Expect: []string{"org=<org-slug>"}})
	require.NoError(t, err, "the export of the failed block carries over, substituted")
	assert.Equal(t, "org=personal\n", out)

	_, err = sh.run("docs/x.md", Block{Line: 11, Kind: Run, Code: "echo done\n", Expect: []string{"created"}})
	require.ErrorContains(t, err, `docs/x.md:11: the output lacks "created"`)

	_, err = sh.run("docs/x.md", Block{Line: 13, Kind: Run, Code: "exit 2\n", Exit: 2})
	require.NoError(t, err, "an exit status the marker asks for")
	_, err = sh.run("docs/x.md", Block{Line: 15, Kind: Run, Code: "echo drift\n", Exit: 2})
	require.ErrorContains(t, err, "exit status 0, want 2")
}
