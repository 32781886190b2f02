package runbooks

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emothe/emothe/internal/dockertest"
	"github.com/emothe/emothe/internal/testenv"
	"github.com/emothe/emothe/provider/flyfake"
	"github.com/emothe/emothe/tests/e2e/harness"
)

// digest stands for an image digest a reader copies from somewhere (a deploy's
// job summary, `pulumi stack tag ls`): the fake pulls no image, so any will do.
var digest = strings.Repeat("d1", 32)

// placeholders are what readers replace in the runbooks' commands, and what
// the test puts there. The runner adds the names that must be unique on a
// shared machine (the local stack's project and port, see scratch).
var placeholders = map[string]string{
	"<org-slug>": "personal",
	"<your-org>": "emothe",
	"<digest>":   digest,
}

// mustRun are the pages that must stay enrolled: dropping a page's markers
// must not pass quietly.
var mustRun = []string{"backups.md", "bootstrap.md", "compose.md", "drift.md", "fly.md", "interrupted.md", "pipeline.md", "rollback.md", "switching.md"}

// quick keeps the fake's boots and checks short: the pages' timing is not
// what the test is about.
var quick = flyfake.Options{
	BootDelay:          50 * time.Millisecond,
	HealthDelay:        100 * time.Millisecond,
	PostgresReadyDelay: 100 * time.Millisecond,
}

type page struct {
	name   string // docs/<name>
	blocks []Block
}

// pages are the enrolled runbooks in docs/, by name, and the names of the
// other pages.
func pages(t *testing.T) (enrolled []page, others []string) {
	t.Helper()
	root := testenv.RepoRoot(t)
	files, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		text, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		blocks, ok, err := Parse(string(text))
		if err != nil {
			t.Errorf("docs/%s: %v", filepath.Base(f), err)
			continue
		}
		if ok {
			enrolled = append(enrolled, page{name: filepath.Base(f), blocks: blocks})
		} else {
			others = append(others, filepath.Base(f))
		}
	}
	return enrolled, others
}

// TestMarkers checks every page's markers, without running anything: a
// malformed marker, or an unmarked shell block on an enrolled page, fails
// here in `go test -short` already.
func TestMarkers(t *testing.T) {
	var names []string
	enrolled, _ := pages(t)
	for _, p := range enrolled {
		names = append(names, p.name)
		run := 0
		for _, b := range p.blocks {
			if b.Kind == Run {
				run++
			}
		}
		if run == 0 {
			t.Errorf("docs/%s is enrolled but runs no block", p.name)
		}
	}
	for _, n := range mustRun {
		if !slices.Contains(names, n) {
			t.Errorf("docs/%s is not enrolled any more: its shell blocks need their markers", n)
		}
	}
}

// TestRunbooks runs each enrolled page's blocks in order, in a scratch copy
// of the repository, against the Fly fake and the local Docker engine, and
// lists the blocks it did not run.
func TestRunbooks(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the runbooks' commands against the Fly fake and the Docker engine")
	}
	dockertest.RequireEngine(t)
	warmBuildCache(t)
	var skipped []string
	enrolled, others := pages(t)
	for _, p := range enrolled {
		for _, b := range p.blocks {
			if b.Kind == Skip {
				skipped = append(skipped, fmt.Sprintf("docs/%s:%d: %s", p.name, b.Line, b.Reason))
			}
		}
		t.Run(strings.TrimSuffix(p.name, ".md"), func(t *testing.T) {
			t.Parallel() // each page has its own scratch copy, fake, state and names
			runPage(t, p)
		})
	}
	t.Logf("blocks not run here (%d):\n%s", len(skipped), strings.Join(skipped, "\n"))
	t.Logf("pages without markers, not run: %s", strings.Join(others, ", "))
}

// buildFlags go into the pages' GOFLAGS. The pages build the same packages
// (`make provider`, `go run ./tools/stack`, the Go host's main.go) in copies
// at different paths; -trimpath leaves the path out of the build cache's
// keys, so the build warmBuildCache runs once serves every page.
const buildFlags = "-trimpath"

// warmBuildCache builds, in the checkout, what the pages will build in
// their copies, before they start at once.
func warmBuildCache(t *testing.T) {
	t.Helper()
	cmd := exec.Command("go", "build", buildFlags, ".", "./tools/stack", "./provider/cmd/pulumi-resource-flyio")
	cmd.Dir = testenv.RepoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
}

// runPage runs one page's blocks in order, in a scratch copy of the
// repository, and stops at the first that fails.
func runPage(t *testing.T, p page) {
	sh := shell{dir: "", exports: filepath.Join(t.TempDir(), "exports")}
	sh.dir, sh.env, sh.subst = scratch(t, p.name)
	sh.env = append(readerEnv(), sh.env...)
	var transcript strings.Builder
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("transcript of docs/%s:\n%s", p.name, transcript.String())
		}
	})
	for _, b := range p.blocks {
		if b.Kind == Skip {
			continue
		}
		start := time.Now()
		out, err := sh.run("docs/"+p.name, b)
		fmt.Fprintf(&transcript, "--- docs/%s:%d (%s, %.1fs)\n%s\n%s", p.name, b.Line, b.Kind, time.Since(start).Seconds(), b.Code, out)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("docs/%s:%d: %s, %.1fs", p.name, b.Line, b.Kind, time.Since(start).Seconds())
	}
}

