package infra

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/emothe/emothe/infra/stack"
)

var update = flag.Bool("update", false, "rewrite Pulumi.yaml's config block and the README's table from the registry")

// root is the repository root, where the project files are.
func root(name string) string { return filepath.Join("..", name) }

// generated checks that file holds want from the line that starts with
// begin up to the first line that starts with end (or the end of the
// file); -update writes want there instead.
func generated(t *testing.T, file, begin, end, want string) {
	t.Helper()
	b, err := os.ReadFile(root(file))
	require.NoError(t, err)
	text := string(b)
	i := strings.Index(text, "\n"+begin)
	require.GreaterOrEqual(t, i, 0, "%s has no line starting with %q", file, begin)
	i++
	j := len(text)
	if k := strings.Index(text[i:], "\n"+end); end != "" && k >= 0 {
		j = i + k + 1
	}
	if *update {
		require.NoError(t, os.WriteFile(root(file), []byte(text[:i]+want+text[j:]), 0o644))
		return
	}
	assert.Equal(t, want, text[i:j], "%s is stale: go test ./infra -run TestProjectFiles -update", file)
}

// Pulumi.yaml's config block and the README's table are the registry's.
func TestProjectFiles(t *testing.T) {
	generated(t, "Pulumi.yaml", "config:", "", Backends.ProjectConfig())
	generated(t, "README.md", "| key | type | default | meaning |", "\n", Backends.ReadmeTable())
}

// Pulumi.yaml, as the CLI reads it, declares every setting untyped (the
// program checks types, naming key, value and fix) with a default (the CLI
// would demand a value otherwise), and no secret (a secret can have no
// default).
func TestProjectDeclaresEverySetting(t *testing.T) {
	var project struct {
		Name    string `yaml:"name"`
		Runtime string `yaml:"runtime"`
		Config  map[string]struct {
			Type        *string `yaml:"type"`
			Description string  `yaml:"description"`
			Secret      bool    `yaml:"secret"`
			Default     any     `yaml:"default"`
		} `yaml:"config"`
	}
	readYAML(t, "Pulumi.yaml", &project)
	assert.Equal(t, stack.Namespace, project.Name)
	assert.Equal(t, "go", project.Runtime)
	settings := Backends.Settings()
	require.Len(t, project.Config, len(settings), "a key declared twice")
	for _, s := range settings {
		d, ok := project.Config[s.Key]
		require.True(t, ok, "Pulumi.yaml lacks %s", s.Key)
		assert.Nil(t, d.Type, "%s: a typed setting is checked by the CLI, with no fix", s.Key)
		assert.False(t, d.Secret, s.Key)
		require.NotNil(t, d.Default, "%s needs a default, or the CLI demands it on every stack", s.Key)
		got := fmt.Sprint(d.Default)
		if list, ok := d.Default.([]any); ok {
			b, _ := json.Marshal(list)
			got = string(b)
		}
		assert.Equal(t, s.Default, got, s.Key)
	}
}

func readYAML(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(root(name))
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(b, v))
}

// stackRaw is the committed Pulumi.<name>.yaml as raw settings, with its
// secrets set.
func stackRaw(t *testing.T, name string) stack.Raw {
	t.Helper()
	var f struct {
		Config map[string]any `yaml:"config"`
	}
	file := "Pulumi." + name + ".yaml"
	if name == "local" {
		file = stackctlLocalTemplate // the local stack's own file is made from it on first use
	}
	readYAML(t, file, &f)
	raw := stack.Raw{Stack: name, Values: map[string]string{}, Secrets: map[string]bool{},
		Inputs: map[string]string{"flyio:token": "FlyV1 test-token"}}
	for k, v := range f.Config {
		key := k[len(stack.Namespace)+1:]
		_, isMap := v.(map[string]any)
		assert.False(t, isMap, "%s: no secret may be committed in Pulumi.%s.yaml", k, name)
		if list, ok := v.([]any); ok {
			b, _ := json.Marshal(list)
			raw.Values[key] = string(b)
			continue
		}
		raw.Values[key] = fmt.Sprint(v)
	}
	for _, k := range []string{"secretKeyBase", "databasePassword"} {
		raw.Values[k], raw.Secrets[k] = goodKey, true
	}
	return raw
}

// stackctlLocalTemplate is internal/stackctl's LocalTemplate (that package
// imports this one).
const stackctlLocalTemplate = "stacks/local.yaml"

// The committed stacks load cleanly once their secrets are set.
func TestStackFilesAreValid(t *testing.T) {
	for _, st := range []string{"dev", "prod", "local"} {
		t.Run(st, func(t *testing.T) {
			l, err := Backends.Load(stackRaw(t, st))
			require.NoError(t, err)
			c := l.Config
			assert.Equal(t, "emothe-"+st, c.AppName)
			if st == "prod" {
				assert.True(t, c.Production())
				assert.True(t, c.KeepData())
			}
		})
	}
}
