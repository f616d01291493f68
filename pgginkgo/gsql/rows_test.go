package gsql_test

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/pgginkgo/gsql"
)

const everyType = `SELECT 1::int2 AS i2, 2::int4 AS i4, 3::int8 AS i8, 1.5::float4 AS f4, 2.25::float8 AS f8,
  12.50::numeric(10,2) AS num, 'x'::text AS txt, 'ab'::varchar(5) AS vc, true AS yes,
  '2024-05-01 12:00:00+00'::timestamptz AS tstz, '2024-05-01'::date AS day,
  '\x0102'::bytea AS bin, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS id,
  '{"a": 1, "b": [true, null]}'::jsonb AS doc, '[1, "two"]'::json AS list,
  'done'::job_state AS state, NULL::text AS nothing`

var _ = Describe("Rows", func() {
	wantEveryType := map[string]any{
		"i2": int64(1), "i4": int64(2), "i8": int64(3), "f4": float64(1.5), "f8": 2.25,
		"num": "12.50", "txt": "x", "vc": "ab", "yes": true,
		"tstz": BeTemporally("==", time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)),
		"day":  BeTemporally("==", time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)),
		"bin":  []byte{1, 2}, "id": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
		"doc":  map[string]any{"a": float64(1), "b": []any{true, nil}},
		"list": []any{float64(1), "two"}, "state": "done", "nothing": BeNil(),
	}

	expectEveryType := func(rows []map[string]any) {
		GinkgoHelper()
		Expect(rows).To(HaveLen(1))
		Expect(rows[0]).To(HaveLen(len(wantEveryType)))
		for col, want := range wantEveryType {
			if m, ok := want.(interface{ Match(any) (bool, error) }); ok {
				Expect(rows[0][col]).To(m.(OmegaMatcher), col)
			} else {
				Expect(rows[0][col]).To(Equal(want), col)
			}
		}
	}

	It("normalises values to a few Go types", func(ctx SpecContext) {
		rows, err := gsql.Rows(ctx, pool, everyType)
		Expect(err).NotTo(HaveOccurred())
		expectEveryType(rows)
	})

	It("gives the same types through every kind of handle", func(ctx SpecContext) {
		for _, db := range []any{openConn(ctx, ""), openSQL("pgx"), openSQL("postgres"), &specDB{pool: pool}} {
			rows, err := gsql.Rows(ctx, db, everyType)
			Expect(err).NotTo(HaveOccurred())
			expectEveryType(rows)
		}
	})

	It("gives arrays as []any, except through drivers other than pgx", func(ctx SpecContext) {
		rows, err := gsql.Rows(ctx, pool, `SELECT ARRAY[1, 2] AS a, interval '1 day' AS d, '10.0.0.1'::inet AS ip`)
		Expect(err).NotTo(HaveOccurred())
		Expect(rows).To(ConsistOf(map[string]any{"a": []any{int64(1), int64(2)}, "d": "1 day 00:00:00", "ip": "10.0.0.1/32"}))
		rows, err = gsql.Rows(ctx, openSQL("postgres"), `SELECT ARRAY[1, 2] AS a`)
		Expect(err).NotTo(HaveOccurred())
		Expect(rows).To(ConsistOf(map[string]any{"a": "{1,2}"}))
	})

	It("takes arguments and works with any Gomega matcher", func(ctx SpecContext) {
		rows, err := gsql.Rows(ctx, pool, "SELECT queue, attempts FROM jobs WHERE attempts >= $1 ORDER BY id", 2)
		Expect(err).NotTo(HaveOccurred())
		Expect(rows).To(Equal([]map[string]any{
			{"queue": "mail", "attempts": int64(2)},
			{"queue": "sms", "attempts": int64(5)},
		}))
	})

	It("polls from Eventually through a function", func(ctx SpecContext) {
		time.AfterFunc(100*time.Millisecond, func() {
			_, _ = pool.Exec(context.Background(), "UPDATE jobs SET state = 'done' WHERE queue = 'sms'")
		})
		Eventually(ctx, func(ctx context.Context) ([]map[string]any, error) {
			return gsql.Rows(ctx, pool, "SELECT state FROM jobs WHERE queue = $1", "sms")
		}).Should(ContainElement(HaveKeyWithValue("state", "done")))
	})

	It("reports a failing query with the database and SQL", func(ctx SpecContext) {
		_, err := gsql.Rows(ctx, pool, "SELECT nope FROM jobs WHERE id = $1", 1)
		Expect(err).To(MatchError(And(
			ContainSubstring(`gsql.Rows: in database "gsql_test_`),
			ContainSubstring("SELECT nope FROM jobs WHERE id = $1\n    -- with $1 = 1"),
			ContainSubstring(`column "nope" does not exist`))))
		var pgErr *pgconn.PgError
		Expect(errors.As(err, &pgErr)).To(BeTrue())
		Expect(pgErr.Code).To(Equal("42703"))
	})
})

