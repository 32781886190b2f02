package stackctl

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
)

// stateful are the resource types whose replacement or deletion loses
// something that no `up` brings back: data, an address people were given, a
// certificate, secrets.
var stateful = map[string]string{
	"flyio:index:App":             "Fly app (its machines, volumes, IPs and secrets)",
	"flyio:index:ManagedPostgres": "Postgres cluster",
	"flyio:index:Volume":          "volume",
	"flyio:index:IPAddress":       "IP address",
	"flyio:index:Certificate":     "certificate",
	"flyio:index:AppSecrets":      "secrets",
	"docker:index/volume:Volume":  "volume",
}

// counted are the operations a plan is summed up by, in the order shown. A
// replacement also has create-replacement and delete-replaced steps; the
// replace step alone counts it.
var counted = []apitype.OpType{apitype.OpCreate, apitype.OpUpdate, apitype.OpReplace, apitype.OpDelete}

// Change is one resource a preview would change.
type Change struct {
	Op   apitype.OpType
	Type string
	Name string // the last part of the URN
	// Because are the properties that force a replacement, or that an
	// update changes.
	Because []string
}

// Plan is a preview summed up from its structured events.
type Plan struct {
	Counts map[apitype.OpType]int
	// Risks are the replacements and deletions of stateful resources.
	Risks []Change
	// Changes are every resource change that Counts counts.
	Changes []Change
}

// Summarize sums up a preview's engine events. Provider resources
// (pulumi:providers:*) are left out: their change (a new token, say) changes
// no resource.
func Summarize(evs []events.EngineEvent) Plan {
	p := Plan{Counts: map[apitype.OpType]int{}}
	for _, e := range evs {
		pre := e.ResourcePreEvent
		if pre == nil || strings.HasPrefix(pre.Metadata.Type, "pulumi:") || !slices.Contains(counted, pre.Metadata.Op) {
			continue
		}
		m := pre.Metadata
		c := Change{Op: m.Op, Type: m.Type, Name: urnName(m.URN), Because: m.Diffs}
		if m.Op == apitype.OpReplace {
			c.Because = m.Keys // the properties whose change forces it
		}
		p.Counts[m.Op]++
		p.Changes = append(p.Changes, c)
		if _, ok := stateful[m.Type]; ok && (m.Op == apitype.OpReplace || m.Op == apitype.OpDelete) {
			p.Risks = append(p.Risks, c)
		}
	}
	return p
}

// Markdown is the plan as a pull request comment opens: the risks first,
// then the counts and one line per changed resource.
func (p Plan) Markdown() string {
	var b strings.Builder
	if len(p.Risks) > 0 {
		b.WriteString("> [!WARNING]\n> **This change replaces or deletes stateful resources; what they hold does not come back:**\n")
		for _, c := range p.Risks {
			fmt.Fprintf(&b, "> - **%s** %s `%s`, %s\n", c.Op, stateful[c.Type], c.Name, why(c))
		}
		b.WriteString("\n")
	}
	var counts []string
	for _, op := range counted {
		counts = append(counts, fmt.Sprintf("%d to %s", p.Counts[op], op))
	}
	fmt.Fprintf(&b, "**Plan:** %s.\n", strings.Join(counts, ", "))
	if len(p.Changes) == 0 {
		b.WriteString("\nNo resource changes.\n")
		return b.String()
	}
	b.WriteString("\n| change | resource | type | properties |\n|---|---|---|---|\n")
	for _, c := range p.Changes {
		fmt.Fprintf(&b, "| %s | `%s` | `%s` | %s |\n", c.Op, c.Name, c.Type, code(c.Because))
	}
	return b.String()
}

func why(c Change) string {
	switch {
	case c.Op == apitype.OpDelete:
		return "removed from the program"
	case len(c.Because) == 0:
		return "forced by the provider"
	default:
		return "forced by " + code(c.Because)
	}
}

func code(props []string) string {
	q := make([]string, len(props))
	for i, p := range props {
		q[i] = "`" + p + "`"
	}
	return strings.Join(q, ", ")
}