// shell runs blocks with bash, each as a reader would type it in one
// terminal: exported variables carry over from block to block.
type shell struct {
	dir     string
	env     []string
	exports string // where a block leaves its exported variables for the next
	subst   *strings.Replacer
}

// run runs block b of page and checks its exit status and output. The error
// names the page, the block's line, the command that failed and the output.
func (sh shell) run(page string, b Block) (string, error) {
	code := sh.subst.Replace(b.Code)
	script := fmt.Sprintf("set -eo pipefail\n"+
		"trap 'echo \"runbook: failed: $BASH_COMMAND\" >&2' ERR\n"+
		"trap 'export -p >%q' EXIT\n"+
		"if [ -f %q ]; then source %q; fi\n%s", sh.exports, sh.exports, sh.exports, code)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "--noprofile", "--norc", "-c", script)
	cmd.Dir, cmd.Env = sh.dir, sh.env
	b2, err := cmd.CombinedOutput()
	out := string(b2)
	exit := 0
	if err != nil {
		exit = -1
		if ee, ok := err.(*exec.ExitError); ok {
			exit = ee.ExitCode()
		}
	}
	if exit != b.Exit {
		failed := ""
		if i := strings.LastIndex(out, "runbook: failed: "); i >= 0 {
			failed, _, _ = strings.Cut(out[i:], "\n")
		}
		return out, fmt.Errorf("%s:%d: exit status %d, want %d (%v)\n%s\nthe block:\n%s\nits output:\n%s",
			page, b.Line, exit, b.Exit, err, failed, code, out)
	}
	for _, want := range b.Expect {
		if want = sh.subst.Replace(want); !strings.Contains(out, want) {
			return out, fmt.Errorf("%s:%d: the output lacks %q\nthe block:\n%s\nits output:\n%s", page, b.Line, want, code, out)
		}
	}
	return out, nil
}

// readerEnv is the test's environment without a state backend: a page
// starts where a reader starts, logged in to nothing, and its blocks
// (bootstrap.md's visibly, the others' in a setup) export
// PULUMI_BACKEND_URL and PULUMI_CONFIG_PASSPHRASE as a reader would. The
// backend they name, s3://emothe-pulumi-state, is a file backend of the
// page's own here (see scratch).
func readerEnv() []string {
	return slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "PULUMI_BACKEND_URL=") || strings.HasPrefix(kv, "PULUMI_CONFIG_PASSPHRASE=")
	})
}

// scratch makes the repository's copy a page runs in: its tracked and
// untracked-but-not-ignored files as they are in the working tree, committed
// into a git repository of its own (pages run git), at a path fixed per
// checkout and page. Every committed stack gets an app name of its own (the
// Compose project, on a shared engine) and the local stack a free port;
// the replacer carries them into the pages' commands and expectations,
// with the placeholders. vars are the environment a page runs in: a Fly
// fake's URL and token as a reader's FLY_API_TOKEN, a Pulumi home (`pulumi
// login` writes there) and a toolchain home of the page's own, so `make
// provider` builds into it and not into the user's.
func scratch(t *testing.T, name string) (string, []string, *strings.Replacer) {
	t.Helper()
	root := testenv.RepoRoot(t)
	dir := scratchDir(root, name)
	home := dir + "-home"
	for _, d := range []string{dir, home} {
		if err := os.RemoveAll(d); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.RemoveAll(d) })
	}
	fake, apiURL := harness.ServeFake(t, quick)
	state := t.TempDir()
	files, err := exec.Command("git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	for f := range strings.SplitSeq(strings.TrimSuffix(string(files), "\x00"), "\x00") {
		b, err := os.ReadFile(filepath.Join(root, f))
		if os.IsNotExist(err) {
			continue // deleted in the working tree
		}
		if err != nil {
			t.Fatal(err)
		}
		info, err := os.Stat(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, info.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}

	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	local := filepath.Join(dir, "stacks", "local.yaml")
	b, err := os.ReadFile(local)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(b), `emothe:httpPort: "8080"`, fmt.Sprintf("emothe:httpPort: \"%d\"", port), 1)
	if text == string(b) {
		t.Fatalf("stacks/local.yaml no longer sets emothe:httpPort 8080 as the runner expects")
	}
	if err := os.WriteFile(local, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	// The local passphrase and image names are not app names.
	pairs := []string{"localhost:8080", fmt.Sprintf("localhost:%d", port),
		"emothe-local-only", "emothe-local-only", "emothe-local/", "emothe-local/"}
	renamed := uniqueAppNames(t, dir)
	for name, unique := range renamed {
		pairs = append(pairs, name, unique)
		t.Cleanup(func() { removeProject(t, unique) })
	}

	vars := []string{
		"EMOTHE_HOME=" + home,
		// The reader's PATH starts with the toolchain's bin (bootstrap.md),
		// where `make provider` puts the flyio plugin plain `pulumi` finds.
		"PATH=" + strings.Join([]string{filepath.Join(home, "bin"), filepath.Dir(harness.PulumiCLI(t)), os.Getenv("PATH")}, string(os.PathListSeparator)),
		"PULUMI_HOME=" + harness.PulumiHome(t, t.TempDir()),
		"PULUMI_SKIP_UPDATE_CHECK=true",
		"GOFLAGS=" + buildFlags,
		"FLY_API_TOKEN=" + fake.Token(),
		"FLY_FLAPS_BASE_URL=" + apiURL,
		"GIT_AUTHOR_NAME=runbooks", "GIT_AUTHOR_EMAIL=runbooks@example.org",
		"GIT_COMMITTER_NAME=runbooks", "GIT_COMMITTER_EMAIL=runbooks@example.org",
	}
	for _, c := range [][]string{{"init", "-q"}, {"add", "-A"}, {"commit", "-q", "-m", "scratch copy"}} {
		cmd := exec.Command("git", c...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), vars...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(c, " "), err, out)
		}
	}

	// bootstrap.md's bucket: a file backend stands in for it.
	pairs = append(pairs, "s3://emothe-pulumi-state", "file://"+state)
	for k, v := range placeholders {
		pairs = append(pairs, k, v)
	}
	return dir, vars, strings.NewReplacer(pairs...)
}

