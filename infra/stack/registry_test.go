package stack

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const goodKey = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// platform is a backend named name with one integer setting, its own.
func platform(name string) Platform {
	return Platform{
		Name: name, About: "the " + name + " platform",
		Settings: []Setting{{Key: name + "Count", Kind: KindInteger, Default: "1", Description: "How many."}},
		Load: func(r *Reader, _ *Config) Deployer {
			r.Integer(name+"Count", 1, 3)
			return nil
		},
	}
}

func raw(kv ...string) Raw {
	r := Raw{Stack: "dev", Values: map[string]string{"appName": "emothe-dev", "secretKeyBase": goodKey},
		Secrets: map[string]bool{"secretKeyBase": true}}
	for i := 0; i+1 < len(kv); i += 2 {
		r.Values[kv[i]] = kv[i+1]
	}
	return r
}

func TestBackendSettingComesFromTheRegistry(t *testing.T) {
	one := Registry{platform("a")}.Settings()[0]
	assert.Equal(t, Setting{Key: "backend", Kind: KindString, Default: "a", Description: "Where Emothe runs: a (the a platform)."}, one)
	three := Registry{platform("a"), platform("b"), platform("c")}.Settings()
	assert.Equal(t, "Where Emothe runs: a (the a platform), b (the b platform) or c (the c platform).", three[0].Description)
	assert.Len(t, three, len(Settings)+3)
}

func TestOnlyTheSelectedBackendReadsItsSettings(t *testing.T) {
	g := Registry{platform("a"), platform("b")}
	_, err := g.Load(raw("bCount", "9"))
	require.NoError(t, err, "a stack of backend a does not read b's settings")
	_, err = g.Load(raw("backend", "b", "bCount", "9"))
	require.Error(t, err)
	assert.Equal(t, []string{`emothe:bCount = "9" is not a whole number from 1 to 3; fix: pulumi config set emothe:bCount 1`},
		err.(*ConfigError).Problems)

	_, err = LoadBackend(raw("backend", "b"), platform("a"), func(*Reader, *Config) int { return 0 })
	require.ErrorContains(t, err, `emothe:backend = "b" is not one of a`)
}

func TestReaderNeverShowsASecretAndRefusesPlainText(t *testing.T) {
	r := newReader(raw(), Settings)
	r.Fail("secretKeyBase", goodKey, "is wrong", "none")
	plain := raw("databasePassword", "hunter2")
	r2 := newReader(plain, Settings)
	assert.False(t, r2.Secret("databasePassword").Set(), "a secret in plain text is not used")
	require.Error(t, r.err())
	assert.Equal(t, []string{"emothe:secretKeyBase = [secret] is wrong; fix: none"}, r.problems)
	assert.Contains(t, r2.err().Error(), "emothe:databasePassword is stored in plain text")
	assert.NotContains(t, r2.err().Error(), "hunter2")
}

func TestProjectConfigAndReadmeRows(t *testing.T) {
	g := Registry{platform("a")}
	assert.Contains(t, g.ProjectConfig(), "config:\n  backend:\n    description: \"Where Emothe runs: a (the a platform).\"\n    default: \"a\"\n")
	assert.Contains(t, g.ProjectConfig(), "  aCount:\n    description: \"How many.\"\n    default: 1\n")
	assert.NotContains(t, g.ProjectConfig(), "type:", "the CLI must not check types")
	table := g.ReadmeTable()
	assert.Contains(t, table, "| `emothe:aCount` | integer | `1` | How many. |")
	assert.Contains(t, table, "| `emothe:secretKeyBase` | string | secret |")
	assert.Contains(t, table, "| `emothe:appName` | string | — |")
}

func TestRawFromConfigFeedsRefuseDestroy(t *testing.T) {
	g := Registry{platform("a")}
	g[0].Runbook = "docs/a.md#destroy"
	cfg := auto.ConfigMap{
		"emothe:protectDatabase": {Value: "true"},
		"emothe:secretKeyBase":   {Value: goodKey, Secret: true},
		"flyio:token":            {Value: "tok", Secret: true},
	}
	raw := RawFromConfig("prod", cfg)
	assert.Equal(t, "true", raw.Values["protectDatabase"])
	assert.True(t, raw.Secrets["secretKeyBase"])
	assert.Equal(t, "tok", raw.Inputs["flyio:token"])
	err := g.RefuseDestroy(raw)
	require.ErrorIs(t, err, ErrProtected)
	assert.Contains(t, err.Error(), "docs/a.md#destroy")
	assert.Contains(t, err.Error(), "stack prod")
	assert.NoError(t, g.RefuseDestroy(RawFromConfig("dev", auto.ConfigMap{})))
}
