package doccheck

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/emothe/emothe/internal/testenv"
)

const page = "docs/fly-api.md"

var (
	citation = regexp.MustCompile(`docs/fly-api\.md#([A-Za-z0-9_-]+)`)
	ownLink  = regexp.MustCompile(`\]\(#([A-Za-z0-9_-]+)\)`)
	// notInSlug is what GitHub drops from a heading to make its anchor.
	notInSlug = regexp.MustCompile(`[^a-z0-9 _-]`)
)

// anchors are the anchors GitHub gives the page's headings.
func anchors(t *testing.T, text string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for line := range strings.Lines(text) {
		title, ok := strings.CutPrefix(strings.TrimLeft(line, "#"), " ")
		if !ok || !strings.HasPrefix(line, "#") {
			continue
		}
		slug := strings.ReplaceAll(notInSlug.ReplaceAllString(strings.ToLower(strings.TrimSpace(title)), ""), " ", "-")
		if out[slug] {
			t.Errorf("%s: two headings make the anchor #%s; citations of it would be ambiguous", page, slug)
		}
		out[slug] = true
	}
	return out
}

func TestCitedAnchorsExist(t *testing.T) {
	root := testenv.RepoRoot(t)
	text, err := os.ReadFile(filepath.Join(root, page))
	if err != nil {
		t.Fatal(err)
	}
	have := anchors(t, string(text))
	for _, m := range ownLink.FindAllStringSubmatch(string(text), -1) {
		if !have[m[1]] {
			t.Errorf("%s links to #%s, which none of its headings makes", page, m[1])
		}
	}
	cited := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", ".pulumi-state", "node_modules", "sdk":
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(path) {
		case ".go", ".md", ".sh", ".yml", ".yaml":
		default:
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range citation.FindAllStringSubmatch(string(b), -1) {
			cited++
			if !have[m[1]] {
				rel, _ := filepath.Rel(root, path)
				t.Errorf("%s cites %s#%s, which is not a heading there: cite an existing section or add one", rel, page, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d citations of %s checked against %d headings", cited, page, len(have))
}
