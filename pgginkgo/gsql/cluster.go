package gsql

import "fmt"

// The cluster matchers ask about the server rather than one database; any
// connection to it will do. Names are parameters, never SQL text.

// HaveDatabase succeeds if the server has a database of that name, template
// databases included.
//
//	Expect(pool).To(gsql.HaveDatabase("app_test"))
//	Eventually(pool).ShouldNot(gsql.HaveDatabase("spec_42")) // dropped after the spec
func HaveDatabase(name string) *Matcher {
	return newMatcher("HaveDatabase", listCheck{
		subject:   "the server",
		predicate: "have database " + quote(name),
		caption:   "Databases",
		sql:       `SELECT datname AS database, pg_get_userbyid(datdba) AS owner, datistemplate AS template FROM pg_database ORDER BY datistemplate, datname`,
		name:      name,
	})
}

// HaveExtension succeeds if the extension is installed in the database
// (CREATE EXTENSION has run there), not merely available on the server; the
// failure message says when it is available.
//
//	Expect(pool).To(gsql.HaveExtension("pgcrypto"))
func HaveExtension(name string) *Matcher {
	return newMatcher("HaveExtension", listCheck{
		subject:   "the database",
		predicate: "have extension " + quote(name) + " installed",
		caption:   "Installed extensions",
		sql:       `SELECT e.extname AS extension, e.extversion AS version, n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace ORDER BY 1`,
		name:      name,
		whyNot:    availableExtension,
	})
}

// HaveRole succeeds if the server has a role (a user or a group) of that name.
//
//	Expect(pool).To(gsql.HaveRole("app_reader"))
//	Eventually(pool).ShouldNot(gsql.HaveRole("spec_42_owner"))
func HaveRole(name string) *Matcher {
	return newMatcher("HaveRole", listCheck{
		subject:   "the server",
		predicate: "have role " + quote(name),
		caption:   "Roles",
		// Built-in pg_ roles last: they are rarely what a reader looks for.
		sql:  `SELECT rolname AS role, rolsuper AS superuser, rolcanlogin AS login FROM pg_roles ORDER BY rolname LIKE 'pg\_%', rolname`,
		name: name,
	})
}

// listCheck lists catalog rows whose first column is a name and looks for
// one; listing rather than filtering in SQL gives the failure message what is
// there for free.
type listCheck struct {
	subject, predicate, caption, sql string
	name                             string
	// whyNot may add to a "not found" with one more query.
	whyNot func(p *probe, name string) (string, error)
}

func (c listCheck) run(p *probe) (outcome, error) {
	o := outcome{subject: c.subject, predicate: c.predicate}
	cols, rows, err := p.all(c.sql)
	if err != nil {
		return o, err
	}
	p.show(c.caption, cols, rows)
	for _, r := range rows {
		if r[0] == c.name {
			// The one row a ShouldNot reader wants, which a long list
			// could cut off.
			p.show(c.caption+" named "+quote(c.name), cols, [][]any{r})
			o.matched, o.found = true, "it does"
			return o, nil
		}
	}
	o.found = "it does not"
	if c.whyNot != nil {
		why, err := c.whyNot(p, c.name)
		if err != nil {
			return o, err
		}
		if why != "" {
			o.found += "; " + why
		}
	}
	return o, nil
}

func availableExtension(p *probe, name string) (string, error) {
	_, rows, err := p.all(`SELECT default_version FROM pg_available_extensions WHERE name = $1`, name)
	if err != nil || len(rows) == 0 {
		return "", err
	}
	return fmt.Sprintf("the server has version %v available, which CREATE EXTENSION %s would install", rows[0][0], quote(name)), nil
}
