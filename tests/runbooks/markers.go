// Package runbooks runs the runbooks in docs/ as written: every fenced shell
// block of an enrolled page is marked, in an HTML comment just before it, as
// run here (with what it must print) or skipped (with why), and the test
// runs the marked blocks in order against the Fly fake and the local Docker
// engine. CONTRIBUTING.md ("Runbooks that run") describes the markers.
package runbooks

import (
	"fmt"
	"strconv"
	"strings"
)

// Kinds of block.
const (
	// Run is a block the reader runs, and the test with it.
	Run = "run"
	// Skip is a block that cannot run here (real Fly, flyctl, DNS, GitHub,
	// Pulumi Cloud); the marker says why, and the test lists it.
	Skip = "skip"
	// Setup is a hidden block, a whole HTML comment: what the reader has
	// already done when the page starts (a stack deployed twice, a drift to
	// repair). It runs in order with the others; readers never see it.
	Setup = "setup"
)

const markerPrefix = "<!-- runbook:"

// Block is one shell block of a runbook and what the test does with it.
type Block struct {
	Line   int    // of the opening fence (of the comment, for Setup)
	Kind   string // Run, Skip or Setup
	Reason string // Skip: why it cannot run here
	// Expect are texts its output (stdout and stderr) must contain.
	Expect []string
	// Exit is the exit status it must end with (0 unless `exit: N`).
	Exit int
	Code string
}

// Parse reads the blocks of one Markdown page. A page is enrolled when it
// holds at least one marker; then every shell block in it must be marked,
// so a new block cannot be forgotten. A page without markers yields no
// blocks and enrolled false.
func Parse(text string) (blocks []Block, enrolled bool, err error) {
	lines := strings.Split(text, "\n")
	var pending *Block // a marker waiting for its fence
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		switch {
		case strings.HasPrefix(line, markerPrefix):
			enrolled = true
			if pending != nil {
				return nil, true, fmt.Errorf("line %d: a marker follows the marker of line %d, which has no shell block", i+1, pending.Line)
			}
			body := strings.TrimSpace(strings.TrimPrefix(line, markerPrefix))
			if strings.HasPrefix(body, Setup) && !strings.HasSuffix(body, "-->") {
				b := Block{Line: i + 1, Kind: Setup}
				var code []string
				for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "-->"; i++ {
					code = append(code, lines[i])
				}
				if i == len(lines) {
					return nil, true, fmt.Errorf("line %d: the setup comment has no closing --> line", b.Line)
				}
				b.Code = strings.Join(code, "\n") + "\n"
				blocks = append(blocks, b)
				continue
			}
			b, err := parseMarker(strings.TrimSuffix(body, "-->"))
			if err != nil {
				return nil, true, fmt.Errorf("line %d: %w", i+1, err)
			}
			b.Line = i + 1
			pending = &b
		case strings.HasPrefix(line, "```"):
			lang := strings.TrimPrefix(line, "```")
			indent := lines[i][:strings.Index(lines[i], "```")]
			start := i
			var code []string
			for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
				code = append(code, strings.TrimPrefix(lines[i], indent))
			}
			if i == len(lines) {
				return nil, enrolled, fmt.Errorf("line %d: the fence is never closed", start+1)
			}
			if !isShell(lang) {
				if pending != nil {
					return nil, true, fmt.Errorf("line %d: the marker of line %d is before a %q block, not a shell block", start+1, pending.Line, lang)
				}
				continue
			}
			if pending == nil {
				blocks = append(blocks, Block{Line: start + 1})
				continue
			}
			pending.Line, pending.Code = start+1, strings.Join(code, "\n")+"\n"
			blocks = append(blocks, *pending)
			pending = nil
		case line != "" && pending != nil:
			return nil, true, fmt.Errorf("line %d: the marker of line %d must be followed by its shell block", i+1, pending.Line)
		}
	}
	if pending != nil {
		return nil, true, fmt.Errorf("line %d: the marker has no shell block after it", pending.Line)
	}
	if !enrolled {
		return nil, false, nil
	}
	for _, b := range blocks {
		if b.Kind == "" {
			return nil, true, fmt.Errorf("line %d: this shell block has no marker; put <!-- runbook: run --> or <!-- runbook: skip: <why> --> on the line before it", b.Line)
		}
	}
	return blocks, true, nil
}

func isShell(lang string) bool {
	switch strings.TrimSpace(lang) {
	case "sh", "bash", "shell":
		return true
	}
	return false
}

// parseMarker reads `run; expect: "…"; exit: N` or `skip: <reason>`.
func parseMarker(body string) (Block, error) {
	body = strings.TrimSpace(body)
	if reason, ok := strings.CutPrefix(body, Skip+":"); ok {
		if strings.TrimSpace(reason) == "" {
			return Block{}, fmt.Errorf("skip needs a reason: <!-- runbook: skip: <why it cannot run here> -->")
		}
		return Block{Kind: Skip, Reason: strings.TrimSpace(reason)}, nil
	}
	rest, ok := strings.CutPrefix(body, Run)
	if !ok {
		return Block{}, fmt.Errorf("marker %q: want run, skip: <why> or setup", body)
	}
	b := Block{Kind: Run}
	for rest = strings.TrimSpace(rest); rest != ""; rest = strings.TrimSpace(rest) {
		rest, ok = strings.CutPrefix(rest, ";")
		if !ok {
			return Block{}, fmt.Errorf("marker %q: separate the settings with ';'", body)
		}
		key, value, ok := strings.Cut(strings.TrimSpace(rest), ":")
		if !ok {
			return Block{}, fmt.Errorf("marker %q: want key: value after ';'", body)
		}
		value = strings.TrimSpace(value)
		switch strings.TrimSpace(key) {
		case "expect":
			q, err := strconv.QuotedPrefix(value)
			if err != nil {
				return Block{}, fmt.Errorf("marker %q: expect takes a quoted string, as in Go: %w", body, err)
			}
			s, _ := strconv.Unquote(q)
			b.Expect = append(b.Expect, s)
			rest = value[len(q):]
		case "exit":
			n, after, more := strings.Cut(value, ";")
			code, err := strconv.Atoi(strings.TrimSpace(n))
			if err != nil {
				return Block{}, fmt.Errorf("marker %q: exit takes a number: %w", body, err)
			}
			b.Exit, rest = code, ""
			if more {
				rest = ";" + after
			}
		default:
			return Block{}, fmt.Errorf("marker %q: unknown setting %q (want expect or exit)", body, key)
		}
	}
	return b, nil
}