var _ = Describe("failure messages", func() {
	It("cut long tables to ten rows and say how many were left out", func() {
		msg := InterceptGomegaFailure(func() { Expect(pool).To(gsql.HaveRowCount("numbers", 24)) }).Error()
		Expect(msg).To(ContainSubstring("Rows of \"numbers\" (25 rows):\n    n  | word\n    ---+----------\n     1 | number 1\n"))
		Expect(msg).To(ContainSubstring("    10 | number 10\n    … 15 more rows not shown\n"))
		Expect(msg).NotTo(ContainSubstring("number 11"))

		msg = InterceptGomegaFailure(func() { Expect(pool).To(gsql.HaveRows("SELECT * FROM numbers").That(BeEmpty())) }).Error()
		Expect(msg).To(ContainSubstring("… 15 more rows not shown"))
		msg = InterceptGomegaFailure(func() { Expect(pool).To(gsql.HaveRow("numbers", gsql.Columns{"n": 99})) }).Error()
		Expect(msg).To(ContainSubstring("but none of its 25 rows does."))
		msg = InterceptGomegaFailure(func() { Expect(pool).To(gsql.HaveRow("numbers", gsql.Columns{"n": 20, "word": "twenty"})) }).Error()
		Expect(msg).To(ContainSubstring("The closest row, row 20, differs in:\n    word: Expected\n        <string>: number 20\n    to equal\n        <string>: twenty\n    n  | word\n    ---+----------\n    20 | number 20\n"))
		Expect(msg).To(ContainSubstring("… 15 more rows not shown"))
	})

	It("shorten long values and keep each row on one line", func(ctx SpecContext) {
		exec(ctx, `INSERT INTO numbers VALUES (100, repeat('x', 100) || E'\nsecond line')`)
		msg := InterceptGomegaFailure(func() {
			Expect(pool).To(gsql.HaveRows("SELECT word FROM numbers WHERE n = 100").That(BeEmpty()))
		}).Error()
		Expect(msg).To(ContainSubstring("    xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…\n"))
	})
})

var _ = Describe("HaveRows", func() {
	It("passes the rows to That's matcher as Rows returns them", func() {
		Expect(pool).To(gsql.HaveRows("SELECT queue, price FROM jobs WHERE price IS NOT NULL ORDER BY id").That(Equal([]map[string]any{
			{"queue": "mail", "price": "12.50"},
			{"queue": "sms", "price": "3.00"},
		})))
		Expect(pool).To(gsql.HaveRows("SELECT 1 WHERE false").That(BeEmpty()))
		Expect(pool).NotTo(gsql.HaveRows("SELECT 1 WHERE false"))
	})

	It("keeps That through WithContext and WithTimeout", func(ctx SpecContext) {
		m := gsql.HaveRows("SELECT 1 AS one").WithTimeout(time.Second).WithContext(ctx).That(HaveLen(1))
		Expect(pool).To(m)
		Expect(pool).To(gsql.HaveRows("SELECT 1 AS one").That(HaveLen(1)).WithTimeout(time.Second))
	})

	It("reports a failing query as an error", func() {
		_, err := gsql.HaveRows("SELEC 1").Match(pool)
		Expect(err).To(MatchError(ContainSubstring(`syntax error at or near "SELEC"`)))
	})
})
