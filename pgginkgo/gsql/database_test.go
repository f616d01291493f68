package gsql_test

import (
	"context"
	"database/sql"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/pgginkgo/gsql"
)

// specDB stands in for pgginkgo's spec database, which gsql knows only
// through its Pool method.
type specDB struct{ pool *pgxpool.Pool }

func (d *specDB) Pool() *pgxpool.Pool { return d.pool }
func (d *specDB) Name() string        { return dbName }
func (d *specDB) URL() string         { return server.url(dbName) }
func (d *specDB) SQL() *sql.DB        { return nil }

var _ = Describe("what a matcher accepts as the database", func() {
	It("takes a *pgxpool.Pool", func() {
		Expect(pool).To(gsql.HaveRowCount("jobs", 3))
	})

	It("takes a *pgx.Conn", func(ctx SpecContext) {
		Expect(openConn(ctx, "")).To(gsql.HaveRowCount("jobs", 3))
	})

	It("takes a *sql.DB with the pgx driver", func() {
		Expect(openSQL("pgx")).To(gsql.HaveRowCount("jobs", 3))
	})

	It("takes a *sql.DB with another driver", func() {
		Expect(openSQL("postgres")).To(gsql.HaveRow("jobs", gsql.Columns{"price": "12.50", "payload": map[string]any{"to": "ann"}}))
	})

	It("takes anything with a Pool method, such as pgginkgo's spec database", func() {
		var db gsql.PoolProvider = &specDB{pool: pool}
		Expect(db).To(gsql.HaveTable("jobs"))
	})

	It("polls a function handed to Eventually", func(ctx SpecContext) {
		Eventually(func() *pgxpool.Pool { return pool }).Should(gsql.HaveRowCount("jobs", 3))
		Eventually(ctx, func(ctx context.Context) (*pgxpool.Pool, error) { return pool, nil }).Should(gsql.HaveRowCount("jobs", 3))
		Consistently(pool).WithTimeout(100 * time.Millisecond).Should(gsql.HaveRowCount("jobs", 3))
	})

	It("polls with Eventually's context", func(ctx SpecContext) {
		Eventually(ctx, pool).Should(gsql.HaveRowCount("jobs", 3).WithContext(ctx))
	})

	Describe("refusing anything else", func() {
		It("names the accepted types and shows the value", func() {
			_, err := gsql.HaveTable("jobs").Match(42)
			Expect(err).To(MatchError(HavePrefix("gsql.HaveTable expects a *pgxpool.Pool, a *pgxpool.Conn, a *pgx.Conn, a pgx.Tx, a *sql.DB or a gsql.PoolProvider")))
			Expect(err.Error()).To(ContainSubstring("<int>: 42"))
		})

		It("refuses nil and a nil pool", func() {
			_, err := gsql.HaveTable("jobs").Match(nil)
			Expect(err).To(MatchError(ContainSubstring("<nil>: nil")))
			_, err = gsql.HaveTable("jobs").Match((*pgxpool.Pool)(nil))
			Expect(err).To(MatchError(ContainSubstring("expects a *pgxpool.Pool")))
		})

		It("says when a PoolProvider has no pool", func() {
			_, err := gsql.HaveTable("jobs").Match(&specDB{})
			Expect(err).To(MatchError(ContainSubstring("*gsql_test.specDB.Pool() returned nil")))
		})

		It("points Expect of a function to Eventually", func() {
			_, err := gsql.HaveTable("jobs").Match(func() *pgxpool.Pool { return pool })
			Expect(err).To(MatchError(ContainSubstring("pass it to Eventually or Consistently")))
		})

		It("makes Eventually give up at once", func() {
			start := time.Now()
			msg := InterceptGomegaFailure(func() {
				Eventually("not a database").WithTimeout(5 * time.Second).Should(gsql.HaveTable("jobs"))
			})
			Expect(msg).To(MatchError(ContainSubstring("expects a *pgxpool.Pool")))
			Expect(time.Since(start)).To(BeNumerically("<", 2*time.Second))
		})

		It("refuses the same in Rows and Connections", func(ctx SpecContext) {
			_, err := gsql.Rows(ctx, "db", "SELECT 1")
			Expect(err).To(MatchError(HavePrefix("gsql.Rows expects a *pgxpool.Pool")))
			_, err = gsql.Connections(ctx, "db")
			Expect(err).To(MatchError(HavePrefix("gsql.Connections expects a *pgxpool.Pool")))
		})
	})
})

var _ = Describe("Eventually", func() {
	It("waits for a row that another goroutine inserts after 200 ms", func(ctx SpecContext) {
		done := make(chan error, 1)
		go func() {
			defer GinkgoRecover()
			time.Sleep(200 * time.Millisecond)
			_, err := pool.Exec(context.Background(), `INSERT INTO jobs (queue, state) VALUES ('late', 'done')`)
			done <- err
		}()
		Expect(pool).NotTo(gsql.HaveRow("jobs", gsql.Columns{"queue": "late"}))
		start := time.Now()
		Eventually(ctx, pool).Should(gsql.HaveRow("jobs", gsql.Columns{"queue": "late", "state": "done"}))
		Expect(time.Since(start)).To(BeNumerically(">=", 150*time.Millisecond))
		Expect(pool).To(gsql.HaveRowCount("jobs", 4))
		Expect(<-done).To(Succeed())
	})

	It("stops when the spec's context ends", func(ctx SpecContext) {
		short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		msg := InterceptGomegaFailure(func() {
			Eventually(short, pool).Should(gsql.HaveRowCount("jobs", 99).WithContext(short))
		})
		Expect(msg).To(MatchError(ContainSubstring("Context was cancelled")))
		Expect(time.Since(start)).To(BeNumerically("<", 2*time.Second))
	})
})
