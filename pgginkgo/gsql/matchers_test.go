package gsql_test

import (
	"context"
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/pgginkgo/pgginkgo/pgginkgo/gsql"
)

// matcherCase describes one matcher against the fixture: a form that
// matches, a form that does not, and what each failure message must say.
type matcherCase struct {
	name string
	// setup, if set, prepares the database before either form is built.
	setup    func(ctx context.Context)
	matching func() types.GomegaMatcher
	missing  func() types.GomegaMatcher
	failure  []string // in the message of Expect(db).To(missing)
	negated  []string // in the message of Expect(db).NotTo(matching)
}

// readerRole is a role the suite creates, since roles belong to the server.
func readerRole() string { return fmt.Sprintf("gsql_reader_%d", GinkgoParallelProcess()) }

var matcherCases = []matcherCase{
	{
		name:     "HaveTable",
		matching: func() types.GomegaMatcher { return gsql.HaveTable("jobs") },
		missing:  func() types.GomegaMatcher { return gsql.HaveTable("nope") },
		failure:  []string{`Expected the database to have table "nope", but it does not.`, "Tables and views (3 rows):", "active_jobs | view"},
		negated:  []string{`Expected the database not to have table "jobs", but it does.`, "current_schemas(false)"},
	},
	{
		name:     "HaveColumnOfType",
		matching: func() types.GomegaMatcher { return gsql.HaveColumnOfType("jobs", "run_at", "timestamptz") },
		missing:  func() types.GomegaMatcher { return gsql.HaveColumnOfType("jobs", "run_at", "text") },
		failure:  []string{`Expected table "jobs" to have column "run_at" of type text, but column "run_at" has type timestamp with time zone.`, `Columns of "jobs" (9 rows):`, "note     | character varying(20)    | true"},
		negated:  []string{`Expected table "jobs" not to have column "run_at" of type timestamptz, but it does.`},
	},
	{
		name:     "HaveIndexOn",
		matching: func() types.GomegaMatcher { return gsql.HaveIndexOn("jobs", "queue", "run_at") },
		missing:  func() types.GomegaMatcher { return gsql.HaveIndex("jobs", "jobs_state_idx") },
		failure:  []string{`Expected table "jobs" to have index "jobs_state_idx", but it has no such index.`, `Indexes of "jobs" (2 rows):`, `jobs_queue_run_at_idx | ["queue","run_at"]`},
		negated:  []string{`Expected table "jobs" not to have an index on ("queue", "run_at"), but it has CREATE INDEX jobs_queue_run_at_idx ON public.jobs USING btree (queue, run_at).`},
	},
	{
		name:     "HaveConstraint",
		matching: func() types.GomegaMatcher { return gsql.HaveConstraint("jobs", "jobs_attempts_check") },
		missing:  func() types.GomegaMatcher { return gsql.HaveConstraint("jobs", "jobs_queue_fkey") },
		failure:  []string{`Expected table "jobs" to have constraint "jobs_queue_fkey", but it has no such constraint.`, "jobs_pkey           | primary key | PRIMARY KEY (id)"},
		negated:  []string{`Expected table "jobs" not to have constraint "jobs_attempts_check", but it has check CHECK ((attempts >= 0)).`},
	},
	{
		name:     "HaveRowCount",
		matching: func() types.GomegaMatcher { return gsql.HaveRowCount("jobs", 3) },
		missing:  func() types.GomegaMatcher { return gsql.HaveRowCount("jobs", 4) },
		failure:  []string{`Expected table "jobs" to have 4 rows, but it has 3.`, `SELECT count(*) FROM "jobs"`, `SELECT * FROM "jobs" LIMIT 10`, `Rows of "jobs" (3 rows):`, "sms   | failed"},
		negated:  []string{`Expected table "jobs" not to have 3 rows, but it has 3.`},
	},
	{
		name:     "HaveRow",
		matching: func() types.GomegaMatcher { return gsql.HaveRow("jobs", gsql.Columns{"queue": "sms", "attempts": 5}) },
		missing:  func() types.GomegaMatcher { return gsql.HaveRow("jobs", gsql.Columns{"queue": "sms", "state": "done"}) },
		failure:  []string{"Expected table \"jobs\" to have a row with\n    queue: <string>: sms\n    state: <string>: done\nbut none of its 3 rows does.", "The closest row (row 1 below) differs in:\n    queue: Expected\n        <string>: mail\n    to equal\n        <string>: sms", `Rows of "jobs" (3 rows):`},
		negated:  []string{"Expected table \"jobs\" not to have a row with\n    attempts: <int>: 5\n    queue: <string>: sms\nbut it does.", `The matching row of "jobs" (1 row):`},
	},
	{
		name:     "HaveRows",
		matching: func() types.GomegaMatcher { return gsql.HaveRows("SELECT id FROM jobs WHERE state = $1", "failed") },
		missing:  func() types.GomegaMatcher { return gsql.HaveRows("SELECT id FROM jobs WHERE attempts > $1", 10) },
		failure:  []string{"Expected the query to return rows, but it returned 0.", "SELECT id FROM jobs WHERE attempts > $1\n    -- with $1 = 10", "Rows returned (0 rows):\n    (no rows)"},
		negated:  []string{"Expected the query not to return rows, but it returned 1.", "-- with $1 = 'failed'", "Rows returned (1 row):"},
	},
	{
		name: "HaveRows.That",
		matching: func() types.GomegaMatcher {
			return gsql.HaveRows("SELECT queue FROM jobs ORDER BY id").That(ConsistOf(
				HaveKeyWithValue("queue", "mail"), HaveKeyWithValue("queue", "mail"), HaveKeyWithValue("queue", "sms")))
		},
		missing: func() types.GomegaMatcher {
			return gsql.HaveRows("SELECT queue FROM jobs ORDER BY id").That(HaveLen(2))
		},
		failure: []string{"Expected the query to return rows that satisfy the matcher, but it returned 3.", "to have length 2", "Rows returned (3 rows):"},
		negated: []string{"Expected the query not to return rows that satisfy the matcher, but it returned 3.", "not to consist of"},
	},
	{
		name:     "HaveDatabase",
		matching: func() types.GomegaMatcher { return gsql.HaveDatabase(dbName) },
		missing:  func() types.GomegaMatcher { return gsql.HaveDatabase("no_such_db") },
		failure:  []string{`Expected the server to have database "no_such_db", but it does not.`, "Databases (", "template1"},
		negated:  []string{`not to have database "gsql_test_`, `Databases named "gsql_test_`},
	},
	{
		name:     "HaveExtension",
		matching: func() types.GomegaMatcher { return gsql.HaveExtension("plpgsql") },
		missing:  func() types.GomegaMatcher { return gsql.HaveExtension("no_such_extension") },
		failure:  []string{`Expected the database to have extension "no_such_extension" installed, but it does not.`, "Installed extensions (1 row):", "plpgsql   | 1.0     | pg_catalog"},
		negated:  []string{`Expected the database not to have extension "plpgsql" installed, but it does.`},
	},
	{
		name: "HaveRole",
		setup: func(ctx context.Context) {
			_, err := server.admin.Exec(ctx, `DO $$ BEGIN CREATE ROLE `+readerRole()+`; EXCEPTION WHEN duplicate_object THEN NULL; END $$`)
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(func(ctx SpecContext) {
				_, err := server.admin.Exec(ctx, "DROP ROLE IF EXISTS "+readerRole())
				Expect(err).NotTo(HaveOccurred())
			})
		},
		matching: func() types.GomegaMatcher { return gsql.HaveRole(readerRole()) },
		missing:  func() types.GomegaMatcher { return gsql.HaveRole("no_such_role") },
		failure:  []string{`Expected the server to have role "no_such_role", but it does not.`, "role", "superuser | login"},
		negated:  []string{`Expected the server not to have role "gsql_reader_`, `Roles named "gsql_reader_`},
	},
	{
		name: "HaveOpenConnections",
		setup: func(ctx context.Context) {
			Eventually(pool).ShouldNot(gsql.HaveOpenConnections(), "connections of earlier specs close")
			openConn(ctx, "application_name=leaky")
		},
		matching: func() types.GomegaMatcher { return gsql.HaveOpenConnections() },
		missing:  func() types.GomegaMatcher { return gsql.HaveOpenConnections(gsql.IgnoringApplication("leaky")) },
		failure:  []string{"Expected the database to have open connections other than the checker's, but it has none (1 more ignored).", "Open connections (0 rows):"},
		negated:  []string{"Expected the database not to have open connections other than the checker's, but it has 1.", "Open connections (1 row):", "| leaky            | idle"},
	},
}

