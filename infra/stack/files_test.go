package stack

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

func readYAML(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", name))
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(b, v))
}

// Pulumi.yaml's typed config block must declare exactly Settings.
func TestProjectDeclaresEverySetting(t *testing.T) {
	var project struct {
		Name    string `yaml:"name"`
		Runtime string `yaml:"runtime"`
		Config  map[string]struct {
			Type        string `yaml:"type"`
			Description string `yaml:"description"`
			Secret      bool   `yaml:"secret"`
			Default     any    `yaml:"default"`
		} `yaml:"config"`
	}
	readYAML(t, "Pulumi.yaml", &project)
	assert.Equal(t, Namespace, project.Name)
	assert.Equal(t, "go", project.Runtime)
	require.Len(t, project.Config, len(Settings))
	for _, s := range Settings {
		d, ok := project.Config[s.Key]
		require.True(t, ok, "Pulumi.yaml lacks %s", s.Key)
		assert.Equal(t, string(s.Kind), d.Type, s.Key)
		assert.Equal(t, s.Description, d.Description, s.Key)
		assert.False(t, d.Secret, "%s: a secret declared secret in Pulumi.yaml cannot default, and the CLI would demand it", s.Key)
		require.NotNil(t, d.Default, "%s needs a default, or the CLI demands it on every stack", s.Key)
		got := fmt.Sprint(d.Default)
		if list, ok := d.Default.([]any); ok {
			b, _ := json.Marshal(list)
			got = string(b)
		}
		assert.Equal(t, s.Default, got, s.Key)
	}
}

// The committed stacks load cleanly once their secrets are set.
func TestStackFilesAreValid(t *testing.T) {
	for _, st := range []string{"dev", "prod"} {
		t.Run(st, func(t *testing.T) {
			var f struct {
				Config map[string]any `yaml:"config"`
			}
			readYAML(t, "Pulumi."+st+".yaml", &f)
			raw := Raw{Stack: st, Values: map[string]string{}, Secrets: map[string]bool{}}
			for k, v := range f.Config {
				key := k[len(Namespace)+1:]
				_, isMap := v.(map[string]any)
				assert.False(t, isMap, "%s: no secret may be committed in Pulumi.%s.yaml", k, st)
				if list, ok := v.([]any); ok {
					b, _ := json.Marshal(list)
					raw.Values[key] = string(b)
					continue
				}
				raw.Values[key] = fmt.Sprint(v)
			}
			raw.Values["secretKeyBase"], raw.Secrets["secretKeyBase"] = goodKey, true
			c, err := Load(raw)
			require.NoError(t, err)
			assert.Equal(t, "emothe-"+st, c.AppName)
			if st == "prod" {
				assert.True(t, c.Production())
				assert.True(t, c.Fly.ProtectDatabase)
				assert.Equal(t, "bluegreen", c.Fly.Strategy)
				assert.Equal(t, []string{"mad", "cdg"}, c.Fly.Regions)
			}
		})
	}
}

// The README's configuration reference documents every setting.
func TestReadmeDocumentsEverySetting(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	require.NoError(t, err)
	for _, s := range Settings {
		assert.Contains(t, string(b), "| `"+Namespace+":"+s.Key+"` |", "README lacks %s", s.Key)
	}
}
