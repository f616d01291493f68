package gsql_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/pgginkgo/pgginkgo/pgginkgo/gsql"
)

var _ = Describe("catalog matchers", func() {
	It("do not count a view as a table, and say so", func() {
		msg := InterceptGomegaFailure(func() { Expect(pool).To(gsql.HaveTable("active_jobs")) }).Error()
		Expect(msg).To(HavePrefix(`Expected the database to have table "active_jobs", but "active_jobs" is a view.`))
	})

	It("compare column types the way PostgreSQL reads them", func() {
		Expect(pool).To(gsql.HaveColumnOfType("jobs", "attempts", "int"))
		Expect(pool).To(gsql.HaveColumnOfType("jobs", "attempts", "integer"))
		Expect(pool).To(gsql.HaveColumnOfType("jobs", "note", "varchar"))
		Expect(pool).To(gsql.HaveColumnOfType("jobs", "note", "varchar(20)"))
		Expect(pool).NotTo(gsql.HaveColumnOfType("jobs", "note", "varchar(30)"))
		Expect(pool).To(gsql.HaveColumnOfType("jobs", "price", "numeric(10, 2)"))
		Expect(pool).To(gsql.HaveColumnOfType("jobs", "state", "job_state"))
		Expect(pool).To(gsql.HaveColumnOfTypeThat("jobs", "note", HavePrefix("character varying")))
	})

	It("explain a column type that does not satisfy a matcher", func() {
		msg := InterceptGomegaFailure(func() { Expect(pool).To(gsql.HaveColumnOfTypeThat("jobs", "note", Equal("text"))) }).Error()
		Expect(msg).To(HavePrefix("Expected table \"jobs\" to have column \"note\" with a type that satisfies the matcher, but column \"note\" has type character varying(20).\nExpected\n    <string>: character varying(20)\nto equal\n    <string>: text\n"))
	})

	It("say when a column or table is missing", func() {
		msg := InterceptGomegaFailure(func() { Expect(pool).To(gsql.HaveColumn("jobs", "nope")) }).Error()
		Expect(msg).To(HavePrefix(`Expected table "jobs" to have column "nope", but it has no such column.`))
		for _, m := range []OmegaMatcher{gsql.HaveColumn("nope", "id"), gsql.HaveIndex("nope", "x"), gsql.HaveConstraint("nope", "x")} {
			msg = InterceptGomegaFailure(func() { Expect(pool).To(m) }).Error()
			Expect(msg).To(ContainSubstring(`but there is no table "nope".`))
		}
		Expect(pool).NotTo(gsql.HaveColumn("nope", "id"))
	})

	It("refuse a type PostgreSQL does not know", func() {
		_, err := gsql.HaveColumnOfType("jobs", "note", "texty").Match(pool)
		Expect(err).To(MatchError(ContainSubstring(`PostgreSQL knows no type "texty"`)))
	})

	It("find an index by its key columns in order, ignoring INCLUDE columns", func(ctx SpecContext) {
		exec(ctx, `CREATE UNIQUE INDEX jobs_token_idx ON jobs (token) INCLUDE (state); CREATE INDEX jobs_lower_queue_idx ON jobs (lower(queue))`)
		Expect(pool).To(gsql.HaveIndexOn("jobs", "token"))
		Expect(pool).To(gsql.HaveIndexOn("jobs", "id"))
		Expect(pool).NotTo(gsql.HaveIndexOn("jobs", "run_at", "queue"))
		Expect(pool).To(gsql.HaveIndex("jobs", "jobs_lower_queue_idx"))
		Expect(pool).NotTo(gsql.HaveIndex("audit.events", "jobs_pkey"))
		Expect(pool).To(gsql.HaveIndex("audit.events", "events_pkey"))
	})

	It("find an index by its name or by its key columns, the name being any", func(ctx SpecContext) {
		exec(ctx, `CREATE INDEX jobs_state_idx ON jobs (state)`)
		Expect(pool).To(gsql.HaveIndex("jobs", "jobs_state_idx"))
		Expect(pool).To(gsql.HaveIndexOn("jobs", "state"))
		Expect(pool).NotTo(gsql.HaveIndex("jobs", "state"), "a column is not an index name")
		Expect(pool).NotTo(gsql.HaveIndexOn("jobs", "jobs_state_idx"), "an index name is not a column")
		msg := InterceptGomegaFailure(func() { Expect(pool).To(gsql.HaveIndexOn("jobs", "queue")) }).Error()
		Expect(msg).To(HavePrefix(`Expected table "jobs" to have an index on ("queue"), but it has no such index.`))
	})
})

