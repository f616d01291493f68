package gsql

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/onsi/gomega/format"
	"github.com/onsi/gomega/types"
)

// The catalog matchers ask pg_catalog with the name as a parameter, resolved
// by to_regclass the way PostgreSQL resolves a name in a query, so they follow
// search_path and never put the name into SQL text.

const relationKindSQL = `CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'partitioned table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'f' THEN 'foreign table' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' ELSE c.relkind::text END`

// HaveTable succeeds if the database has a table (plain or partitioned) of
// that name. An unqualified name is looked up through search_path, and
// "schema.table" in that schema; see the package documentation for quoting.
//
//	Expect(pool).To(gsql.HaveTable("jobs"))
//	Expect(pool).To(gsql.HaveTable("audit.events"))
//	Eventually(pool).Should(gsql.HaveTable("jobs")) // while migrations run
//
// A view of that name does not count, and the failure message says so.
func HaveTable(name string) *Matcher {
	return newMatcher("HaveTable", tableCheck{name})
}

type tableCheck struct{ name string }

func (c tableCheck) run(p *probe) (outcome, error) {
	id, err := parseName(c.name)
	if err != nil {
		return outcome{}, err
	}
	o := outcome{subject: "the database", predicate: "have table " + id.Sanitize()}
	kind, err := p.relation(id)
	if err != nil {
		return o, err
	}
	where, args := "n.nspname = ANY (current_schemas(false))", []any{}
	if len(id) == 2 {
		where, args = "n.nspname = $1", []any{id[0]}
	}
	cols, rows, err := p.all(`SELECT n.nspname AS schema, c.relname AS name, `+relationKindSQL+` AS kind
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND `+where+` ORDER BY 1, 2`, args...)
	if err != nil {
		return o, err
	}
	p.show("Tables and views", cols, rows)
	switch kind {
	case "table", "partitioned table":
		o.matched, o.found = true, "it does"
	case "":
		o.found = "it does not"
	default:
		o.found = fmt.Sprintf("%s is a %s", id.Sanitize(), kind)
	}
	return o, nil
}

// relation reports what kind of relation the name resolves to, or "" if none.
func (p *probe) relation(id pgx.Identifier) (kind string, err error) {
	_, rows, err := p.all(`SELECT `+relationKindSQL+` FROM pg_class c WHERE c.oid = to_regclass($1)`, id.Sanitize())
	if err != nil || len(rows) == 0 {
		return "", err
	}
	kind, _ = rows[0][0].(string)
	return kind, nil
}

// HaveColumn succeeds if the table has the column, and if a type is given,
// if the column has that type. The type is a string read the way PostgreSQL
// reads a type name, so aliases work ("timestamptz", "int", "varchar(20)"),
// or a Gomega matcher, which sees the type as format_type writes it
// ("timestamp with time zone", "character varying(20)").
//
//	Expect(pool).To(gsql.HaveColumn("jobs", "state"))
//	Expect(pool).To(gsql.HaveColumn("jobs", "run_at", "timestamptz"))
//	Expect(pool).To(gsql.HaveColumn("jobs", "note", HavePrefix("character varying")))
//	Eventually(pool).ShouldNot(gsql.HaveColumn("jobs", "legacy_flag"))
func HaveColumn(table, column string, typ ...any) *Matcher {
	c := columnCheck{table: table, column: column}
	switch {
	case len(typ) > 1:
		panic(fmt.Sprintf("gsql.HaveColumn takes at most one type, got %d", len(typ)))
	case len(typ) == 1:
		switch typ[0].(type) {
		case string, types.GomegaMatcher:
			c.typ = typ[0]
		default:
			panic(fmt.Sprintf("gsql.HaveColumn expects the type as a string such as \"text\" or as a Gomega matcher. Got:\n%s", format.Object(typ[0], 1)))
		}
	}
	return newMatcher("HaveColumn", c)
}

type columnCheck struct {
	table, column string
	typ           any // nil, string or types.GomegaMatcher
}

// typmod matches a type modifier such as (20) or (10,2) in format_type's
// output, which the base type comparison ignores.
var typmod = regexp.MustCompile(`\s*\([^)]*\)`)

func (c columnCheck) run(p *probe) (outcome, error) {
	id, err := parseName(c.table)
	if err != nil {
		return outcome{}, err
	}
	o := outcome{subject: "table " + id.Sanitize(), predicate: "have column " + quote(c.column)}
	switch t := c.typ.(type) {
	case string:
		o.predicate += " of type " + t
	case types.GomegaMatcher:
		o.predicate += " with a type that satisfies the matcher"
	}
	cols, rows, err := p.all(`SELECT a.attname AS "column", format_type(a.atttypid, a.atttypmod) AS type, NOT a.attnotnull AS nullable
FROM pg_attribute a WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`, id.Sanitize())
	if err != nil {
		return o, err
	}
	if len(rows) == 0 {
		if missing, err := p.tableMissing(&o, id); missing || err != nil {
			return o, err
		}
	}
	p.show("Columns of "+id.Sanitize(), cols, rows)
	var actual string
	for _, r := range rows {
		if r[0] == c.column {
			actual, _ = r[1].(string)
		}
	}
	if actual == "" {
		o.found = "it has no such column"
		return o, nil
	}
	o.found = fmt.Sprintf("column %s has type %s", quote(c.column), actual)
	switch t := c.typ.(type) {
	case nil:
		o.matched = true
	case types.GomegaMatcher:
		o.matched, err = t.Match(actual)
		o.detail = innerMessage(t, actual)
	case string:
		_, want, err := p.all(`SELECT format_type(to_regtype($1), NULL)`, t)
		if err != nil {
			return o, err
		}
		base, _ := want[0][0].(string)
		if base == "" {
			return o, fmt.Errorf("PostgreSQL knows no type %q in database %q; write it as in CREATE TABLE", t, p.database)
		}
		mod := strings.ReplaceAll(typmod.FindString(t), " ", "")
		o.matched = typmod.ReplaceAllString(actual, "") == base &&
			strings.Contains(strings.ReplaceAll(actual, " ", ""), mod)
	}
	if o.matched {
		o.found = "it does"
	}
	return o, err
}