var _ = Describe("every matcher", func() {
	for _, c := range matcherCases {
		Describe(c.name, func() {
			BeforeEach(func(ctx SpecContext) {
				if c.setup != nil {
					c.setup(ctx)
				}
			})

			It("matches", func() {
				Expect(pool).To(c.matching())
			})

			It("does not match", func() {
				Expect(pool).NotTo(c.missing())
			})

			It("says what was expected and what is there when it fails", func() {
				msg := InterceptGomegaFailure(func() { Expect(pool).To(c.missing()) }).Error()
				Expect(msg).To(ContainSubstring(fmt.Sprintf("In database %q, gsql ran:", dbName)))
				for _, s := range c.failure {
					Expect(msg).To(ContainSubstring(s))
				}
			})

			It("says what was expected and what is there when a negation fails", func() {
				msg := InterceptGomegaFailure(func() { Expect(pool).NotTo(c.matching()) }).Error()
				Expect(msg).To(ContainSubstring(fmt.Sprintf("In database %q, gsql ran:", dbName)))
				for _, s := range c.negated {
					Expect(msg).To(ContainSubstring(s))
				}
			})

			It("names the accepted types when given something else", func() {
				msg := InterceptGomegaFailure(func() { Expect("postgres://localhost/app").To(c.matching()) }).Error()
				accepted := "a *pgxpool.Pool, a *pgxpool.Conn, a *pgx.Conn, a pgx.Tx, a *sql.DB or a gsql.PoolProvider"
				if c.name == "HaveOpenConnections" {
					accepted = "a *pgxpool.Pool, a *pgx.Conn, a *sql.DB or a gsql.PoolProvider"
				}
				Expect(msg).To(HavePrefix("gsql." + firstWord(c.name) + " expects " + accepted + " (any value with a Pool() *pgxpool.Pool method, such as pgginkgo's spec database). Got:\n"))
				Expect(msg).To(ContainSubstring("<string>: postgres://localhost/app"))
			})
		})
	}
})

// firstWord cuts "HaveRows.That" to "HaveRows", the matcher's own name.
func firstWord(s string) string {
	name, _, _ := strings.Cut(s, ".")
	return name
}