// appNameLine is a stack file's emothe:appName setting.
var appNameLine = regexp.MustCompile(`(?m)^([ \t]*emothe:appName:[ \t]*)([a-z0-9-]+)[ \t]*$`)

// uniqueAppNames gives the app of every committed stack (Pulumi.*.yaml,
// stacks/*.yaml) in the scratch copy dir a name of this run's: the Docker
// engine is shared, the app name is the Compose project, and a page may put
// any stack on the engine. It returns the new name of each old one.
func uniqueAppNames(t *testing.T, dir string) map[string]string {
	t.Helper()
	suffix := "-rb" + strings.ToLower(rand.Text()[:5])
	files, err := filepath.Glob(filepath.Join(dir, "Pulumi.*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	templates, err := filepath.Glob(filepath.Join(dir, "stacks", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	renamed := map[string]string{}
	for _, f := range append(files, templates...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m := appNameLine.FindSubmatch(b)
		if m == nil {
			continue
		}
		renamed[string(m[2])] = string(m[2]) + suffix
		if err := os.WriteFile(f, appNameLine.ReplaceAll(b, []byte("${1}${2}"+suffix)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := renamed["emothe-local"]; !ok {
		t.Fatal("stacks/local.yaml no longer sets emothe:appName emothe-local as the runner expects")
	}
	return renamed
}

// scratchDir is where page name of the checkout at root runs.
func scratchDir(root, name string) string {
	sum := sha256.Sum256([]byte(root))
	return filepath.Join(os.TempDir(), "emothe-runbooks-"+hex.EncodeToString(sum[:6])+"-"+strings.TrimSuffix(name, ".md"))
}

// removeProject removes what a page's stacks left on the engine: their
// containers, networks, volumes and built images, all named after project.
func removeProject(t *testing.T, project string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	list := func(args ...string) []string {
		out, err := dockertest.Docker(ctx, args...)
		if err != nil {
			t.Errorf("docker %s: %v", strings.Join(args, " "), err)
			return nil
		}
		return strings.Fields(out)
	}
	remove := func(what []string, args ...string) {
		if len(what) == 0 {
			return
		}
		if _, err := dockertest.Docker(ctx, append(args, what...)...); err != nil {
			t.Errorf("docker %s: %v", strings.Join(args, " "), err)
		}
	}
	remove(list("ps", "-aq", "--filter", "label=com.docker.compose.project="+project), "rm", "-f", "-v")
	// A page's own containers, outside any project (switching.md's Fly
	// database), are named after it.
	remove(slices.DeleteFunc(list("ps", "-a", "--format", "{{.Names}}"), func(n string) bool { return !strings.HasPrefix(n, project+"-") }),
		"rm", "-f", "-v")
	owned := func(names []string) []string {
		return slices.DeleteFunc(names, func(n string) bool { return !strings.HasPrefix(n, project+"_") })
	}
	remove(owned(list("network", "ls", "--format", "{{.Name}}", "--filter", "name="+project)), "network", "rm")
	remove(owned(list("volume", "ls", "-q", "--filter", "name="+project)), "volume", "rm", "-f")
	// By name: the same build under another project's name has the same ID,
	// and only the name is ours.
	remove(list("images", "--format", "{{.Repository}}:{{.Tag}}", "--filter", "reference="+project), "rmi")
	// And in a registry (switching.md's, pushed to the local one).
	remove(list("images", "--format", "{{.Repository}}:{{.Tag}}", "--filter", "reference=*/"+project), "rmi")
}
