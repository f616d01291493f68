package gsql

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
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

// HaveColumn succeeds if the table has the column.
//
//	Expect(pool).To(gsql.HaveColumn("jobs", "state"))
//	Eventually(pool).ShouldNot(gsql.HaveColumn("jobs", "legacy_flag"))
//
// To check its type as well, use HaveColumnOfType or HaveColumnOfTypeThat.
func HaveColumn(table, column string) *Matcher {
	return newMatcher("HaveColumn", columnCheck{table: table, column: column})
}

// HaveColumnOfType succeeds if the table has the column and the column has
// that type. The type is read the way PostgreSQL reads a type name, so
// aliases work ("timestamptz", "int", "varchar(20)"); a type modifier is
// compared only if typ has one ("varchar" matches a varchar(20)).
//
//	Expect(pool).To(gsql.HaveColumnOfType("jobs", "run_at", "timestamptz"))
//	Expect(tx).To(gsql.HaveColumnOfType("jobs", "note", "text")) // after ALTER TABLE in tx
//
// A type PostgreSQL does not know makes the matcher fail with an error.
func HaveColumnOfType(table, column, typ string) *Matcher {
	return newMatcher("HaveColumnOfType", columnCheck{table: table, column: column, typ: typ, mode: ofType})
}

// HaveColumnOfTypeThat succeeds if the table has the column and its type, as
// format_type writes it ("timestamp with time zone", "character
// varying(20)"), satisfies the matcher.
//
//	Expect(pool).To(gsql.HaveColumnOfTypeThat("jobs", "note", HavePrefix("character varying")))
func HaveColumnOfTypeThat(table, column string, typ types.GomegaMatcher) *Matcher {
	return newMatcher("HaveColumnOfTypeThat", columnCheck{table: table, column: column, typeMatcher: typ, mode: ofTypeThat})
}

// columnMode says which of the column matchers a columnCheck is.
type columnMode int

const (
	anyType columnMode = iota
	ofType
	ofTypeThat
)

type columnCheck struct {
	table, column string
	mode          columnMode
	typ           string
	typeMatcher   types.GomegaMatcher
}

func (c columnCheck) validate() error {
	switch {
	case c.mode == ofType && strings.TrimSpace(c.typ) == "":
		return errors.New(`the type is empty; write it as in CREATE TABLE, such as "text"`)
	case c.mode == ofTypeThat && c.typeMatcher == nil:
		return errors.New("the matcher of the type is nil")
	}
	return nil
}

// typmod matches a type modifier such as (20) or (10,2) in format_type's
// output, which the base type comparison ignores.
var typmod = regexp.MustCompile(`\s*\([^)]*\)`)

func (c columnCheck) run(p *probe) (outcome, error) {
	id, o, err := ofTable(c.table, "have column "+quote(c.column))
	if err != nil {
		return o, err
	}
	switch c.mode {
	case ofType:
		o.predicate += " of type " + c.typ
	case ofTypeThat:
		o.predicate += " with a type that satisfies the matcher"
	}
	rows, missing, err := p.aboutTable(&o, id, "Columns", `SELECT a.attname AS "column", format_type(a.atttypid, a.atttypmod) AS type, NOT a.attnotnull AS nullable
FROM pg_attribute a WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`)
	if missing || err != nil {
		return o, err
	}
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
	switch c.mode {
	case anyType:
		o.matched = true
	case ofTypeThat:
		o.matched, err = c.typeMatcher.Match(actual)
		o.detail = innerMessage(c.typeMatcher, actual)
	case ofType:
		o.matched, err = p.sameType(actual, c.typ)
	}
	if o.matched {
		o.found = "it does"
	}
	return o, err
}

// sameType compares a type as format_type writes it with one as a spec
// writes it.
func (p *probe) sameType(actual, typ string) (bool, error) {
	_, want, err := p.all(`SELECT format_type(to_regtype($1), NULL)`, typ)
	if err != nil {
		return false, err
	}
	base, _ := want[0][0].(string)
	if base == "" {
		return false, fmt.Errorf("PostgreSQL knows no type %q in database %q; write it as in CREATE TABLE", typ, p.database)
	}
	mod := strings.ReplaceAll(typmod.FindString(typ), " ", "")
	return typmod.ReplaceAllString(actual, "") == base &&
		strings.Contains(strings.ReplaceAll(actual, " ", ""), mod), nil
}

