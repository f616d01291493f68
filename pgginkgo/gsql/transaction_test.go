package gsql_test

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/pgginkgo/gsql"
)

// begin starts a transaction on the suite's pool, rolled back when the spec
// ends unless the spec ends it first.
func begin(ctx context.Context) pgx.Tx {
	GinkgoHelper()
	tx, err := pool.Begin(ctx)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func(ctx SpecContext) { _ = tx.Rollback(ctx) })
	return tx
}

// acquire checks a connection out of the suite's pool, rolled back and
// released when the spec ends (Release may be called twice).
func acquire(ctx context.Context) *pgxpool.Conn {
	GinkgoHelper()
	c, err := pool.Acquire(ctx)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func(ctx SpecContext) {
		_, _ = c.Exec(ctx, "ROLLBACK")
		c.Release()
	})
	return c
}

// txExec runs SQL in a transaction, failing the spec if it fails.
func txExec(ctx context.Context, tx pgx.Tx, sql string, args ...any) {
	GinkgoHelper()
	_, err := tx.Exec(ctx, sql, args...)
	Expect(err).NotTo(HaveOccurred())
}

var _ = Describe("a transaction as the database", func() {
	uncommitted := gsql.Columns{"queue": "uncommitted"}

	It("shows the rows a pgx.Tx wrote and did not commit, which the pool does not see", func(ctx SpecContext) {
		tx := begin(ctx)
		txExec(ctx, tx, `INSERT INTO jobs (queue) VALUES ('uncommitted')`)

		Expect(tx).To(gsql.HaveRow("jobs", uncommitted))
		Expect(pool).NotTo(gsql.HaveRow("jobs", uncommitted))
		Expect(tx).To(gsql.HaveRowCount("jobs", 4))
		Expect(pool).To(gsql.HaveRowCount("jobs", 3))
		Expect(tx).To(gsql.HaveRows("SELECT 1 FROM jobs WHERE queue = $1", "uncommitted"))
		rows, err := gsql.Rows(ctx, tx, "SELECT queue FROM jobs WHERE queue = 'uncommitted'")
		Expect(err).NotTo(HaveOccurred())
		Expect(rows).To(ConsistOf(HaveKeyWithValue("queue", "uncommitted")))

		Expect(tx.Commit(ctx)).To(Succeed())
		Expect(pool).To(gsql.HaveRow("jobs", uncommitted))
	})

	It("does the same through a transaction of a *pgx.Conn and a savepoint of it", func(ctx SpecContext) {
		conn := openConn(ctx, "")
		tx, err := conn.Begin(ctx)
		Expect(err).NotTo(HaveOccurred())
		nested, err := tx.Begin(ctx)
		Expect(err).NotTo(HaveOccurred())
		txExec(ctx, nested, `INSERT INTO jobs (queue) VALUES ('uncommitted')`)

		Expect(nested).To(gsql.HaveRow("jobs", uncommitted))
		Expect(tx).To(gsql.HaveRow("jobs", uncommitted))
		Expect(conn).To(gsql.HaveRow("jobs", uncommitted), "the *pgx.Conn has the transaction open")
		Expect(pool).NotTo(gsql.HaveRow("jobs", uncommitted))
		Expect(nested.Rollback(ctx)).To(Succeed())
		Expect(tx).NotTo(gsql.HaveRow("jobs", uncommitted))
		Expect(tx.Rollback(ctx)).To(Succeed())
	})

	It("shows the rows a *pgxpool.Conn's open transaction wrote, which the pool does not see", func(ctx SpecContext) {
		c := acquire(ctx)
		Expect(c).To(gsql.HaveRowCount("jobs", 3), "with no transaction open")
		_, err := c.Exec(ctx, `BEGIN; INSERT INTO jobs (queue) VALUES ('uncommitted')`)
		Expect(err).NotTo(HaveOccurred())

		Expect(c).To(gsql.HaveRow("jobs", uncommitted))
		Expect(c).To(gsql.HaveRowCount("jobs", 4))
		Expect(pool).NotTo(gsql.HaveRow("jobs", uncommitted))
		Expect(pool).To(gsql.HaveRowCount("jobs", 3))
	})

	It("shows schema changes and roles that the transaction has not committed", func(ctx SpecContext) {
		role := fmt.Sprintf("gsql_tx_role_%d", GinkgoParallelProcess())
		tx := begin(ctx)
		txExec(ctx, tx, `CREATE TABLE drafts (id int PRIMARY KEY, body text);
ALTER TABLE numbers ADD COLUMN roman text;
CREATE INDEX jobs_state_idx ON jobs (state);
CREATE ROLE `+role)

		Expect(tx).To(gsql.HaveTable("drafts"))
		Expect(tx).To(gsql.HaveColumnOfType("drafts", "body", "text"))
		Expect(tx).To(gsql.HaveConstraint("drafts", "drafts_pkey"))
		Expect(tx).To(gsql.HaveColumn("numbers", "roman"))
		Expect(tx).To(gsql.HaveIndex("jobs", "jobs_state_idx"))
		Expect(tx).To(gsql.HaveIndexOn("jobs", "state"))
		Expect(tx).To(gsql.HaveRole(role))

		Expect(pool).NotTo(gsql.HaveTable("drafts"))
		Expect(pool).NotTo(gsql.HaveColumn("numbers", "roman"))
		Expect(pool).NotTo(gsql.HaveIndex("jobs", "jobs_state_idx"))
		Expect(pool).NotTo(gsql.HaveRole(role))
	})

	It("says in a failure message that it looked inside the transaction", func(ctx SpecContext) {
		tx := begin(ctx)
		msg := InterceptGomegaFailure(func() { Expect(tx).To(gsql.HaveRowCount("jobs", 4)) }).Error()
		Expect(msg).To(HavePrefix(fmt.Sprintf("Expected table \"jobs\" to have 4 rows, but it has 3.\nIn database %q inside the open transaction, gsql ran:\n    SELECT count(*) FROM \"jobs\"\n", dbName)))
	})

	Describe("a query that fails", func() {
		It("is reported, and leaves the transaction usable", func(ctx SpecContext) {
			tx := begin(ctx)
			txExec(ctx, tx, `INSERT INTO jobs (queue) VALUES ('uncommitted')`)

			_, err := gsql.HaveRowCount("nope", 0).Match(tx)
			Expect(err).To(MatchError(ContainSubstring(`relation "nope" does not exist`)))
			_, err = gsql.HaveRows("SELECT no_such_column FROM jobs").Match(tx)
			Expect(err).To(MatchError(ContainSubstring(`column "no_such_column" does not exist`)))
			_, err = gsql.Rows(ctx, tx, "SELECT 1/0")
			Expect(err).To(MatchError(ContainSubstring("division by zero")))

			txExec(ctx, tx, `INSERT INTO jobs (queue) VALUES ('after the failures')`)
			Expect(tx).To(gsql.HaveRowCount("jobs", 5))
			Expect(tx.Commit(ctx)).To(Succeed())
			Expect(pool).To(gsql.HaveRow("jobs", uncommitted))
			Expect(pool).To(gsql.HaveRow("jobs", gsql.Columns{"queue": "after the failures"}))
		})

		It("leaves a *pgxpool.Conn's transaction usable too", func(ctx SpecContext) {
			c := acquire(ctx)
			_, err := c.Exec(ctx, `BEGIN; INSERT INTO jobs (queue) VALUES ('uncommitted')`)
			Expect(err).NotTo(HaveOccurred())
			_, err = gsql.HaveTable("jobs").Match(c)
			Expect(err).NotTo(HaveOccurred())
			_, err = gsql.HaveRow("nope", uncommitted).Match(c)
			Expect(err).To(MatchError(ContainSubstring(`relation "nope" does not exist`)))
			_, err = c.Exec(ctx, "COMMIT")
			Expect(err).NotTo(HaveOccurred())
			Expect(pool).To(gsql.HaveRow("jobs", uncommitted))
		})

		It("stops at the check's timeout on the server, so the transaction survives", func(ctx SpecContext) {
			tx := begin(ctx)
			locker := openConn(ctx, "application_name=locker")
			_, err := locker.Exec(ctx, "BEGIN; LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE")
			Expect(err).NotTo(HaveOccurred())

			start := time.Now()
			_, err = gsql.HaveRowCount("jobs", 3).WithTimeout(300 * time.Millisecond).Match(tx)
			Expect(err).To(MatchError(ContainSubstring("canceling statement due to statement timeout")))
			Expect(err).To(MatchError(HaveSuffix("gsql gives each check 300ms; raise it with WithTimeout or SetDefaultTimeout")))
			Expect(time.Since(start)).To(BeNumerically("<", 2*time.Second))

			Expect(tx).To(gsql.HaveRowCount("numbers", 25))
			var timeout string
			Expect(tx.QueryRow(ctx, "SHOW statement_timeout").Scan(&timeout)).To(Succeed())
			Expect(timeout).To(Equal("0"), "gsql's statement_timeout goes with its savepoint")
		})
	})

	It("leaves the transaction as it was, even after a query that writes", func(ctx SpecContext) {
		tx := begin(ctx)
		rows, err := gsql.Rows(ctx, tx, "INSERT INTO jobs (queue) VALUES ('written by Rows') RETURNING queue")
		Expect(err).NotTo(HaveOccurred())
		Expect(rows).To(ConsistOf(HaveKeyWithValue("queue", "written by Rows")))
		Expect(tx).NotTo(gsql.HaveRow("jobs", gsql.Columns{"queue": "written by Rows"}))
		Expect(tx).To(gsql.HaveRowCount("jobs", 3))
	})

	Describe("a transaction that cannot be looked through", func() {
		It("fails at once when it has ended", func(ctx SpecContext) {
			tx := begin(ctx)
			Expect(tx.Commit(ctx)).To(Succeed())
			_, err := gsql.HaveRow("jobs", uncommitted).Match(tx)
			Expect(err).To(MatchError("gsql.HaveRow: the transaction has ended (it was committed or rolled back); assert before Commit or Rollback, or pass the pool to see what was committed"))

			start := time.Now()
			failure := InterceptGomegaFailure(func() { Eventually(tx).WithTimeout(5 * time.Second).Should(gsql.HaveTable("jobs")) })
			Expect(failure).To(MatchError(ContainSubstring("the transaction has ended")))
			Expect(time.Since(start)).To(BeNumerically("<", 2*time.Second))
		})

		It("fails at once when an earlier statement of it failed", func(ctx SpecContext) {
			tx := begin(ctx)
			_, err := tx.Exec(ctx, "SELECT * FROM nope")
			Expect(err).To(HaveOccurred())
			_, err = gsql.HaveTable("jobs").Match(tx)
			Expect(err).To(MatchError("gsql.HaveTable: the transaction has failed: a statement in it failed earlier, and PostgreSQL ignores every command until the transaction is rolled back, or rolled back to a savepoint taken before the failure"))

			c := acquire(ctx)
			_, err = c.Exec(ctx, "BEGIN; SELECT * FROM nope")
			Expect(err).To(HaveOccurred())
			_, err = gsql.Rows(ctx, c, "SELECT 1")
			Expect(err).To(MatchError(HavePrefix("gsql.Rows: the transaction has failed: ")))
		})

		It("fails when the *pgxpool.Conn was released", func(ctx SpecContext) {
			c, err := pool.Acquire(ctx)
			Expect(err).NotTo(HaveOccurred())
			c.Release()
			_, err = gsql.HaveTable("jobs").Match(c)
			Expect(err).To(MatchError("gsql.HaveTable was given a *pgxpool.Conn that has been released to its pool; assert before Release, or pass the pool"))
		})
	})

	Describe("leak checks, which need the whole pool", func() {
		const expects = "It expects a *pgxpool.Pool, a *pgx.Conn, a *sql.DB or a gsql.PoolProvider (any value with a Pool() *pgxpool.Pool method, such as pgginkgo's spec database). Got:\n"

		It("refuse a pgx.Tx, naming what they take and what they got", func(ctx SpecContext) {
			tx := begin(ctx)
			pid := tx.Conn().PgConn().PID()
			_, err := gsql.HaveOpenConnections().Match(tx)
			Expect(err).To(MatchError("gsql.HaveOpenConnections needs the pool, not one connection or transaction of it, to tell the pool's idle connections from leaked ones. " +
				expects + fmt.Sprintf("    <*pgxpool.Tx>: a transaction on backend pid %d", pid)))
			_, err = gsql.Connections(ctx, tx)
			Expect(err).To(MatchError("gsql.Connections needs the pool, not one connection or transaction of it, to tell the pool's idle connections from leaked ones. " +
				expects + fmt.Sprintf("    <*pgxpool.Tx>: a transaction on backend pid %d", pid)))

			start := time.Now()
			failure := InterceptGomegaFailure(func() { Eventually(tx).WithTimeout(5 * time.Second).ShouldNot(gsql.HaveOpenConnections()) })
			Expect(failure).To(MatchError(ContainSubstring("needs the pool")))
			Expect(time.Since(start)).To(BeNumerically("<", 2*time.Second))
		})

		It("refuse a *pgxpool.Conn", func(ctx SpecContext) {
			c := acquire(ctx)
			_, err := gsql.HaveOpenConnections().Match(c)
			Expect(err).To(MatchError("gsql.HaveOpenConnections needs the pool, not one connection or transaction of it, to tell the pool's idle connections from leaked ones. " +
				expects + fmt.Sprintf("    <*pgxpool.Conn>: a connection acquired from a pool, backend pid %d", c.Conn().PgConn().PID())))
		})

		It("name the pool types, not the transaction, for anything else", func() {
			_, err := gsql.HaveOpenConnections().Match(42)
			Expect(err).To(MatchError("gsql.HaveOpenConnections expects a *pgxpool.Pool, a *pgx.Conn, a *sql.DB or a gsql.PoolProvider (any value with a Pool() *pgxpool.Pool method, such as pgginkgo's spec database). Got:\n    <int>: 42"))
		})
	})

	It("refuses a database/sql transaction, and says what to use instead", func(ctx SpecContext) {
		tx, err := openSQL("pgx").BeginTx(ctx, nil)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { _ = tx.Rollback() })
		_, err = gsql.HaveTable("jobs").Match(tx)
		Expect(err).To(MatchError("gsql.HaveTable expects a *pgxpool.Pool, a *pgxpool.Conn, a *pgx.Conn, a pgx.Tx, a *sql.DB or a gsql.PoolProvider (any value with a Pool() *pgxpool.Pool method, such as pgginkgo's spec database). Got:\n" +
			"    <*sql.Tx>: a database/sql transaction\n" +
			"gsql takes database/sql only as a *sql.DB; to assert what a transaction sees, begin it with pgx and pass the pgx.Tx."))
	})

	It("refuses a nil connection and a nil transaction", func() {
		_, err := gsql.HaveTable("jobs").Match((*pgxpool.Conn)(nil))
		Expect(err).To(MatchError(HaveSuffix("Got:\n    <*pgxpool.Conn | 0x0>: nil")))
		_, err = gsql.HaveTable("jobs").Match((*pgxpool.Tx)(nil))
		Expect(err).To(MatchError(HaveSuffix("Got:\n    <*pgxpool.Tx | 0x0>: nil")))
	})
})