var _ = Describe("HaveRowCount and HaveRowCountThat", func() {
	It("count exactly with an int", func() {
		Expect(pool).To(gsql.HaveRowCount("jobs", 3))
		Expect(pool).NotTo(gsql.HaveRowCount("jobs", 2))
		Expect(pool).To(gsql.HaveRowCount("audit.events", 0))
	})

	It("hand a matcher the count as an int", func() {
		Expect(pool).To(gsql.HaveRowCountThat("jobs", BeNumerically(">=", 3)))
		Expect(pool).To(gsql.HaveRowCountThat("jobs", Equal(3)))
		Expect(pool).NotTo(gsql.HaveRowCountThat("jobs", BeNumerically(">", 3)))
		msg := InterceptGomegaFailure(func() { Expect(pool).To(gsql.HaveRowCountThat("jobs", BeNumerically(">", 5))) }).Error()
		Expect(msg).To(HavePrefix("Expected table \"jobs\" to have a row count that satisfies the matcher, but it has 3.\nExpected\n    <int>: 3\nto be >\n    <int>: 5\n"))
	})
})

// Invalid arguments are Gomega failures, never panics, and Eventually gives
// up on them at once, since no database can satisfy them.
var _ = DescribeTable("invalid arguments",
	func(m func() types.GomegaMatcher, message string) {
		var matcher types.GomegaMatcher
		Expect(func() { matcher = m() }).NotTo(Panic())
		ok, err := matcher.Match(pool)
		Expect(ok).To(BeFalse())
		Expect(err).To(MatchError(message))

		start := time.Now()
		failure := InterceptGomegaFailure(func() { Eventually(pool).WithTimeout(5 * time.Second).Should(matcher) })
		Expect(failure).To(MatchError(ContainSubstring(message)))
		Expect(time.Since(start)).To(BeNumerically("<", 2*time.Second))
	},
	Entry("a negative row count", func() types.GomegaMatcher { return gsql.HaveRowCount("jobs", -1) },
		"gsql.HaveRowCount: a table cannot have -1 rows; for a range of counts, use HaveRowCountThat"),
	Entry("a nil count matcher", func() types.GomegaMatcher { return gsql.HaveRowCountThat("jobs", nil) },
		"gsql.HaveRowCountThat: the matcher of the count is nil"),
	Entry("an index on no columns", func() types.GomegaMatcher { return gsql.HaveIndexOn("jobs") },
		"gsql.HaveIndexOn: no columns given; name the index's key columns in order, or find it by name with HaveIndex"),
	Entry("an empty type", func() types.GomegaMatcher { return gsql.HaveColumnOfType("jobs", "id", " ") },
		`gsql.HaveColumnOfType: the type is empty; write it as in CREATE TABLE, such as "text"`),
	Entry("a nil type matcher", func() types.GomegaMatcher { return gsql.HaveColumnOfTypeThat("jobs", "id", nil) },
		"gsql.HaveColumnOfTypeThat: the matcher of the type is nil"),
	Entry("no columns for HaveRow", func() types.GomegaMatcher { return gsql.HaveRow("jobs", nil) },
		`gsql.HaveRow: the Columns are empty, so there is nothing to compare; to ask for any row at all, use HaveRowCountThat(table, BeNumerically(">", 0))`),
	Entry("a nil ignoring matcher", func() types.GomegaMatcher { return gsql.HaveOpenConnections(gsql.IgnoringApplication("x"), nil) },
		"gsql.HaveOpenConnections: ignoring matcher 2 of 2 is nil"),
	Entry("That with nil", func() types.GomegaMatcher { return gsql.HaveRows("SELECT 1").That(nil) },
		"gsql.HaveRows: That was given a nil matcher"),
	Entry("a malformed table name", func() types.GomegaMatcher { return gsql.HaveRowCount("a.b.c", 0) },
		`gsql.HaveRowCount: name "a.b.c" has 3 parts; write schema.table or table (quote a dot that belongs to a name: "a.b")`),
)

