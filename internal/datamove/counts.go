package datamove

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// countQuery counts the rows of every ordinary table outside the system
// schemas exactly, in one statement: query_to_xml runs one count(*) per
// table. ONLY counts a table's own rows, not those of tables inheriting
// from it, which are counted themselves.
const countQuery = `SELECT format('%I.%I', n.nspname, c.relname),
  (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM ONLY %I.%I', n.nspname, c.relname), false, true, '')))[1]::text
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp\_%'
ORDER BY 1`

// migrationTable is the migration tool's bookkeeping (goose): every
// deployed database has rows in it, so it says nothing of whether the
// database holds data.
const migrationTable = "public.goose_db_version"

// countRows returns the row count of every table of db by name.
func countRows(ctx context.Context, db database) (map[string]int64, error) {
	var out bytes.Buffer
	args := []string{"--no-psqlrc", "--no-align", "--tuples-only", "--field-separator=\t", "--set=ON_ERROR_STOP=1", "--command=" + countQuery}
	if err := db.tool(ctx, "psql", args, nil, &out); err != nil {
		return nil, err
	}
	return parseCounts(&out)
}

// parseCounts reads psql's unaligned "name<TAB>count" lines.
func parseCounts(r io.Reader) (map[string]int64, error) {
	counts := map[string]int64{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		name, n, ok := strings.Cut(line, "\t")
		count, err := strconv.ParseInt(n, 10, 64)
		if !ok || err != nil {
			return nil, fmt.Errorf("unexpected row count line %q", line)
		}
		counts[name] = count
	}
	return counts, sc.Err()
}

// refuseNonEmpty refuses a target that holds rows outside the migration
// bookkeeping, unless forced, naming what would be overwritten.
func refuseNonEmpty(stackName string, counts map[string]int64, force bool) error {
	var held []string
	for _, name := range slices.Sorted(maps.Keys(counts)) {
		if n := counts[name]; n > 0 && name != migrationTable {
			held = append(held, fmt.Sprintf("%s (%d rows)", name, n))
		}
	}
	if len(held) == 0 || force {
		return nil
	}
	return fmt.Errorf("%w: stack %s's database holds %s, which the copy would replace; nothing was changed; "+
		"fix: if that data may go (a freshly deployed stack holds only the catalogue the migrations seed), run again with FORCE=1",
		ErrNotEmpty, stackName, strings.Join(held, ", "))
}

// compare pairs the counts of every table found on either side, sorted by
// name, and totals the target's.
func compare(source, target map[string]int64) ([]Table, int64) {
	names := slices.Sorted(maps.Keys(source))
	for name := range target {
		if _, ok := source[name]; !ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	tables := make([]Table, len(names))
	var total int64
	for i, name := range names {
		t := Table{Name: name, Source: -1, Target: -1}
		if n, ok := source[name]; ok {
			t.Source = n
		}
		if n, ok := target[name]; ok {
			t.Target = n
			total += n
		}
		tables[i] = t
	}
	return tables, total
}

// mismatches names the tables whose counts differ, or that one side lacks.
func mismatches(tables []Table) []string {
	var bad []string
	for _, t := range tables {
		if t.Source != t.Target {
			bad = append(bad, fmt.Sprintf("%s (%s in the source, %s in the target)", t.Name, rows(t.Source), rows(t.Target)))
		}
	}
	return bad
}

func rows(n int64) string {
	if n < 0 {
		return "missing"
	}
	return strconv.FormatInt(n, 10)
}

// printCounts writes one line per table and the total.
func printCounts(w io.Writer, from, to string, rep Report) {
	width := len("table")
	for _, t := range rep.Tables {
		width = max(width, len(t.Name))
	}
	a, b := max(12, len(from)), max(12, len(to))
	fmt.Fprintf(w, "%-*s %*s %*s\n", width, "table", a, from, b, to)
	var source int64
	for _, t := range rep.Tables {
		mark := ""
		if t.Source != t.Target {
			mark = "  MISMATCH"
		}
		source += max(t.Source, 0)
		fmt.Fprintf(w, "%-*s %*s %*s%s\n", width, t.Name, a, rows(t.Source), b, rows(t.Target), mark)
	}
	fmt.Fprintf(w, "%-*s %*d %*d\n", width, "total", a, source, b, rep.Rows)
}