// ofTable reads a check's table name and starts its outcome, whose subject
// is the table.
func ofTable(table, predicate string) (pgx.Identifier, outcome, error) {
	id, err := parseName(table)
	if err != nil {
		return nil, outcome{}, err
	}
	return id, outcome{subject: "table " + id.Sanitize(), predicate: predicate}, nil
}

// aboutTable runs a catalog query whose $1 is the table and shows its rows
// under "<caption> of <table>". When it finds nothing because there is no
// such table, it says so in o.found and returns missing, so that "no such
// index" is not said of a table that does not exist.
func (p *probe) aboutTable(o *outcome, id pgx.Identifier, caption, sql string) (rows [][]any, missing bool, err error) {
	cols, rows, err := p.all(sql, id.Sanitize())
	if err != nil {
		return nil, false, err
	}
	if len(rows) == 0 {
		kind, err := p.relation(id)
		if err != nil || kind == "" {
			o.found = fmt.Sprintf("there is no table %s", id.Sanitize())
			return nil, err == nil, err
		}
	}
	p.show(caption+" of "+id.Sanitize(), cols, rows)
	return rows, false, nil
}

// HaveIndex succeeds if the table has an index of that name.
//
//	Expect(pool).To(gsql.HaveIndex("jobs", "jobs_state_idx"))
//	Eventually(pool).Should(gsql.HaveIndex("jobs", "jobs_state_idx")) // CREATE INDEX CONCURRENTLY
//
// To find an index by its columns, use HaveIndexOn.
func HaveIndex(table, name string) *Matcher {
	return newMatcher("HaveIndex", indexCheck{table: table, name: name})
}

// HaveIndexOn succeeds if the table has an index whose key columns are
// exactly these, in this order, whatever its name. INCLUDE columns are not
// key columns, and an expression such as lower(email) has no column.
//
//	Expect(pool).To(gsql.HaveIndexOn("jobs", "queue", "run_at"))
//	Expect(pool).NotTo(gsql.HaveIndexOn("jobs", "run_at", "queue"))
func HaveIndexOn(table string, columns ...string) *Matcher {
	return newMatcher("HaveIndexOn", indexCheck{table: table, columns: columns, on: true})
}

type indexCheck struct {
	table   string
	name    string
	columns []string
	on      bool // HaveIndexOn: by columns
}

func (c indexCheck) validate() error {
	if c.on && len(c.columns) == 0 {
		return errors.New("no columns given; name the index's key columns in order, or find it by name with HaveIndex")
	}
	return nil
}

func (c indexCheck) run(p *probe) (outcome, error) {
	id, o, err := ofTable(c.table, "have index "+quote(c.name))
	if err != nil {
		return o, err
	}
	if c.on {
		quoted := make([]string, len(c.columns))
		for i, col := range c.columns {
			quoted[i] = quote(col)
		}
		o.predicate = "have an index on (" + strings.Join(quoted, ", ") + ")"
	}
	// Key columns only, in key order; an expression has no column and is
	// left out, so an index on lower(email) has no columns.
	rows, missing, err := p.aboutTable(&o, id, "Indexes", `SELECT i.relname AS index,
  to_json(ARRAY(SELECT a.attname::text FROM generate_series(0, x.indnkeyatts - 1) AS k(n)
    JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[k.n] ORDER BY k.n)) AS columns,
  pg_get_indexdef(x.indexrelid) AS definition
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = to_regclass($1) ORDER BY 1`)
	if missing || err != nil {
		return o, err
	}
	o.found = "it has no such index"
	for _, r := range rows {
		if (!c.on && r[0] == c.name) || (c.on && sameNames(r[1], c.columns)) {
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
	id, o, err := ofTable(c.table, "have constraint "+quote(c.name))
	if err != nil {
		return o, err
	}
	rows, missing, err := p.aboutTable(&o, id, "Constraints", `SELECT conname AS "constraint",
  CASE contype WHEN 'p' THEN 'primary key' WHEN 'f' THEN 'foreign key' WHEN 'u' THEN 'unique' WHEN 'c' THEN 'check' WHEN 'x' THEN 'exclusion' WHEN 'n' THEN 'not null' ELSE contype::text END AS type,
  pg_get_constraintdef(oid) AS definition
FROM pg_constraint WHERE conrelid = to_regclass($1) ORDER BY 1`)
	if missing || err != nil {
		return o, err
	}
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
