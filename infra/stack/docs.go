package stack

import (
	"fmt"
	"strconv"
	"strings"
)

// ProjectConfig is Pulumi.yaml's config block for every setting of g. It
// declares no type (see Kind): each setting has its description and a
// default, so the CLI demands none of them and the loader checks them all.
func (g Registry) ProjectConfig() string {
	var b strings.Builder
	b.WriteString("config:\n")
	for _, s := range g.Settings() {
		fmt.Fprintf(&b, "  %s:\n    description: %s\n    default: %s\n", s.Key, strconv.Quote(s.Description), yamlDefault(s))
	}
	return b.String()
}

func yamlDefault(s Setting) string {
	switch s.Kind {
	case KindInteger, KindBoolean, KindArray:
		return s.Default
	}
	return strconv.Quote(s.Default)
}

// ReadmeTable is the README's configuration reference for every setting
// of g, one row each.
func (g Registry) ReadmeTable() string {
	var b strings.Builder
	b.WriteString("| key | type | default | meaning |\n|---|---|---|---|\n")
	for _, s := range g.Settings() {
		def := "`" + s.Default + "`"
		switch {
		case s.Secret:
			def = "secret"
		case s.Default == "":
			def = "—"
		}
		fmt.Fprintf(&b, "| `%s:%s` | %s | %s | %s |\n", Namespace, s.Key, s.Kind, def, s.Description)
	}
	return b.String()
}
