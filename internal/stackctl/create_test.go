package stackctl

import (
	"regexp"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/emothe/emothe/infra/stack"
)

// The written stack file is YAML that sets the backend and an app name the
// loader accepts, and names every other setting, commented out.
func TestStackFile(t *testing.T) {
	compose, ok := platformNamed("compose")
	require.True(t, ok)
	fly, ok := platformNamed("fly")
	require.True(t, ok)
	text := StackFile("Staging_2", compose)
	var f struct{ Config map[string]string }
	require.NoError(t, yaml.Unmarshal([]byte(text), &f))
	assert.Equal(t, map[string]string{"emothe:backend": "compose", "emothe:appName": "emothe-staging-2"}, f.Config)
	for _, s := range slices.Concat(stack.Settings, compose.Settings) {
		assert.Regexp(t, regexp.QuoteMeta(stack.Namespace+":"+s.Key)+"[: ]", text, "setting %s", s.Key)
	}
	for _, s := range fly.Settings {
		assert.NotRegexp(t, regexp.QuoteMeta(stack.Namespace+":"+s.Key)+"[: ]", text, "fly's setting %s", s.Key)
	}
	assert.Contains(t, text, "make secrets STACK=Staging_2")
}
