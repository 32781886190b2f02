// Package workflows tests .github/workflows: their shape (pins, permissions,
// matrices, concurrency, entry points), their scripts, and their jobs run
// step by step as GitHub would run them, against the Fly fake, so the
// workflows cannot drift from what actually works.
package workflows

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/emothe/emothe/internal/testenv"
	"github.com/emothe/emothe/tests/e2e/harness"
)

func TestMain(m *testing.M) { harness.Main(m) }

// workflow is the part of a workflow file these tests read.
type workflow struct {
	Name        string
	On          map[string]yaml.Node
	Permissions map[string]string
	Concurrency *concurrency
	Env         map[string]string
	Jobs        map[string]*job

	file string // path relative to the repository root
	raw  string
}

type concurrency struct {
	Group            string
	CancelInProgress bool `yaml:"cancel-in-progress"`
}

type job struct {
	Name        string
	If          string
	Environment yaml.Node // a name, or {name, url}
	Permissions map[string]string
	Concurrency *concurrency
	Container   yaml.Node
	Strategy    struct {
		Matrix struct {
			Include []map[string]string
		}
	}
	Env   map[string]string
	Steps []step
}

type step struct {
	ID   string
	Name string
	If   string
	Uses string
	Run  string
	Env  map[string]string
	With map[string]string
}

// environment is the job's GitHub environment name.
func (j *job) environment() string {
	if j.Environment.Kind == yaml.MappingNode {
		var e struct{ Name string }
		_ = j.Environment.Decode(&e)
		return e.Name
	}
	return j.Environment.Value
}

// step finds a step by name.
func (j *job) step(t *testing.T, name string) step {
	t.Helper()
	for _, s := range j.Steps {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no step %q", name)
	return step{}
}

// stacks are the matrix's stack names.
func (j *job) stacks() []string {
	var out []string
	for _, m := range j.Strategy.Matrix.Include {
		out = append(out, m["stack"])
	}
	return out
}

// load reads .github/workflows/<name>.
func load(t *testing.T, name string) *workflow {
	t.Helper()
	file := filepath.Join(".github", "workflows", name)
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), file))
	if err != nil {
		t.Fatalf("read %s: %v", file, err)
	}
	w := &workflow{file: file, raw: string(b)}
	if err := yaml.Unmarshal(b, w); err != nil {
		t.Fatalf("parse %s: %v", file, err)
	}
	return w
}

// job finds a job by ID.
func (w *workflow) job(t *testing.T, id string) *job {
	t.Helper()
	j, ok := w.Jobs[id]
	if !ok {
		t.Fatalf("%s has no job %q", w.file, id)
	}
	return j
}

// ghContext is what GitHub evaluates ${{ }} expressions and `if:` against:
// flat values ("matrix.stack", "secrets.FLY_API_TOKEN", "github.ref", …)
// and the outcomes and outputs of the job's steps so far. Referring to
// anything else is an error, so a workflow that starts to depend on a new
// value fails these tests until they provide it.
type ghContext struct {
	values map[string]string
	steps  map[string]stepState
}

type stepState struct {
	outcome string
	outputs map[string]string
}

var exprRef = regexp.MustCompile(`\$\{\{\s*(.*?)\s*\}\}`)

// expand replaces every ${{ expr }} in s.
func (c *ghContext) expand(s string) (string, error) {
	var firstErr error
	out := exprRef.ReplaceAllStringFunc(s, func(m string) string {
		v, err := c.eval(exprRef.FindStringSubmatch(m)[1])
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return v
	})
	return out, firstErr
}

// eval evaluates the expressions the workflows use: operands joined by
// ==, !=, && and || (no parentheses), always(), startsWith(a, b),
// 'literals' and context references. Comparisons give "true" or "false";
// anything else is an unknown reference, hence an error.
func (c *ghContext) eval(expr string) (string, error) {
	expr = strings.TrimSpace(expr)
	if alts := strings.Split(expr, "||"); len(alts) > 1 {
		for _, a := range alts {
			v, err := c.eval(a)
			if err != nil {
				return "", err
			}
			if truthy(v) {
				return "true", nil
			}
		}
		return "false", nil
	}
	if all := strings.Split(expr, "&&"); len(all) > 1 {
		for _, a := range all {
			v, err := c.eval(a)
			if err != nil {
				return "", err
			}
			if !truthy(v) {
				return "false", nil
			}
		}
		return "true", nil
	}
	for _, op := range []string{"!=", "=="} {
		if l, r, ok := strings.Cut(expr, op); ok {
			a, err := c.operand(l)
			if err != nil {
				return "", err
			}
			b, err := c.operand(r)
			if err != nil {
				return "", err
			}
			return fmt.Sprint((a == b) == (op == "==")), nil
		}
	}
	return c.operand(expr)
}

func (c *ghContext) operand(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "always()":
		return "true", nil
	case strings.HasPrefix(s, "startsWith(") && strings.HasSuffix(s, ")"):
		a, b, ok := strings.Cut(strings.TrimSuffix(strings.TrimPrefix(s, "startsWith("), ")"), ",")
		if !ok {
			return "", fmt.Errorf("expression %q: startsWith takes two arguments", s)
		}
		x, err := c.operand(a)
		if err != nil {
			return "", err
		}
		y, err := c.operand(b)
		if err != nil {
			return "", err
		}
		return fmt.Sprint(strings.HasPrefix(x, y)), nil
	case len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'':
		return s[1 : len(s)-1], nil
	case strings.HasPrefix(s, "steps."):
		parts := strings.Split(s, ".")
		st := c.steps[parts[1]]
		switch {
		case len(parts) == 3 && parts[2] == "outcome":
			if st.outcome == "" {
				return "", fmt.Errorf("expression %q: no step %s has run", s, parts[1])
			}
			return st.outcome, nil
		case len(parts) == 4 && parts[2] == "outputs":
			return st.outputs[parts[3]], nil
		}
	case strings.HasPrefix(s, "matrix."):
		return c.values[s], nil // a key the entry lacks is null, which compares equal to ''
	}
	if v, ok := c.values[s]; ok {
		return v, nil
	}
	return "", fmt.Errorf("expression %q: the test gives no value for it", s)
}

func truthy(v string) bool { return v != "" && v != "false" && v != "0" }
