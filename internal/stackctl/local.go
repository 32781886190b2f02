package stackctl

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// The local stack behind `make up` is committed as a template: its
// Pulumi.local.yaml is the developer's own (.gitignore lists it), made from
// the template on first use. Pulumi then writes the stack's encryption salt
// and generated secrets into it, which must not dirty a clone.
const (
	LocalStack    = "local"
	LocalTemplate = "stacks/local.yaml"
)

// EnsureLocalStackFile writes root's Pulumi.local.yaml from the template
// when there is none, and reports whether it did. An existing file is the
// developer's and is left as it is.
func EnsureLocalStackFile(root string) (bool, error) {
	file := filepath.Join(root, "Pulumi."+LocalStack+".yaml")
	if _, err := os.Stat(file); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	b, err := os.ReadFile(filepath.Join(root, LocalTemplate))
	if err != nil {
		return false, fmt.Errorf("the local stack's template: %w", err)
	}
	return true, os.WriteFile(file, b, 0o600)
}
