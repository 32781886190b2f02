// Command gensdk regenerates the flyio provider's schema and Go SDK from the
// provider itself, in-process: no plugin binary, no Pulumi CLI.
//
//	go run ./tools/gensdk          # write provider/cmd/pulumi-resource-flyio/schema.json and sdk/go/flyio
//	go run ./tools/gensdk -check   # exit 1 naming every file that is stale (for CI)
//
// Run it from the repository root.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	p "github.com/pulumi/pulumi-go-provider"
	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	pschema "github.com/pulumi/pulumi/pkg/v3/codegen/schema"

	"github.com/emothe/emothe/provider"
)

const (
	schemaPath = "provider/cmd/pulumi-resource-flyio/schema.json"
	sdkRoot    = "sdk/go" // the generator's paths start with the package name
)

func main() {
	check := flag.Bool("check", false, "only compare: exit 1 listing the files that differ from what would be generated")
	flag.Parse()
	if err := run(*check); err != nil {
		fmt.Fprintln(os.Stderr, "gensdk:", err)
		os.Exit(1)
	}
}

func run(check bool) error {
	if _, err := os.Stat("go.mod"); err != nil {
		return errors.New("run from the repository root (no go.mod here)")
	}
	want, err := generate()
	if err != nil {
		return err
	}
	have, err := existing()
	if err != nil {
		return err
	}
	var stale []string
	for _, path := range slices.Sorted(maps.Keys(want)) {
		if old, ok := have[path]; !ok || !bytes.Equal(old, want[path]) {
			stale = append(stale, path)
		}
	}
	for _, path := range slices.Sorted(maps.Keys(have)) {
		if _, ok := want[path]; !ok {
			stale = append(stale, path)
		}
	}
	if check {
		if len(stale) > 0 {
			return fmt.Errorf("schema or SDK out of date, run `go run ./tools/gensdk`:\n  %s",
				strings.Join(stale, "\n  "))
		}
		return nil
	}
	for _, path := range stale {
		content, keep := want[path]
		if !keep {
			if err := os.Remove(path); err != nil {
				return fmt.Errorf("removing stale %s: %w", path, err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, content, 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
	}
	fmt.Printf("gensdk: %d file(s) updated\n", len(stale))
	return nil
}

// generate returns every generated file by path from the repository root.
func generate() (map[string][]byte, error) {
	prov, err := provider.Provider()
	if err != nil {
		return nil, err
	}
	// No version: the committed files must not change with every release.
	spec, err := p.GetSchema(context.Background(), provider.Name, "", prov)
	if err != nil {
		return nil, fmt.Errorf("getting the provider schema: %w", err)
	}
	schemaJSON, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding the schema: %w", err)
	}
	pkg, diags, err := pschema.BindSpec(spec, pschema.NewNullLoader(), pschema.ValidationOptions{})
	if err != nil {
		return nil, fmt.Errorf("binding the schema: %w", err)
	}
	if diags.HasErrors() {
		return nil, fmt.Errorf("the schema is invalid: %s", diags.Error())
	}
	sdk, err := gogen.GeneratePackage("gensdk", pkg, nil)
	if err != nil {
		return nil, fmt.Errorf("generating the Go SDK: %w", err)
	}
	files := map[string][]byte{schemaPath: append(schemaJSON, '\n')}
	for path, content := range sdk {
		files[filepath.Join(sdkRoot, path)] = content
	}
	return files, nil
}

// existing returns the committed schema and every file under sdk/go.
func existing() (map[string][]byte, error) {
	files := map[string][]byte{}
	if b, err := os.ReadFile(schemaPath); err == nil {
		files[schemaPath] = b
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	err := filepath.WalkDir(sdkRoot, func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && path == sdkRoot {
			return filepath.SkipDir
		}
		if err != nil || d.IsDir() {
			return err
		}
		files[path], err = os.ReadFile(path)
		return err
	})
	return files, err
}