var _ = Describe("HaveRow", func() {
	It("compares plain values by what they mean, not their Go type", func() {
		Expect(pool).To(gsql.HaveRow("jobs", gsql.Columns{
			"id":       uint8(1),
			"price":    12.5,
			"attempts": 2.0,
			"token":    "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
			"payload":  map[string]any{"to": "ann"},
			"run_at":   time.Date(2024, 5, 1, 14, 0, 0, 0, time.FixedZone("CEST", 2*3600)),
			"note":     nil,
		}))
		Expect(pool).To(gsql.HaveRow("jobs", gsql.Columns{"price": "3.00", "payload": map[string]any{"n": 1, "to": "bob"}}))
		Expect(pool).NotTo(gsql.HaveRow("jobs", gsql.Columns{"price": "3"}), "text is compared as text")
		Expect(pool).NotTo(gsql.HaveRow("jobs", gsql.Columns{"price": 3.001}))
		type state string
		Expect(pool).To(gsql.HaveRow("jobs", gsql.Columns{"state": state("failed")}))
	})

	It("takes Gomega matchers for values", func() {
		Expect(pool).To(gsql.HaveRow("jobs", gsql.Columns{
			"queue":    HavePrefix("sm"),
			"attempts": BeNumerically(">", 3),
			"payload":  HaveKeyWithValue("to", "bob"),
		}))
	})

	It("refuses a column the table does not have", func() {
		_, err := gsql.HaveRow("jobs", gsql.Columns{"colour": "red", "state": "done"}).Match(pool)
		Expect(err).To(MatchError(ContainSubstring(`table "jobs" in database "gsql_test_`)))
		Expect(err).To(MatchError(ContainSubstring(`has no column "colour"; it has id, queue, state`)))
	})

	It("says when the table is empty", func() {
		msg := InterceptGomegaFailure(func() { Expect(pool).To(gsql.HaveRow("audit.events", gsql.Columns{"kind": "x"})) }).Error()
		Expect(msg).To(ContainSubstring("but the table is empty."))
	})
})

var _ = Describe("cluster matchers", func() {
	It("say when an extension is available but not installed", func(ctx SpecContext) {
		rows, err := gsql.Rows(ctx, pool, "SELECT default_version FROM pg_available_extensions WHERE name = 'pgcrypto'")
		Expect(err).NotTo(HaveOccurred())
		if len(rows) == 0 {
			Skip("this server does not ship pgcrypto")
		}
		msg := InterceptGomegaFailure(func() { Expect(pool).To(gsql.HaveExtension("pgcrypto")) }).Error()
		Expect(msg).To(ContainSubstring(`but it does not; the server has version ` + rows[0]["default_version"].(string) + ` available, which CREATE EXTENSION "pgcrypto" would install.`))
	})

	It("find the server's own superuser", func(ctx SpecContext) {
		rows, err := gsql.Rows(ctx, pool, "SELECT current_user AS me")
		Expect(err).NotTo(HaveOccurred())
		Expect(pool).To(gsql.HaveRole(rows[0]["me"].(string)))
		Expect(pool).To(gsql.HaveDatabase("postgres"))
	})
})
