package stackctl

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"

	"github.com/emothe/emothe/infra"
	"github.com/emothe/emothe/infra/stack"
)

// stackName is what Pulumi accepts as a stack name (without an org).
var stackName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,100}$`)

// Create makes a new stack on backend: it writes a commented
// Pulumi.<name>.yaml in root that lists every setting of the backend with
// its default, then creates the stack in the state backend. It refuses a
// stack that exists already, as a file or as state.
func Create(ctx context.Context, root, name, backend string) (auto.Stack, error) {
	if !stackName.MatchString(name) {
		return auto.Stack{}, fmt.Errorf("STACK=%q is not a stack name; fix: letters, digits, '-', '_' and '.' only", name)
	}
	platform, ok := platformNamed(backend)
	if !ok {
		return auto.Stack{}, fmt.Errorf("BACKEND=%q is not a backend; fix: one of %s", backend, strings.Join(backendNames(), ", "))
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return auto.Stack{}, err
	}
	file := filepath.Join(abs, "Pulumi."+name+".yaml")
	if hasStackFile(abs, name) {
		return auto.Stack{}, fmt.Errorf("stack %s exists already: %s is there; nothing was changed", name, file)
	}
	ws, err := auto.NewLocalWorkspace(ctx, auto.WorkDir(abs))
	if err != nil {
		return auto.Stack{}, err
	}
	known, err := knownStacks(ctx, ws, abs)
	if err != nil {
		return auto.Stack{}, err
	}
	if slices.Contains(known, name) {
		return auto.Stack{}, fmt.Errorf("stack %s exists already in the state backend (without a Pulumi.%s.yaml); nothing was changed; fix: use it as it is (`make up STACK=%s`), or pick another name", name, name, name)
	}
	if err := os.WriteFile(file, []byte(StackFile(name, platform)), 0o644); err != nil {
		return auto.Stack{}, err
	}
	st, err := Open(ctx, abs, name, nil)
	if err != nil {
		_ = os.Remove(file) // nothing half-created
		return auto.Stack{}, err
	}
	return st, nil
}

func platformNamed(name string) (stack.Platform, bool) {
	i := slices.IndexFunc(infra.Backends, func(p stack.Platform) bool { return p.Name == name })
	if i < 0 {
		return stack.Platform{}, false
	}
	return infra.Backends[i], true
}

// StackFile is the Pulumi.<name>.yaml that Create writes for a stack on p:
// the backend and an app name set, every other setting it reads (the
// shared ones, then p's own) commented out with its default.
func StackFile(name string, p stack.Platform) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Stack %s on the %s backend (%s), written by `make stack`. Every\n", name, p.Name, p.About)
	b.WriteString("# setting is listed with its default, commented out: uncomment and change\n")
	fmt.Fprintf(&b, "# what this stack needs. Secrets: `make secrets STACK=%s` generates them and\n", name)
	b.WriteString("# stores them here, encrypted. The README's table explains every setting.\n")
	b.WriteString("config:\n")
	fmt.Fprintf(&b, "  %s:backend: %s\n", stack.Namespace, p.Name)
	b.WriteString("  # Lowercase letters, digits and hyphens; a Fly app name is global, so make it yours.\n")
	fmt.Fprintf(&b, "  %s:appName: %s\n", stack.Namespace, appName(name))
	for _, s := range slices.Concat(stack.Settings, p.Settings) {
		if s.Key == "backend" || s.Key == "appName" {
			continue
		}
		fmt.Fprintf(&b, "  # %s\n", s.Description)
		if s.Secret {
			fmt.Fprintf(&b, "  #   secret: pulumi config set --secret --stack %s %s:%s <value>\n", name, stack.Namespace, s.Key)
			continue
		}
		v := s.Default
		if s.Kind == stack.KindString {
			v = fmt.Sprintf("%q", v)
		}
		fmt.Fprintf(&b, "  # %s:%s: %s\n", stack.Namespace, s.Key, v)
	}
	return b.String()
}

// appName derives a valid app name from a stack name.
func appName(stackName string) string {
	n := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, strings.ToLower(stackName))
	return "emothe-" + strings.Trim(n, "-")
}