// tableMissing is asked when a catalog query found nothing, so that "no such
// index" is not said of a table that does not exist.
func (p *probe) tableMissing(o *outcome, id pgx.Identifier) (bool, error) {
	kind, err := p.relation(id)
	if err != nil || kind != "" {
		return false, err
	}
	o.found = fmt.Sprintf("there is no table %s", id.Sanitize())
	return true, nil
}

// HaveIndex succeeds if the table has an index of that name (a string), or
// an index whose key columns are exactly these, in this order (a []string).
//
//	Expect(pool).To(gsql.HaveIndex("jobs", "jobs_state_idx"))
//	Expect(pool).To(gsql.HaveIndex("jobs", []string{"queue", "run_at"}))
//	Eventually(pool).Should(gsql.HaveIndex("jobs", "jobs_state_idx")) // CREATE INDEX CONCURRENTLY
func HaveIndex(table string, nameOrColumns any) *Matcher {
	c := indexCheck{table: table}
	switch v := nameOrColumns.(type) {
	case string:
		c.name = v
	case []string:
		if len(v) == 0 {
			panic("gsql.HaveIndex needs at least one column")
		}
		c.columns = v
	default:
		panic(fmt.Sprintf("gsql.HaveIndex expects an index name (string) or its columns ([]string). Got:\n%s", format.Object(nameOrColumns, 1)))
	}
	return newMatcher("HaveIndex", c)
}

type indexCheck struct {
	table   string
	name    string
	columns []string
}

func (c indexCheck) run(p *probe) (outcome, error) {
	id, err := parseName(c.table)
	if err != nil {
		return outcome{}, err
	}
	o := outcome{subject: "table " + id.Sanitize(), predicate: "have index " + quote(c.name)}
	if c.columns != nil {
		quoted := make([]string, len(c.columns))
		for i, col := range c.columns {
			quoted[i] = quote(col)
		}
		o.predicate = "have an index on (" + strings.Join(quoted, ", ") + ")"
	}
	// Key columns only, in key order; an expression has no column and is
	// left out, so an index on lower(email) has no columns.
	cols, rows, err := p.all(`SELECT i.relname AS index,
  to_json(ARRAY(SELECT a.attname::text FROM generate_series(0, x.indnkeyatts - 1) AS k(n)
    JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[k.n] ORDER BY k.n)) AS columns,
  pg_get_indexdef(x.indexrelid) AS definition
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = to_regclass($1) ORDER BY 1`, id.Sanitize())
	if err != nil {
		return o, err
	}
	if len(rows) == 0 {
		if missing, err := p.tableMissing(&o, id); missing || err != nil {
			return o, err
		}
	}
	p.show("Indexes of "+id.Sanitize(), cols, rows)
	o.found = "it has no such index"
	for _, r := range rows {
		if (c.columns == nil && r[0] == c.name) || (c.columns != nil && sameNames(r[1], c.columns)) {
			o.matched, o.found = true, fmt.Sprintf("it has %s", r[2])
			break
		}
	}
	return o, nil
}

func sameNames(actual any, want []string) bool {
	got, _ := actual.([]any)
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

// HaveConstraint succeeds if the table has a constraint of that name: a
// primary key, foreign key, unique, check or exclusion constraint.
//
//	Expect(pool).To(gsql.HaveConstraint("jobs", "jobs_pkey"))
//	Eventually(pool).Should(gsql.HaveConstraint("jobs", "jobs_queue_fkey"))
func HaveConstraint(table, name string) *Matcher {
	return newMatcher("HaveConstraint", constraintCheck{table, name})
}

type constraintCheck struct{ table, name string }

func (c constraintCheck) run(p *probe) (outcome, error) {
	id, err := parseName(c.table)
	if err != nil {
		return outcome{}, err
	}
	o := outcome{subject: "table " + id.Sanitize(), predicate: "have constraint " + quote(c.name)}
	cols, rows, err := p.all(`SELECT conname AS "constraint",
  CASE contype WHEN 'p' THEN 'primary key' WHEN 'f' THEN 'foreign key' WHEN 'u' THEN 'unique' WHEN 'c' THEN 'check' WHEN 'x' THEN 'exclusion' WHEN 'n' THEN 'not null' ELSE contype::text END AS type,
  pg_get_constraintdef(oid) AS definition
FROM pg_constraint WHERE conrelid = to_regclass($1) ORDER BY 1`, id.Sanitize())
	if err != nil {
		return o, err
	}
	if len(rows) == 0 {
		if missing, err := p.tableMissing(&o, id); missing || err != nil {
			return o, err
		}
	}
	p.show("Constraints of "+id.Sanitize(), cols, rows)
	o.found = "it has no such constraint"
	for _, r := range rows {
		if r[0] == c.name {
			o.matched, o.found = true, fmt.Sprintf("it has %s %s", r[1], r[2])
		}
	}
	return o, nil
}

// quote writes a single name as SQL would, for messages.
func quote(name string) string { return pgx.Identifier{name}.Sanitize() }

// innerMessage lets an inner matcher explain itself in our message.
func innerMessage(m types.GomegaMatcher, actual any) func(bool) string {
	return func(negated bool) string {
		if negated {
			return m.NegatedFailureMessage(actual)
		}
		return m.FailureMessage(actual)
	}
}
