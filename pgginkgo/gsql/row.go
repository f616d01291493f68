package gsql

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/onsi/gomega/format"
	"github.com/onsi/gomega/types"
)

// HaveRowCount succeeds if the table has n rows.
//
//	Expect(pool).To(gsql.HaveRowCount("jobs", 3))
//	Eventually(pool).Should(gsql.HaveRowCount("jobs", 0)) // the queue drains
//	Expect(tx).To(gsql.HaveRowCount("jobs", 4))           // counting what tx has not committed
//
// The failure message shows the first rows of the table. For a range of
// counts, use HaveRowCountThat.
func HaveRowCount(table string, n int) *Matcher {
	return newMatcher("HaveRowCount", countCheck{table: table, want: n})
}

// HaveRowCountThat succeeds if the table's row count, an int, satisfies the
// matcher.
//
//	Expect(pool).To(gsql.HaveRowCountThat("jobs", BeNumerically(">=", 3)))
//	Eventually(pool).Should(gsql.HaveRowCountThat("events", BeNumerically(">", 100)))
//
// The failure message shows the first rows of the table and the matcher's
// own explanation.
func HaveRowCountThat(table string, count types.GomegaMatcher) *Matcher {
	return newMatcher("HaveRowCountThat", countCheck{table: table, matcher: count, that: true})
}

type countCheck struct {
	table   string
	want    int
	matcher types.GomegaMatcher
	that    bool // HaveRowCountThat, so matcher must be set
}

func (c countCheck) validate() error {
	switch {
	case c.that && c.matcher == nil:
		return errors.New("the matcher of the count is nil")
	case !c.that && c.want < 0:
		return fmt.Errorf("a table cannot have %d rows; for a range of counts, use HaveRowCountThat", c.want)
	}
	return nil
}

func (c countCheck) run(p *probe) (outcome, error) {
	id, o, err := ofTable(c.table, fmt.Sprintf("have %d %s", c.want, plural(c.want, "row", "rows")))
	if err != nil {
		return o, err
	}
	if c.that {
		o.predicate = "have a row count that satisfies the matcher"
	}
	var count int64
	if err := p.each("SELECT count(*) FROM "+id.Sanitize(), nil, func(_ []string, row []any) bool {
		count, _ = row[0].(int64)
		return false
	}); err != nil {
		return o, err
	}
	if err := p.sample(id.Sanitize()); err != nil {
		return o, err
	}
	p.shown.total = max(p.shown.total, int(count)) // so the rows left out are counted
	o.found = fmt.Sprintf("it has %d", count)
	if !c.that {
		o.matched = count == int64(c.want)
		return o, nil
	}
	o.detail = innerMessage(c.matcher, int(count))
	o.matched, err = c.matcher.Match(int(count))
	return o, err
}

// sample fetches the first rows of a table to show what is there.
func (p *probe) sample(quoted string) error {
	t := &table{caption: "Rows of " + quoted}
	err := p.each(fmt.Sprintf("SELECT * FROM %s LIMIT %d", quoted, maxShownRows), nil, func(cols []string, row []any) bool {
		t.add(cols, row)
		return true
	})
	p.shown = t
	return err
}

// Columns lists expected column values for HaveRow: each value is a Gomega
// matcher, or a plain value compared with the column's value as Rows returns
// it, numbers by value whatever their Go type (so 3 matches an int64 3 and a
// numeric "3.00"), times with time.Time.Equal, slices and maps element by
// element, everything else with reflect.DeepEqual.
type Columns map[string]any

// HaveRow succeeds if some row of the table has all the given column values;
// columns left out may hold anything. It reads the table through and stops at
// the first row that matches.
//
//	Expect(pool).To(gsql.HaveRow("users", gsql.Columns{"email": "ann@example.com"}))
//	Expect(pool).To(gsql.HaveRow("jobs", gsql.Columns{
//		"state":    "done",
//		"attempts": BeNumerically(">", 1),
//		"error":    BeNil(),
//	}))
//	Eventually(pool).Should(gsql.HaveRow("jobs", gsql.Columns{"id": id, "state": "done"}))
//	Expect(tx).To(gsql.HaveRow("users", gsql.Columns{"email": "bob@example.com"})) // not yet committed
//
// When no row matches, the failure message shows the rows and explains how
// the closest one differs.
func HaveRow(table string, columns Columns) *Matcher {
	return newMatcher("HaveRow", rowCheck{table, columns})
}

