package stackctl

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRepairAttrsRemovesOnlyUnreadableMetadata(t *testing.T) {
	dir := t.TempDir()
	stacks := filepath.Join(dir, ".pulumi", "stacks", "emothe")
	require.NoError(t, os.MkdirAll(stacks, 0o700))
	files := map[string]string{
		"dev.json":              `{"version":3}`,
		"dev.json.attrs":        "", // cut short by a kill
		"dev.pulumi-tags.attrs": `{"user.cache_control":""`,
		"dev.json.bak.attrs":    `{"user.cache_control":"","md5":"abc"}`,
		"prod.json.attrs":       "", // another stack's: not ours to judge
		"dev-other.json.attrs":  "",
		"dev.pulumi-tags":       `{}`,
		"dev.json.bak":          `{"version":3}`,
	}
	for name, body := range files {
		require.NoError(t, os.WriteFile(filepath.Join(stacks, name), []byte(body), 0o600))
	}
	var out strings.Builder
	require.NoError(t, repairAttrs(dir, "emothe", "dev", &out))

	for name := range files {
		_, err := os.Stat(filepath.Join(stacks, name))
		gone := name == "dev.json.attrs" || name == "dev.pulumi-tags.attrs"
		assert.Equal(t, gone, os.IsNotExist(err), name)
	}
	assert.Equal(t, 2, strings.Count(out.String(), "recover: stack dev: removed"), out.String())
}
