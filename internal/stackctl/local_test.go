package stackctl

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLocalStackFileComesFromTheTemplateOnce(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "stacks"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(root, LocalTemplate), []byte("config:\n  emothe:appName: emothe-local\n"), 0o600))

	made, err := EnsureLocalStackFile(root)
	require.NoError(t, err)
	assert.True(t, made)
	file := filepath.Join(root, "Pulumi.local.yaml")
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.Equal(t, "config:\n  emothe:appName: emothe-local\n", string(b))

	// The developer's file, secrets and all, is never overwritten.
	require.NoError(t, os.WriteFile(file, []byte("encryptionsalt: x\n"), 0o600))
	made, err = EnsureLocalStackFile(root)
	require.NoError(t, err)
	assert.False(t, made)
	b, err = os.ReadFile(file)
	require.NoError(t, err)
	assert.Equal(t, "encryptionsalt: x\n", string(b))
}

func TestLocalStackFileNeedsItsTemplate(t *testing.T) {
	t.Parallel()
	_, err := EnsureLocalStackFile(t.TempDir())
	assert.ErrorContains(t, err, "the local stack's template")
}
