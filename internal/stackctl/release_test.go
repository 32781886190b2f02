package stackctl

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	v1 = "registry.fly.io/emothe@sha256:1111111111111111111111111111111111111111111111111111111111111111"
	v2 = "registry.fly.io/emothe@sha256:2222222222222222222222222222222222222222222222222222222222222222"
	v3 = "registry.fly.io/emothe@sha256:3333333333333333333333333333333333333333333333333333333333333333"
)

var t0 = time.Date(2026, 12, 3, 7, 0, 0, 0, time.UTC)

func ok(image string, h int) Release {
	return Release{OK: true, Time: t0.Add(time.Duration(h) * time.Hour), Image: image}
}

func failed(image string, h int) Release {
	return Release{Time: t0.Add(time.Duration(h) * time.Hour), Image: image}
}

func TestReleaseRoundTrip(t *testing.T) {
	for _, r := range []Release{ok(v1, 0), failed(v2, 1), failed("", 2)} {
		got, err := parseRelease(r.String())
		require.NoError(t, err)
		assert.Equal(t, r, got)
		// Pulumi Cloud refuses longer tag values.
		assert.LessOrEqual(t, len(r.String()), 256)
	}
	_, err := parseRelease("deployed " + v1)
	assert.Error(t, err)
}

func TestRollbackTarget(t *testing.T) {
	tests := []struct {
		name    string
		history []Release // newest first
		want    Release
		wantErr string
	}{{
		name:    "a release that went out and misbehaves: back to the one before",
		history: []Release{ok(v2, 2), ok(v1, 1)},
		want:    ok(v1, 1),
	}, {
		name:    "a release whose rollout failed: back to the last good one, even though it is the newest success",
		history: []Release{failed(v2, 2), ok(v1, 1), ok(v3, 0)},
		want:    ok(v1, 1),
	}, {
		name:    "a failed build whose image is unknown: back to the last good one",
		history: []Release{failed("", 2), ok(v1, 1)},
		want:    ok(v1, 1),
	}, {
		name:    "releases of the same image are skipped",
		history: []Release{ok(v2, 3), failed(v3, 2), ok(v2, 1), ok(v1, 0)},
		want:    ok(v1, 0),
	}, {
		name:    "a second rollback undoes the first",
		history: []Release{ok(v1, 3), ok(v2, 2), ok(v1, 1)},
		want:    ok(v2, 2),
	}, {
		name:    "one release only: nothing to go back to",
		history: []Release{ok(v1, 1)},
		wantErr: "no earlier successful release than " + v1,
	}, {
		name:    "nothing recorded",
		wantErr: "no release is recorded",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RollbackTarget(tt.history)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