type rowCheck struct {
	table   string
	columns Columns
}

func (c rowCheck) validate() error {
	if len(c.columns) == 0 {
		return errors.New(`the Columns are empty, so there is nothing to compare; to ask for any row at all, use HaveRowCountThat(table, BeNumerically(">", 0))`)
	}
	return nil
}

func (c rowCheck) run(p *probe) (outcome, error) {
	names := make([]string, 0, len(c.columns))
	var want strings.Builder
	for name := range c.columns {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(&want, "\n%s%s: %s", format.Indent, name, describe(c.columns[name]))
	}
	id, o, err := ofTable(c.table, "have a row with"+want.String())
	if err != nil {
		return o, err
	}

	seen := &table{caption: "Rows of " + id.Sanitize()}
	var matched []any
	var closest []string // why the closest row so far differs
	var closestRow []any
	closestAt := 0
	var missing []string
	err = p.each("SELECT * FROM "+id.Sanitize(), nil, func(cols []string, row []any) bool {
		seen.add(cols, row)
		if seen.total == 1 {
			missing = absent(names, cols)
			if len(missing) > 0 {
				return false
			}
		}
		diffs := differences(c.columns, names, cols, row)
		if len(diffs) == 0 {
			matched = row
			return false
		}
		if closest == nil || len(diffs) < len(closest) {
			closest, closestRow, closestAt = diffs, row, seen.total
		}
		return true
	})
	if err != nil {
		return o, err
	}
	if len(missing) > 0 {
		return o, fmt.Errorf("table %s in database %q has no column %s; it has %s",
			id.Sanitize(), p.database, strings.Join(missing, ", "), strings.Join(seen.cols, ", "))
	}
	p.shown = seen
	switch {
	case matched != nil:
		// Show the row that matched, which is what a ShouldNot needs.
		p.shown = &table{caption: "The matching row of " + id.Sanitize()}
		p.shown.add(seen.cols, matched)
		o.matched, o.found = true, "it does"
	case seen.total == 0:
		o.found = "the table is empty"
	default:
		o.found = fmt.Sprintf("none of its %d %s does", seen.total, plural(seen.total, "row", "rows"))
		o.detail = func(bool) string {
			why := format.IndentString(strings.Join(closest, "\n"), 1)
			if closestAt <= maxShownRows {
				return fmt.Sprintf("The closest row (row %d below) differs in:\n%s", closestAt, why)
			}
			// It is past the rows the table shows, so show it here.
			t := &table{}
			t.add(seen.cols, closestRow)
			return fmt.Sprintf("The closest row, row %d, differs in:\n%s\n%s", closestAt, why, t.render(format.Indent))
		}
	}
	return o, nil
}

// absent lists the expected columns that the table does not have, which is a
// mistake in the spec rather than a mismatch.
func absent(names, cols []string) []string {
	have := map[string]bool{}
	for _, c := range cols {
		have[c] = true
	}
	var missing []string
	for _, n := range names {
		if !have[n] {
			missing = append(missing, quote(n))
		}
	}
	return missing
}

// differences says, column by column, why row does not match.
func differences(want Columns, names, cols []string, row []any) []string {
	var diffs []string
	for _, name := range names {
		for i, col := range cols {
			if col != name {
				continue
			}
			m := expectation(want[name])
			if ok, err := m.Match(row[i]); err != nil {
				diffs = append(diffs, name+": "+err.Error())
			} else if !ok {
				diffs = append(diffs, name+": "+m.FailureMessage(row[i]))
			}
			break
		}
	}
	return diffs
}

// pointer matches the address format.Object prints for a pointer, which
// changes from run to run and tells a reader nothing.
var pointer = regexp.MustCompile(` \| 0x[0-9a-f]+>`)

// describe writes an expected value, or matcher, on one line if it can.
func describe(v any) string {
	return pointer.ReplaceAllString(strings.TrimSpace(format.Object(v, 1)), ">")
}

// expectation turns a Columns value into a matcher.
func expectation(v any) types.GomegaMatcher {
	if m, ok := v.(types.GomegaMatcher); ok {
		return m
	}
	return valueMatcher{v}
}
