package gsql_test

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/pgginkgo/pgginkgo/pgginkgo/gsql"
)

var _ = Describe("names", func() {
	It("reads schema.table as SQL does", func() {
		Expect(pool).To(gsql.HaveTable("audit.events"))
		Expect(pool).To(gsql.HaveRowCount("audit.events", 0))
		Expect(pool).To(gsql.HaveColumnOfType("audit.events", "kind", "text"))
		Expect(pool).NotTo(gsql.HaveTable("events"), "audit is not on search_path")
		Expect(pool).NotTo(gsql.HaveTable("public.events"))
	})

	It("handles names with quotes and dots in them", func(ctx SpecContext) {
		exec(ctx, `CREATE SCHEMA "my.schema";
CREATE TABLE "weird""name" (id int PRIMARY KEY, "odd""col" text, "Mixed Case" int);
CREATE TABLE "my.schema"."weird""name" (id int);
INSERT INTO "weird""name" VALUES (1, 'x"y', 7);`)
		Expect(pool).To(gsql.HaveTable(`weird"name`))
		Expect(pool).To(gsql.HaveTable(`"my.schema"."weird""name"`))
		Expect(pool).To(gsql.HaveTable(`"my.schema".weird"name`))
		Expect(pool).To(gsql.HaveRowCount(`weird"name`, 1))
		Expect(pool).To(gsql.HaveRowCount(`"my.schema".weird"name`, 0))
		Expect(pool).To(gsql.HaveRow(`weird"name`, gsql.Columns{`odd"col`: `x"y`, "Mixed Case": 7}))
		Expect(pool).To(gsql.HaveColumnOfType(`weird"name`, `odd"col`, "text"))
		Expect(pool).To(gsql.HaveConstraint(`weird"name`, `weird"name_pkey`))
		Expect(pool).To(gsql.HaveIndexOn(`weird"name`, "id"))
		Expect(pool).To(gsql.HaveRows(`SELECT 1 FROM "weird""name" WHERE "odd""col" = $1`, `x"y`))

		msg := InterceptGomegaFailure(func() { Expect(pool).To(gsql.HaveRowCount(`weird"name`, 2)) }).Error()
		Expect(msg).To(ContainSubstring(`Expected table "weird""name" to have 2 rows, but it has 1.`))
		Expect(msg).To(ContainSubstring(`SELECT count(*) FROM "weird""name"`))
	})

	It("takes names as the catalog stores them, without folding case", func(ctx SpecContext) {
		exec(ctx, `CREATE TABLE "Users" (id int)`)
		Expect(pool).To(gsql.HaveTable("Users"))
		Expect(pool).NotTo(gsql.HaveTable("users"))
	})

	DescribeTable("refuses malformed names with an error, not a panic",
		func(name, complaint string) {
			_, err := gsql.HaveRowCount(name, 0).Match(pool)
			Expect(err).To(MatchError(ContainSubstring(complaint)))
		},
		Entry("empty", "", "the name is empty"),
		Entry("unclosed quote", `"jobs`, "a double quote is not closed"),
		Entry("text after a quoted part", `"jobs"x`, `unexpected "x" after the quoted part`),
		Entry("three parts", "a.b.c", "has 3 parts"),
		Entry("trailing dot", "jobs.", "ends with a dot"),
		Entry("empty part", "a..b", "has an empty part"),
	)
})

