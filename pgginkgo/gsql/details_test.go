package gsql_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/pgginkgo/gsql"
)

var _ = Describe("catalog matchers", func() {
	It("do not count a view as a table, and say so", func() {
		msg := InterceptGomegaFailure(func() { Expect(pool).To(gsql.HaveTable("active_jobs")) }).Error()
		Expect(msg).To(HavePrefix(`Expected the database to have table "active_jobs", but "active_jobs" is a view.`))
	})

	It("compare column types the way PostgreSQL reads them", func() {
		Expect(pool).To(gsql.HaveColumn("jobs", "attempts", "int"))
		Expect(pool).To(gsql.HaveColumn("jobs", "attempts", "integer"))
		Expect(pool).To(gsql.HaveColumn("jobs", "note", "varchar"))
		Expect(pool).To(gsql.HaveColumn("jobs", "note", "varchar(20)"))
		Expect(pool).NotTo(gsql.HaveColumn("jobs", "note", "varchar(30)"))
		Expect(pool).To(gsql.HaveColumn("jobs", "price", "numeric(10, 2)"))
		Expect(pool).To(gsql.HaveColumn("jobs", "state", "job_state"))
		Expect(pool).To(gsql.HaveColumn("jobs", "note", HavePrefix("character varying")))
	})

	It("explain a column type that does not satisfy a matcher", func() {
		msg := InterceptGomegaFailure(func() { Expect(pool).To(gsql.HaveColumn("jobs", "note", Equal("text"))) }).Error()
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
		_, err := gsql.HaveColumn("jobs", "note", "texty").Match(pool)
		Expect(err).To(MatchError(ContainSubstring(`PostgreSQL knows no type "texty"`)))
	})

	It("find an index by its key columns in order, ignoring INCLUDE columns", func(ctx SpecContext) {
		exec(ctx, `CREATE UNIQUE INDEX jobs_token_idx ON jobs (token) INCLUDE (state); CREATE INDEX jobs_lower_queue_idx ON jobs (lower(queue))`)
		Expect(pool).To(gsql.HaveIndex("jobs", []string{"token"}))
		Expect(pool).To(gsql.HaveIndex("jobs", []string{"id"}))
		Expect(pool).NotTo(gsql.HaveIndex("jobs", []string{"run_at", "queue"}))
		Expect(pool).To(gsql.HaveIndex("jobs", "jobs_lower_queue_idx"))
		Expect(pool).NotTo(gsql.HaveIndex("audit.events", "jobs_pkey"))
		Expect(pool).To(gsql.HaveIndex("audit.events", "events_pkey"))
	})

	It("panic at once when called wrongly, naming the mistake", func() {
		Expect(func() { gsql.HaveIndex("jobs", 3) }).To(PanicWith(ContainSubstring("an index name (string) or its columns ([]string). Got:\n    <int>: 3")))
		Expect(func() { gsql.HaveIndex("jobs", []string{}) }).To(PanicWith(ContainSubstring("at least one column")))
		Expect(func() { gsql.HaveColumn("jobs", "id", 3) }).To(PanicWith(ContainSubstring("as a string such as \"text\" or as a Gomega matcher")))
		Expect(func() { gsql.HaveColumn("jobs", "id", "int", "text") }).To(PanicWith(ContainSubstring("at most one type")))
		Expect(func() { gsql.HaveRowCount("jobs", "3") }).To(PanicWith(ContainSubstring("an integer or a Gomega matcher. Got:\n    <string>: 3")))
		Expect(func() { gsql.HaveRow("jobs", nil) }).To(PanicWith(ContainSubstring("at least one column")))
		Expect(func() { gsql.HaveOpenConnections(3) }).To(PanicWith(ContainSubstring("Got:\n    <int>: 3")))
	})
})

var _ = Describe("HaveRowCount", func() {
	It("hands a matcher the count as an int", func() {
		Expect(pool).To(gsql.HaveRowCount("jobs", BeNumerically(">=", 3)))
		Expect(pool).To(gsql.HaveRowCount("jobs", Equal(3)))
		Expect(pool).To(gsql.HaveRowCount("jobs", int64(3)))
		msg := InterceptGomegaFailure(func() { Expect(pool).To(gsql.HaveRowCount("jobs", BeNumerically(">", 5))) }).Error()
		Expect(msg).To(HavePrefix("Expected table \"jobs\" to have a row count that satisfies the matcher, but it has 3.\nExpected\n    <int>: 3\nto be >\n    <int>: 5\n"))
	})
})

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
