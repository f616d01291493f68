package gsql

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/onsi/gomega/types"
)

// Rows runs a query on db and returns its rows, each a map from column name
// to value, so that any Gomega matcher can inspect them. db is any database
// the matchers accept (see PoolProvider). The query may take no longer than
// DefaultTimeout, or ctx's deadline if that comes first. Through a pgx.Tx it
// sees what the transaction has written, and leaves the transaction as it
// was, even if the query writes or fails (see the package documentation).
//
// Values have normalised Go types, the same whichever kind of db you pass:
//
//	NULL                              nil
//	smallint, integer, bigint, oid    int64
//	real, double precision            float64
//	numeric                           string, exact: "12.50" (a float would round it)
//	text, varchar, char, enum         string
//	boolean                           bool
//	timestamp, timestamptz, date      time.Time
//	bytea                             []byte
//	uuid                              string: "0b3f…-…"
//	json, jsonb                       decoded: map[string]any, []any, float64, string, bool, nil
//	arrays                            []any of the above
//	interval, inet, ranges and others  string, as text: "1 day 00:00:00", "10.0.0.1/32"
//
// (With a *sql.DB whose driver is not pgx, such as lib/pq, arrays and other
// types without a row above arrive as their PostgreSQL text.)
//
//	rows, err := gsql.Rows(ctx, pool, "SELECT name, age FROM users ORDER BY name")
//	Expect(err).NotTo(HaveOccurred())
//	Expect(rows).To(ConsistOf(
//		HaveKeyWithValue("name", "ann"),
//		HaveKeyWithValue("name", "bob"),
//	))
//
// With Eventually, give it a function that calls Rows; Gomega passes that
// function its context and retries while it returns an error:
//
//	Eventually(ctx, func(ctx context.Context) ([]map[string]any, error) {
//		return gsql.Rows(ctx, pool, "SELECT state FROM jobs WHERE id = $1", id)
//	}).Should(ContainElement(HaveKeyWithValue("state", "done")))
//
// HaveRows does the same as a matcher, with the query in its failure message.
func Rows(ctx context.Context, db any, query string, args ...any) ([]map[string]any, error) {
	src, err := resolve(db, false)
	if err != nil {
		return nil, fmt.Errorf("gsql.Rows %w", err)
	}
	var out []map[string]any
	_, err = runProbe(ctx, 0, src, func(p *probe) error {
		return p.each(query, args, func(cols []string, row []any) bool {
			out = append(out, rowMap(cols, row))
			return true
		})
	})
	if err != nil {
		return nil, fmt.Errorf("gsql.Rows: %w", err)
	}
	return out, nil
}

func rowMap(cols []string, row []any) map[string]any {
	m := make(map[string]any, len(cols))
	for i, c := range cols {
		m[c] = row[i]
	}
	return m
}

// HaveRows succeeds if the query returns at least one row; with That, if its
// rows (as Rows returns them) satisfy a matcher instead. Arguments fill the
// query's $1, $2, … placeholders.
//
//	Expect(pool).To(gsql.HaveRows("SELECT 1 FROM jobs WHERE state = $1", "failed"))
//	Expect(pool).NotTo(gsql.HaveRows("SELECT 1 FROM jobs WHERE attempts > 3"))
//	Eventually(pool).Should(gsql.HaveRows("SELECT name FROM users ORDER BY name").
//		That(ConsistOf(
//			HaveKeyWithValue("name", "ann"),
//			HaveKeyWithValue("name", "bob"),
//		)))
//
// The failure message shows the query, its arguments and the rows it
// returned, and the inner matcher's own explanation.
func HaveRows(query string, args ...any) *RowsMatcher {
	return &RowsMatcher{newMatcher("HaveRows", rowsCheck{query: query, args: args})}
}

// RowsMatcher is the Matcher that HaveRows returns, with That added.
type RowsMatcher struct{ *Matcher }

// That makes HaveRows apply m to the rows, a []map[string]any, instead of
// asking for at least one.
func (r *RowsMatcher) That(m types.GomegaMatcher) *RowsMatcher {
	c := r.clone()
	check := c.check.(rowsCheck)
	check.inner, check.that = m, true
	c.check = check
	return &RowsMatcher{c}
}

// WithContext is Matcher.WithContext, keeping That available.
func (r *RowsMatcher) WithContext(ctx context.Context) *RowsMatcher {
	return &RowsMatcher{r.Matcher.WithContext(ctx)}
}

// WithTimeout is Matcher.WithTimeout, keeping That available.
func (r *RowsMatcher) WithTimeout(d time.Duration) *RowsMatcher {
	return &RowsMatcher{r.Matcher.WithTimeout(d)}
}

type rowsCheck struct {
	query string
	args  []any
	inner types.GomegaMatcher
	that  bool // That was called, so inner must be set
}

func (c rowsCheck) validate() error {
	if c.that && c.inner == nil {
		return errors.New("That was given a nil matcher")
	}
	return nil
}

func (c rowsCheck) run(p *probe) (outcome, error) {
	o := outcome{subject: "the query", predicate: "return rows"}
	t := &table{caption: "Rows returned"}
	var all []map[string]any
	err := p.each(strings.TrimSpace(c.query), c.args, func(cols []string, row []any) bool {
		t.add(cols, row)
		all = append(all, rowMap(cols, row))
		return true
	})
	if err != nil {
		return o, err
	}
	p.shown = t
	o.found = fmt.Sprintf("it returned %d", t.total)
	if c.inner == nil {
		o.predicate = "return rows"
		o.matched = t.total > 0
		return o, nil
	}
	o.predicate = "return rows that satisfy the matcher"
	if all == nil {
		all = []map[string]any{} // so HaveLen(0) and BeEmpty see a slice
	}
	o.detail = innerMessage(c.inner, all)
	o.matched, err = c.inner.Match(all)
	return o, err
}