var _ = Describe("an injection attempt through a table name", func() {
	attempts := []string{
		`jobs; DROP TABLE jobs; --`,
		`jobs"; DROP TABLE jobs; --`,
		`"jobs"; DROP TABLE jobs; --`,
		`jobs WHERE false; DROP TABLE jobs`,
		`public.jobs; DELETE FROM jobs`,
		`x') OR 1=1; DROP TABLE jobs; --`,
	}
	matchers := map[string]func(string) types.GomegaMatcher{
		"HaveTable":      func(n string) types.GomegaMatcher { return gsql.HaveTable(n) },
		"HaveColumn":     func(n string) types.GomegaMatcher { return gsql.HaveColumn(n, "id") },
		"HaveIndex":      func(n string) types.GomegaMatcher { return gsql.HaveIndex(n, "jobs_pkey") },
		"HaveConstraint": func(n string) types.GomegaMatcher { return gsql.HaveConstraint(n, "jobs_pkey") },
		"HaveRowCount":   func(n string) types.GomegaMatcher { return gsql.HaveRowCount(n, 3) },
		"HaveRow":        func(n string) types.GomegaMatcher { return gsql.HaveRow(n, gsql.Columns{"id": 1}) },
	}

	It("fails, and leaves the database untouched", func() {
		for name, m := range matchers {
			for _, attempt := range attempts {
				ok, err := m(attempt).Match(pool)
				Expect(ok).To(BeFalse(), "%s(%q) matched", name, attempt)
				if err != nil {
					Expect(err.Error()).To(Or(
						ContainSubstring("does not exist"),
						ContainSubstring("quoted part")),
						"%s(%q)", name, attempt)
				}
			}
		}
		Expect(pool).To(gsql.HaveTable("jobs"))
		Expect(pool).To(gsql.HaveRowCount("jobs", 3))
	})

	It("is looked up as one odd name", func() {
		_, err := gsql.HaveRowCount(`jobs; DROP TABLE jobs; --`, 3).Match(pool)
		Expect(err).To(MatchError(ContainSubstring(`relation "jobs; DROP TABLE jobs; --" does not exist`)))
	})
})

var _ = Describe("time limits", func() {
	// hold locks jobs until the spec ends, so that reading it blocks.
	hold := func(ctx context.Context) {
		c := openConn(ctx, "application_name=locker")
		_, err := c.Exec(ctx, "BEGIN; LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE")
		Expect(err).NotTo(HaveOccurred())
	}

	It("gives up on a blocked query after the matcher's timeout", func(ctx SpecContext) {
		hold(ctx)
		start := time.Now()
		_, err := gsql.HaveRowCount("jobs", 3).WithTimeout(300 * time.Millisecond).Match(pool)
		Expect(err).To(MatchError(ContainSubstring("gsql gives each check 300ms; raise it with WithTimeout or SetDefaultTimeout")))
		Expect(time.Since(start)).To(BeNumerically("<", 2*time.Second))
	})

	It("gives up after the default timeout, which a suite can change", func(ctx SpecContext) {
		Expect(gsql.DefaultTimeout()).To(Equal(5 * time.Second))
		previous := gsql.SetDefaultTimeout(200 * time.Millisecond)
		DeferCleanup(gsql.SetDefaultTimeout, previous)
		hold(ctx)
		_, err := gsql.HaveRow("jobs", gsql.Columns{"id": 1}).Match(pool)
		Expect(err).To(MatchError(ContainSubstring("gsql gives each check 200ms")))
		_, err = gsql.Rows(ctx, pool, "SELECT * FROM jobs")
		Expect(err).To(MatchError(ContainSubstring("gsql gives each check 200ms")))
	})

	It("stops when the context given to WithContext ends", func(ctx SpecContext) {
		hold(ctx)
		short, cancel := context.WithCancel(ctx)
		time.AfterFunc(200*time.Millisecond, cancel)
		start := time.Now()
		_, err := gsql.HaveRowCount("jobs", 3).WithContext(short).Match(pool)
		Expect(err).To(MatchError(ContainSubstring("context canceled")))
		Expect(time.Since(start)).To(BeNumerically("<", 2*time.Second))
	})

	It("leaves a configured matcher unchanged for others", func() {
		base := gsql.HaveRowCount("jobs", 3)
		_ = base.WithTimeout(time.Nanosecond)
		Expect(pool).To(base)
	})
})
