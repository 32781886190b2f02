package stackctl

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An exported state shows a secret output as an object holding the JSON
// of its value (`pulumi stack export --show-secrets`).
func TestPlainString(t *testing.T) {
	s, err := plainString(json.RawMessage(`"abc123"`))
	require.NoError(t, err)
	assert.Equal(t, "abc123", s)

	s, err = plainString(json.RawMessage(`{"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "plaintext": "\"postgres://u:p@h/db\""}`))
	require.NoError(t, err)
	assert.Equal(t, "postgres://u:p@h/db", s)

	_, err = plainString(json.RawMessage(`{"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "v1:secretbytes"}`))
	require.Error(t, err, "a secret the export did not decrypt")
	assert.NotContains(t, err.Error(), "secretbytes")
	_, err = plainString(nil)
	require.Error(t, err, "no such output")
}
