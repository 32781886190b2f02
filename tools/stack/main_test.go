package main

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// A failed CLI run's error carries the output the CLI already streamed; the
// last line keeps only what failed, so the output appears once.
func TestMessageDropsTheStreamedOutput(t *testing.T) {
	streamed := errors.New("failed to run update: exit status 255\ncode: 255\nstdout: Updating (dev):\n  error: emothe:appName is not set\nstderr: \n")
	assert.Equal(t, "rollback of stack dev to x: failed to run update: exit status 255; the engine's output above says why",
		message(fmt.Errorf("rollback of stack dev to x: %w", streamed)))
	assert.Equal(t, `unknown stack "prdo": …`, message(errors.New(`unknown stack "prdo": …`)), "an error of the tool's own is kept whole")
}
